// Package conformance checks that `capstan template` renders charts the way `helm template`
// v4.3.1 does. It replays the probe charts in testdata/probes (byte for byte, errors
// included) and renders real-world charts pinned in corpus.yaml, fetched from public Go modules,
// against golden files made by the reference helm binary (`make golden`). This file's package
// also gives hack/golden.sh and hack/bench-template.sh the resolved corpus.
package conformance
