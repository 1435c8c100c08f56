package v1alpha1

// VerificationProvider names how a chart's signature is checked: pgp (Helm provenance files,
// http(s) repositories), cosign or notation (OCI repositories).
// +kubebuilder:validation:Enum=pgp;cosign;notation
type VerificationProvider string

const (
	// VerificationProviderPGP checks a Helm provenance file (<chart>.tgz.prov, an OpenPGP
	// clear-signed statement of the chart's Chart.yaml and archive digest) against an OpenPGP
	// keyring. Only for http(s) repositories.
	VerificationProviderPGP VerificationProvider = "pgp"

	// VerificationProviderCosign checks cosign signatures of the chart's OCI manifest, found
	// under cosign's sha256-<hex>.sig tag or as Sigstore bundles among its referrers: with
	// public keys (keyed), or with a Sigstore trusted root and matchOIDCIdentity (keyless).
	// Only for oci:// repositories.
	VerificationProviderCosign VerificationProvider = "cosign"

	// VerificationProviderNotation checks notation signatures of the chart's OCI manifest,
	// found among its referrers, with a notation trust policy and trust store. Only for oci://
	// repositories.
	VerificationProviderNotation VerificationProvider = "notation"
)

// TransparencyLogPolicy says whether cosign signatures must be recorded in a transparency log.
// +kubebuilder:validation:Enum=Required;Ignore
type TransparencyLogPolicy string

const (
	// TransparencyLogRequired accepts a cosign signature only with a transparency log entry
	// (Rekor) that verifies against a log of the trusted root; a keyless certificate is checked
	// at the entry's integrated time. The trust Secret must hold trusted_root.json.
	TransparencyLogRequired TransparencyLogPolicy = "Required"

	// TransparencyLogIgnore does not read transparency log entries: a key signature is checked
	// alone, and a keyless certificate must be valid at the time of the check (so short-lived
	// Fulcio certificates are refused; certificates of a private CA with a longer life work).
	TransparencyLogIgnore TransparencyLogPolicy = "Ignore"
)

// OIDCIdentityMatch is a keyless signer cosign verification accepts: both regular expressions
// (Go RE2 syntax) must match the whole value, as if written between ^ and $.
type OIDCIdentityMatch struct {
	// Issuer matches the OIDC issuer in the certificate, such as
	// https://token\.actions\.githubusercontent\.com.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +required
	Issuer string `json:"issuer"`

	// Subject matches the certificate's identity (its subject alternative name: an email
	// address, or a URI such as a workflow's
	// https://github\.com/example/charts/\.github/workflows/release\.yaml@refs/heads/main).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +required
	Subject string `json:"subject"`
}

// VerificationMode says what a failed verification does.
// +kubebuilder:validation:Enum=enforce;warn
type VerificationMode string

const (
	// VerificationModeEnforce stops the Release before rendering when the signature is
	// missing, does not verify or does not match the chart: nothing is applied.
	VerificationModeEnforce VerificationMode = "enforce"

	// VerificationModeWarn records a failed verification (the Verified condition and an event)
	// and goes on with the chart.
	VerificationModeWarn VerificationMode = "warn"
)

// ChartVerification says how the charts of a repository, or of one Release, are verified
// before anything from them runs.
// +kubebuilder:validation:XValidation:rule="!has(self.matchOIDCIdentity) || self.provider == 'cosign'",message="matchOIDCIdentity is only used by provider cosign (keyless)",fieldPath=".matchOIDCIdentity"
// +kubebuilder:validation:XValidation:rule="!has(self.transparencyLog) || self.provider == 'cosign'",message="transparencyLog is only used by provider cosign",fieldPath=".transparencyLog"
type ChartVerification struct {
	// Provider is how signatures are checked: pgp (Helm provenance files of http(s)
	// repositories), cosign or notation (signatures of OCI charts).
	// +required
	Provider VerificationProvider `json:"provider"`

	// SecretRef names a Secret in the referring object's namespace holding the trust material.
	// For pgp: the key keyring (or keyring.gpg) holding an OpenPGP public keyring, ASCII-armored
	// or binary (as `gpg --export` writes it). Every key in it is trusted.
	// For cosign: PEM public keys under keys ending in .pub (cosign.pub), each trusted; and
	// trusted_root.json, a Sigstore trusted root, for keyless verification and for checking
	// transparency log entries.
	// For notation: trustpolicy.json, a notation trust policy document, and the trust store's
	// PEM certificates under keys ending in .crt or .pem; every trust store the policy names
	// holds all of them.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`

	// MatchOIDCIdentity makes cosign verification keyless: a signature is accepted when its
	// certificate chains to a certificate authority of the Secret's trusted_root.json and its
	// subject and issuer match one of these entries. Without it, cosign verification is keyed.
	// Only for provider cosign.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	MatchOIDCIdentity []OIDCIdentityMatch `json:"matchOIDCIdentity,omitempty"`

	// TransparencyLog is Required (the default: every cosign signature needs a transparency
	// log entry verified against the trusted root's logs, offline) or Ignore (entries are not
	// read). Only for provider cosign.
	// +optional
	TransparencyLog TransparencyLogPolicy `json:"transparencyLog,omitempty"`

	// Mode is enforce (the default: an unverified chart stops the Release before rendering) or
	// warn (the failure is recorded and the chart is used anyway).
	// +kubebuilder:default=enforce
	// +optional
	Mode VerificationMode `json:"mode,omitempty"`
}

// GetMode returns spec.mode, or VerificationModeEnforce when it is not set.
func (in *ChartVerification) GetMode() VerificationMode {
	if in == nil || in.Mode == "" {
		return VerificationModeEnforce
	}
	return in.Mode
}

// GetTransparencyLog returns spec.transparencyLog, or TransparencyLogRequired when it is not
// set.
func (in *ChartVerification) GetTransparencyLog() TransparencyLogPolicy {
	if in == nil || in.TransparencyLog == "" {
		return TransparencyLogRequired
	}
	return in.TransparencyLog
}

// VerificationStatus records the signature check of the chart a Release last loaded.
type VerificationStatus struct {
	// Provider that checked the signature.
	// +kubebuilder:validation:MaxLength=32
	// +optional
	Provider VerificationProvider `json:"provider,omitempty"`

	// ChartName and ChartVersion of the verified chart.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ChartName string `json:"chartName,omitempty"`

	// ChartVersion of the verified chart.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	ChartVersion string `json:"chartVersion,omitempty"`

	// Digest of the verified archive, sha256:<hex>.
	// +kubebuilder:validation:MaxLength=80
	// +optional
	Digest string `json:"digest,omitempty"`

	// Fingerprint of the key that made the signature (upper-case hex): the OpenPGP key's
	// fingerprint (pgp), the SHA-256 of the public key (cosign keyed) or of the signing
	// certificate (cosign keyless, notation).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Fingerprint string `json:"fingerprint,omitempty"`

	// Signer is the identity of the signer: the key's user id, such as "Jane Doe
	// <jane@example.com>" (pgp); the Secret key of the public key that verified (cosign
	// keyed); the certificate's subject alternative name (cosign keyless) or subject (notation).
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Signer string `json:"signer,omitempty"`

	// Issuer is the OIDC issuer of a keyless certificate (cosign), or the issuer of the signing
	// certificate (notation).
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Issuer string `json:"issuer,omitempty"`
}
