package v1alpha1

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ChartRepositoryKind is the kind name of ChartRepository.
const ChartRepositoryKind = "ChartRepository"

const (
	// DefaultRepositoryInterval is how often a ChartRepository is fetched when spec.interval is
	// not set.
	DefaultRepositoryInterval = 10 * time.Minute

	// DefaultRepositoryTimeout bounds one fetch of a ChartRepository when spec.timeout is not set.
	DefaultRepositoryTimeout = 60 * time.Second
)

// OCIScheme is the URL scheme prefix of a ChartRepository that is an OCI registry namespace.
const OCIScheme = "oci://"

// ChartRepositorySpec says where charts come from and how to reach them.
// +kubebuilder:validation:XValidation:rule="!has(self.insecureSkipTLSVerify) || !self.insecureSkipTLSVerify || !self.url.startsWith('oci://')",message="insecureSkipTLSVerify is only supported for http(s) repositories; for an OCI registry with a private CA, put ca.crt in certSecretRef",fieldPath=".insecureSkipTLSVerify"
// +kubebuilder:validation:XValidation:rule="!has(self.plainHTTP) || !self.plainHTTP || self.url.startsWith('oci://')",message="plainHTTP is only supported for oci:// repositories; a Helm HTTP repository uses plain HTTP when its URL starts with http://",fieldPath=".plainHTTP"
// +kubebuilder:validation:XValidation:rule="!has(self.passCredentials) || !self.passCredentials || !self.url.startsWith('oci://')",message="passCredentials is only supported for http(s) repositories",fieldPath=".passCredentials"
// +kubebuilder:validation:XValidation:rule="!has(self.verify) || self.verify.provider != 'pgp' || !self.url.startsWith('oci://')",message="verify.provider pgp checks Helm provenance files of http(s) repositories; for an OCI repository use cosign or notation",fieldPath=".verify"
// +kubebuilder:validation:XValidation:rule="!has(self.verify) || self.verify.provider == 'pgp' || self.url.startsWith('oci://')",message="verify.provider cosign and notation check signatures of OCI charts; an http(s) repository has provenance files, checked by pgp",fieldPath=".verify"
type ChartRepositorySpec struct {
	// URL of the repository. An http:// or https:// URL names a Helm chart repository serving
	// index.yaml (for example https://charts.example.com/stable); an oci:// URL names an OCI
	// registry namespace whose repositories are charts (for example oci://ghcr.io/example/charts).
	// The scheme is lower case. User information, query strings and fragments are not allowed:
	// credentials belong in secretRef.
	// +kubebuilder:validation:MinLength=8
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^(https?|oci)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?(/[^\s?#]*)?$`
	// +required
	URL string `json:"url"`

	// Interval between two fetches of the repository, as a Go duration such as 10m or 1h30m.
	// Defaults to 10m.
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="interval must be a positive duration that fits in 290 years"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Timeout bounds one fetch of the index or of a chart, as a Go duration such as 60s.
	// Defaults to 60s.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="timeout must be a positive duration that fits in 290 years"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Suspend stops fetching the repository while true. Releases keep using the last index.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// SecretRef names a Secret in this namespace holding the repository's credentials: the keys
	// username and password (basic auth), or bearerToken, or for OCI a .dockerconfigjson.
	// Credentials are sent only to the repository's own scheme, host and port unless
	// passCredentials is true.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret in this namespace holding TLS material: ca.crt (the CA that
	// signs the server's certificate) and optionally tls.crt and tls.key (a client certificate).
	// +optional
	CertSecretRef *LocalObjectReference `json:"certSecretRef,omitempty"`

	// PassCredentials sends the credentials from secretRef also to hosts other than the
	// repository's own, when index.yaml points chart downloads elsewhere. Defaults to false.
	// Only for http(s) repositories.
	// +optional
	PassCredentials bool `json:"passCredentials,omitempty"`

	// InsecureSkipTLSVerify turns off verification of the server's TLS certificate. Only for
	// http(s) repositories; prefer certSecretRef with the CA. Defaults to false.
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`

	// PlainHTTP talks plain HTTP instead of HTTPS to an OCI registry. Only for oci://
	// repositories. Defaults to false.
	// +optional
	PlainHTTP bool `json:"plainHTTP,omitempty"`

	// Verify makes every Release of this repository verify its chart's signature before
	// anything from the chart runs, unless the Release sets spec.chart.verify itself. The
	// Secret it names is read from this namespace. pgp is only for http(s) repositories;
	// cosign and notation only for oci:// repositories.
	// +optional
	Verify *ChartVerification `json:"verify,omitempty"`
}

// IndexSummary describes the index.yaml last fetched from an HTTP repository.
type IndexSummary struct {
	// Digest of the index bytes as fetched, in the form sha256:<hex>.
	// +kubebuilder:validation:MaxLength=80
	// +required
	Digest string `json:"digest"`

	// Size of the index in bytes.
	// +kubebuilder:validation:Minimum=0
	// +required
	Size int64 `json:"size"`

	// Charts is the number of distinct charts in the index.
	// +kubebuilder:validation:Minimum=0
	// +required
	Charts int32 `json:"charts"`

	// Versions is the number of chart versions in the index, over all charts.
	// +kubebuilder:validation:Minimum=0
	// +required
	Versions int32 `json:"versions"`

	// FetchedAt is when the index was fetched.
	// +required
	FetchedAt metav1.Time `json:"fetchedAt"`
}

// ChartRepositoryStatus is what the controller observed of a ChartRepository.
type ChartRepositoryStatus struct {
	// ObservedGeneration is the spec generation the status describes; -1 until the controller
	// has handled the object once.
	// +kubebuilder:default=-1
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling and Stalled (kstatus-compatible) and FetchFailed.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is the repository URL the status describes.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	URL string `json:"url,omitempty"`

	// Index summarizes the last index fetched from an HTTP repository; empty for OCI.
	// +optional
	Index *IndexSummary `json:"index,omitempty"`

	// LastHandledReconcileAt is the last value of the capstan.dev/reconcile annotation the
	// controller acted on.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// ChartRepository is a source of Helm charts: a Helm HTTP repository (index.yaml) or an OCI
// registry namespace. Releases refer to it by name.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=crepo,categories=capstan
// +kubebuilder:printcolumn:name="URL",type="string",JSONPath=".spec.url"
// +kubebuilder:printcolumn:name="Charts",type="integer",JSONPath=".status.index.charts"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ChartRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says where charts come from and how to reach them.
	// +required
	Spec ChartRepositorySpec `json:"spec"`

	// Status is what the controller observed.
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status ChartRepositoryStatus `json:"status,omitempty"`
}

// ChartRepositoryList is a list of ChartRepository objects.
// +kubebuilder:object:root=true
type ChartRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the ChartRepository objects.
	Items []ChartRepository `json:"items"`
}

// GetInterval returns spec.interval, or DefaultRepositoryInterval when it is not set.
func (in *ChartRepository) GetInterval() time.Duration {
	return durationOr(in.Spec.Interval, DefaultRepositoryInterval)
}

// GetTimeout returns spec.timeout, or DefaultRepositoryTimeout when it is not set.
func (in *ChartRepository) GetTimeout() time.Duration {
	return durationOr(in.Spec.Timeout, DefaultRepositoryTimeout)
}

// IsOCI reports whether the repository is an OCI registry namespace (an oci:// URL).
func (in *ChartRepository) IsOCI() bool {
	return strings.HasPrefix(in.Spec.URL, OCIScheme)
}

// GetConditions returns the status conditions.
func (in *ChartRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *ChartRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}
