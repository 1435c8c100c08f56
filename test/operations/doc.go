// Package operations holds the operational scenarios of issue 6, proven on a whole local control
// plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok nodes
// (internal/testenv.StartCluster), so Deployments really become Available and Jobs really
// complete. The manager runs in the test process, set up exactly as main.go sets it up
// (controllers.Setup with options.Defaults), against the CRDs of config/crd/bases. The charts of
// testdata/charts (and cert-manager's chart from its Go module) are packaged with chart.Package,
// indexed with repo.IndexDirectory and served from a loopback HTTP server that every spec's
// ChartRepository points at.
//
// The scenarios: a failed health check times out and the upgrade is rolled back automatically;
// hooks run in weight order, their delete policies hold, and a failing pre-upgrade hook stops the
// upgrade with nothing else changed; drift made with kubectl edit and kubectl delete is corrected
// or reported; dependsOn orders three Releases; a Release whose service account lacks rights
// stalls without writing anything; and a health-gated install of cert-manager becomes Ready
// within a bound. Each spec runs in its own namespace and its duration is printed at the end.
//
// Run it with `go test ./test/operations/...` (add -v to see each spec's duration);
// CAPSTAN_TEST_LOG=1 copies the manager's log to the test output.
package operations
