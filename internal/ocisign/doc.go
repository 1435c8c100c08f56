// Package ocisign verifies the signatures of OCI charts: cosign signatures (keyed with public
// keys, or keyless with a Sigstore trusted root and certificate identity rules), found under
// cosign's "sha256-<hex>.sig" tag or as Sigstore bundles among the chart manifest's referrers,
// and notation signatures (JWS or COSE envelopes among the referrers) checked against a trust
// policy and trust store. The formats are read and checked by the maintained libraries,
// github.com/sigstore/sigstore-go and github.com/notaryproject/notation-go; this package only
// builds their trust material from a Secret's data and matches what was signed to the chart.
// It is offline: it never contacts Fulcio, Rekor, a timestamp authority, or an OCSP or CRL
// server. The registry reads are internal/repo's.
package ocisign
