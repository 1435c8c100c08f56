// Package provenance signs and verifies Helm provenance files: the "<chart>.tgz.prov" that
// `helm package --sign` writes next to a chart archive and `helm verify` checks. A provenance
// file is an OpenPGP clear-signed message whose text is the chart's Chart.yaml (as YAML), the
// line "...", and a YAML map "files:" from the archive's file name to "sha256:<hex>" of its
// bytes. Verify checks the signature against a keyring, the archive's digest against that map
// and the chart's name and version against the signed Chart.yaml. The package is pure: it
// reads no files and touches no network; callers bring the bytes.
package provenance
