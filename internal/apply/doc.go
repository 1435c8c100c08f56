// Package apply writes a release's objects to the cluster and takes them away again. It dry-runs every
// object server-side before any write, applies in stages with server-side apply (CRDs and Namespaces
// first, then, once the CRDs are Established, everything else in the order given), carries Helm's
// ownership metadata so Helm and Capstan recognise each other's objects, refuses to touch objects that
// belong to someone else, prunes what a new revision no longer has (respecting
// helm.sh/resource-policy: keep), and compares the cluster with a revision for drift. It works on
// unstructured objects through whatever client it is given, so impersonation is the caller's choice.
package apply
