// Command chartserver serves a directory of packaged charts — index.yaml and the .tgz archives it
// names — read-only over plain HTTP on a loopback address, as a Helm chart repository. `make run`
// and the end-to-end tests use it to serve the example charts under config/samples/charts.
//
//	go run ./hack/chartserver --dir DIR --addr 127.0.0.1:8879
//
// It answers GET and HEAD only, never lists directories, never serves dotfiles, and cannot be led
// outside DIR (paths are opened through an os.Root, so symbolic links that point out are refused).
// Each request is logged on standard error. Once listening it prints one line,
// "serving DIR at http://ADDR", on standard output, so a caller that asked for port 0 learns the
// port. SIGINT or SIGTERM stops it cleanly: in-flight requests finish and it exits 0.
//
// With --oci-addr it also serves the archives directly in DIR from an in-memory OCI registry, as
// oci://ADDR/<--oci-namespace>/<chart>:<version> with Helm's media types (what `helm push` makes),
// and announces that on a second line, "serving N charts (...) at oci://ADDR/NAMESPACE". The
// registry is filled in process before it listens, and refuses every write afterwards.
package main
