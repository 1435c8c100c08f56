// Package openset is the open-set install test of issue 5: real charts that Capstan was not
// written against (cert-manager, gatekeeper and metallb, taken at pinned versions from the Go
// modules that ship them) are installed by the production Release controller into envtest, and
// their live objects are compared one to one with what the reference `helm template` renders for
// the same archive, values and capabilities. The suite also measures cert-manager's install and
// upgrade times, the mutating API calls of a no-op reconcile and the size of a revision record;
// docs/openset.md records the numbers and the decisions behind the comparison.
package openset
