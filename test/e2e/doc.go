// Package e2e holds Capstan's end-to-end stories: a whole local control plane with kwok nodes
// (internal/testenv.StartCluster), the real bin/manager running as its own process, the example
// charts of config/samples/charts packaged by bin/capstan and served by hack/chartserver, and
// the real kubectl driving everything the way a user would.
//
// The suite (`make test-e2e`, or `go test ./test/e2e/...`) builds the binaries into a temporary
// directory, so it never races a `make run` that uses bin/. The manager's and the chart server's
// logs are printed for every failed spec.
//
// The user stories (docs/e2e.md) install, upgrade, break, automatically and manually roll back,
// and delete the example chart hello, and install the stack chart with its subchart and
// post-install hook from the OCI registry, checking the cluster, the Release status, bin/capstan
// and the reference helm's view of the same revision records.
package e2e
