// Package cli holds what the release commands of the capstan CLI share: loading a kubeconfig with
// the standard -n/--namespace, --kubeconfig and --context flags, finding a Release and the
// revision records of its Helm release, laying out tables and values the way the helm CLI prints
// them, and the protocol for asking the controller to act on a Release — setting the
// capstan.dev/rollback-to or capstan.dev/test annotation, then reading the outcome back from the
// Release's status. The cobra commands themselves live in cmd/capstan; this package has no
// global state and takes every collaborator as an argument, so it tests without a terminal.
package cli
