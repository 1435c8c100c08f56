// Package api holds the API-contract suite of capstan.dev/v1alpha1: it installs the generated
// CRDs into a real kube-apiserver (envtest) and proves what the schema promises users: the
// samples are accepted, invalid objects are rejected with a message naming the field, defaults
// and the status subresource behave, and kubectl shows the declared columns and documentation.
package api
