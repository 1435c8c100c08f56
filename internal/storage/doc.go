// Package storage owns Capstan's revision records: one Kubernetes Secret per release revision,
// written in Helm's own release-Secret format (`sh.helm.release.v1.<name>.v<N>`, type
// `helm.sh/release.v1`, base64 of gzipped JSON under `data.release`, labels
// name/owner/status/version) so that the helm CLI lists, inspects and upgrades what Capstan
// recorded, and Capstan continues the history of a release that `helm install` created. It
// defines the record types and their codec, maps records to Secrets, checks the 1 MiB Secret
// limit before anything is applied, and provides a store on a controller-runtime client with
// create-only writes (a create conflict means another writer), status transitions guarded by
// resourceVersion, history pruning that keeps the last deployed revision, and recovery of
// revisions left pending by a crash.
package storage
