// Package security holds the trust-boundary suite: every row of the attack table in
// docs/security.md is a spec here. The suite starts a private local cluster (RBAC on), installs
// config/default's CRDs and RBAC (the manager's Deployment aside), runs the real bin/manager as
// its own service account (a TokenRequest token in a kubeconfig, the args of
// config/manager/manager.yaml), and acts as tenants: impersonated users bound to the built-in
// edit and view roles in their own namespaces. Each attack spec asserts that the attack is
// refused with a clear reason, that nothing was written, and that a canary Secret value
// appears nowhere: not in status, events, the manager's log or other objects.
//
// Adding a row: write a spec with the helpers of harness_test.go (tenant.release,
// expectRefused, expectNothingWritten, expectCanaryNowhere), using the probe charts of
// testdata/charts, and add its name to the attack table.
package security
