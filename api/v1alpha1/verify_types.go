package v1alpha1

// VerificationProvider names how a chart's signature is checked. Only pgp (Helm provenance
// files) is implemented; cosign and notation for OCI charts are planned and will be added to
// the enum when they work, so that no accepted value is silently ignored.
// +kubebuilder:validation:Enum=pgp
type VerificationProvider string

const (
	// VerificationProviderPGP checks a Helm provenance file (<chart>.tgz.prov, an OpenPGP
	// clear-signed statement of the chart's Chart.yaml and archive digest) against an OpenPGP
	// keyring. Only for http(s) repositories.
	VerificationProviderPGP VerificationProvider = "pgp"
)

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
type ChartVerification struct {
	// Provider is how signatures are checked: pgp (Helm provenance files). The field is an
	// enum that will grow (cosign, notation for OCI charts).
	// +required
	Provider VerificationProvider `json:"provider"`

	// SecretRef names a Secret in the referring object's namespace holding the trust material.
	// For pgp: the key keyring (or keyring.gpg) holding an OpenPGP public keyring, ASCII-armored
	// or binary (as `gpg --export` writes it). Every key in it is trusted.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`

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

	// Fingerprint of the key that made the signature (upper-case hex).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Fingerprint string `json:"fingerprint,omitempty"`

	// Signer is the identity (user id, such as "Jane Doe <jane@example.com>") of the signing
	// key.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Signer string `json:"signer,omitempty"`
}
