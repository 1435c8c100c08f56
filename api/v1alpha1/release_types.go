package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ReleaseKind is the kind name of Release.
const ReleaseKind = "Release"

const (
	// DefaultReleaseInterval is how often a Release is reconciled when spec.interval is not set.
	DefaultReleaseInterval = 10 * time.Minute

	// DefaultReleaseTimeout bounds each action of a Release when spec.timeout is not set.
	DefaultReleaseTimeout = 5 * time.Minute

	// DefaultMaxHistory is how many revisions are kept when spec.maxHistory is not set, as the
	// Helm CLI does.
	DefaultMaxHistory = 10

	// DefaultChartVersion is the version constraint used when spec.chart.version is not set:
	// the newest stable (non-prerelease) version.
	DefaultChartVersion = "*"

	// DefaultValuesKey is the key read from a valuesFrom ConfigMap or Secret when key is not set.
	DefaultValuesKey = "values.yaml"

	// DefaultKubeConfigKey is the key read from a spec.kubeConfig Secret when key is not set (as
	// in Flux).
	DefaultKubeConfigKey = "value"

	// MaxReleaseNameLength is the longest release name Helm accepts.
	MaxReleaseNameLength = 53
)

// ReleaseSpec is the desired state of a Helm release.
// +kubebuilder:validation:XValidation:rule="has(self.targetNamespace) == has(oldSelf.targetNamespace) && (!has(self.targetNamespace) || self.targetNamespace == oldSelf.targetNamespace)",message="targetNamespace is immutable: it cannot be set, changed or removed after creation; create a new Release instead",fieldPath=".targetNamespace"
// +kubebuilder:validation:XValidation:rule="!has(self.createNamespace) || !self.createNamespace || has(self.targetNamespace)",message="createNamespace requires targetNamespace: the Release's own namespace always exists",fieldPath=".createNamespace"
// +kubebuilder:validation:XValidation:rule="has(self.kubeConfig) == has(oldSelf.kubeConfig) && (!has(self.kubeConfig) || self.kubeConfig == oldSelf.kubeConfig)",message="kubeConfig is immutable: it cannot be set, changed or removed after creation, since the release's objects live in the cluster it names; create a new Release instead",fieldPath=".kubeConfig"
type ReleaseSpec struct {
	// Chart says which chart to install: its repository, name and version constraint.
	// +required
	Chart ChartTemplate `json:"chart"`

	// ReleaseName is the name of the Helm release, as `helm ls` shows it. Defaults to the
	// Release's metadata.name. At most 53 characters of lower case letters, digits, '-' and
	// '.', as Helm requires. It cannot be changed after creation (setting it to the default
	// is not a change).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=53
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`

	// TargetNamespace is the namespace the chart's namespaced objects go to (.Release.Namespace
	// in templates). Defaults to the Release's namespace. It cannot be set, changed or removed
	// after creation. The release itself is identified by the Release's namespace, which stores
	// its records, and its release name: two Releases of one release name in different
	// namespaces are two releases even with the same target namespace, and neither may write
	// the other's objects.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// CreateNamespace creates targetNamespace if it does not exist. The namespace is not deleted
	// on uninstall. Requires targetNamespace.
	// +optional
	CreateNamespace bool `json:"createNamespace,omitempty"`

	// Values are inline values for the chart, merged over the chart's defaults and over
	// valuesFrom. A YAML or JSON object.
	// +optional
	Values *runtime.RawExtension `json:"values,omitempty"`

	// ValuesFrom lists ConfigMaps and Secrets in this namespace holding values, merged in list
	// order over the chart's defaults and under values. A change to one of them triggers an
	// upgrade.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	ValuesFrom []ValuesReference `json:"valuesFrom,omitempty"`

	// Interval between two reconciles of the Release, as a Go duration such as 10m or 1h.
	// Defaults to 10m.
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="interval must be a positive duration that fits in 290 years"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Timeout bounds each action (install, upgrade, rollback, uninstall, test), including the
	// wait for health and for hooks, as a Go duration such as 5m. Defaults to 5m.
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="timeout must be a positive duration that fits in 290 years"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Suspend stops reconciling the Release while true: no install, upgrade, drift correction
	// or uninstall on deletion happens. Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// MaxHistory is how many revisions are kept in storage; older ones are pruned, except the
	// last deployed revision. 0 keeps every revision, as in Helm. Defaults to 10.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MaxHistory *int `json:"maxHistory,omitempty"`

	// ServiceAccountName is a ServiceAccount in this namespace that the controller impersonates
	// for everything it reads and writes for this Release. When empty, the manager's default
	// applies.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// KubeConfig makes the release go into another cluster: the chart's objects are applied,
	// checked for drift and health, hooked and uninstalled there, with the identity the
	// kubeconfig names, while the revision records, status and events stay in this cluster. The
	// Secret is read as the Release's own identity (its service account), so a Release can only
	// use a kubeconfig its service account may read. Only inline credentials are accepted
	// (token, client certificate, impersonation); a kubeconfig with exec or auth-provider
	// plugins or with file paths is refused (docs/remote-clusters.md). It cannot be set,
	// changed or removed after creation.
	// +optional
	KubeConfig *KubeConfigReference `json:"kubeConfig,omitempty"`

	// Install configures the first install of the release.
	// +optional
	Install *Install `json:"install,omitempty"`

	// Upgrade configures upgrades of the release.
	// +optional
	Upgrade *Upgrade `json:"upgrade,omitempty"`

	// Rollback configures rollbacks: remediating ones and those asked for with the
	// capstan.dev/rollback-to annotation.
	// +optional
	Rollback *Rollback `json:"rollback,omitempty"`

	// Uninstall configures the uninstall that runs when the Release is deleted or remediation
	// asks for it.
	// +optional
	Uninstall *Uninstall `json:"uninstall,omitempty"`

	// Test configures running the chart's test hooks after install and upgrade.
	// +optional
	Test *Test `json:"test,omitempty"`

	// DriftDetection configures how changes made to the release's live objects by others are
	// detected and handled.
	// +optional
	DriftDetection *DriftDetection `json:"driftDetection,omitempty"`

	// DependsOn lists Releases that must be Ready before this one is installed or upgraded.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	DependsOn []DependencyReference `json:"dependsOn,omitempty"`

	// PostRenderers change the rendered objects before they are applied, in list order, each
	// one working on the output of the one before: kustomize patches (strategic merge or JSON
	// 6902, chosen by kustomize-style targets) and image overrides. Hooks are post-rendered too,
	// as Helm v4 does; the chart's crds/ files are not. A change is an upgrade.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	PostRenderers []PostRenderer `json:"postRenderers,omitempty"`

	// CommonMetadata are labels and annotations set on every rendered object (hooks included),
	// after the post-renderers. A change is an upgrade.
	// +optional
	CommonMetadata *CommonMetadata `json:"commonMetadata,omitempty"`

	// HealthChecks say when objects of a kind are healthy, with CEL expressions over the
	// object. They replace the built-in status rules for the kinds they name.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	HealthChecks []HealthCheck `json:"healthChecks,omitempty"`
}

// ChartTemplate says which chart a Release installs.
type ChartTemplate struct {
	// RepositoryRef names the ChartRepository the chart comes from.
	// +required
	RepositoryRef RepositoryReference `json:"repositoryRef"`

	// Name of the chart in the repository, such as nginx. For an OCI repository it is the last
	// path element of the chart's reference.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9_])?$`
	// +required
	Name string `json:"name"`

	// Version is a semantic version constraint such as 1.2.3, ~1.2, ^2 or >=1.0.0 <2.0.0. The
	// newest version that satisfies it is installed; prereleases only match a constraint that
	// names a prerelease. Defaults to *, the newest stable version.
	// +kubebuilder:default="*"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[-0-9A-Za-z.+*^~<>=!|, ]+$`
	// +optional
	Version string `json:"version,omitempty"`

	// Verify overrides the repository's spec.verify for this Release: the chart's signature is
	// checked with this provider and trust material before anything from the chart runs. The
	// Secret it names is read from the Release's namespace, as the Release's service account.
	// +optional
	Verify *ChartVerification `json:"verify,omitempty"`
}

// RepositoryReference names a ChartRepository.
type RepositoryReference struct {
	// Name of the ChartRepository.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +required
	Name string `json:"name"`

	// Namespace of the ChartRepository. Defaults to the Release's namespace. Another namespace
	// is refused unless the manager allows cross-namespace references.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

const (
	// ValuesKindConfigMap is the valuesFrom kind of a ConfigMap.
	ValuesKindConfigMap = "ConfigMap"
	// ValuesKindSecret is the valuesFrom kind of a Secret.
	ValuesKindSecret = "Secret"
)

// KubeConfigReference names the kubeconfig of a remote cluster.
type KubeConfigReference struct {
	// SecretRef is the Secret, in the Release's namespace, that holds the kubeconfig.
	// +required
	SecretRef SecretKeyReference `json:"secretRef"`
}

// SecretKeyReference names one key of a Secret in the referring object's namespace.
type SecretKeyReference struct {
	// Name of the Secret, in the Release's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +required
	Name string `json:"name"`

	// Key in the Secret's data. Defaults to value (as in Flux; a Cluster API kubeconfig Secret
	// uses that key too).
	// +kubebuilder:default="value"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	Key string `json:"key,omitempty"`
}

// GetKey returns the key to read, DefaultKubeConfigKey when unset.
func (in *SecretKeyReference) GetKey() string {
	if in.Key == "" {
		return DefaultKubeConfigKey
	}
	return in.Key
}

// ValuesReference points at values held in a ConfigMap or Secret.
type ValuesReference struct {
	// Kind of the object holding the values: ConfigMap or Secret.
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	// +required
	Kind string `json:"kind"`

	// Name of the ConfigMap or Secret, in the Release's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +required
	Name string `json:"name"`

	// Key in the object's data. Defaults to values.yaml.
	// +kubebuilder:default="values.yaml"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	Key string `json:"key,omitempty"`

	// TargetPath places the key's content as a single value at this path (as `helm --set`
	// would, for example image.tag or args[0]) instead of merging it as a YAML document.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=250
	// +kubebuilder:validation:Pattern=`^([A-Za-z0-9_./\\-]|\[[0-9]{1,5}\])+$`
	// +optional
	TargetPath string `json:"targetPath,omitempty"`

	// Optional lets the reconcile go on when the object or key does not exist. Defaults to
	// false: a missing object or key holds the Release back.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// DependencyReference names a Release that must be Ready first.
type DependencyReference struct {
	// Name of the Release.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +required
	Name string `json:"name"`

	// Namespace of the Release. Defaults to this Release's namespace. Another namespace is
	// refused unless the manager allows cross-namespace references.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// ReleaseStatus is what the controller observed and did for a Release.
type ReleaseStatus struct {
	// ObservedGeneration is the spec generation the status describes; -1 until the controller
	// has handled the object once.
	// +kubebuilder:default=-1
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling and Stalled (kstatus-compatible), Released, Remediated,
	// Drifted and TestSuccess.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ReleaseName is the name the release is stored under.
	// +kubebuilder:validation:MaxLength=53
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`

	// StorageNamespace is the namespace holding the release's revision records.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// CurrentRevision is the revision in effect, or 0 before the first install.
	// +kubebuilder:validation:Minimum=0
	// +optional
	CurrentRevision int `json:"currentRevision,omitempty"`

	// ChartName is the name of the chart of the current revision.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ChartName string `json:"chartName,omitempty"`

	// ChartVersion is the version of the chart of the current revision.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	ChartVersion string `json:"chartVersion,omitempty"`

	// AppVersion is the appVersion of the chart of the current revision.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	AppVersion string `json:"appVersion,omitempty"`

	// History summarizes the newest revisions, newest first.
	// +kubebuilder:validation:MaxItems=20
	// +optional
	History History `json:"history,omitempty"`

	// RollbackTarget is the last revision that was deployed successfully, which remediation
	// rolls back to; 0 when there is none.
	// +kubebuilder:validation:Minimum=0
	// +optional
	RollbackTarget int `json:"rollbackTarget,omitempty"`

	// Inventory lists the objects the current revision applied.
	// +optional
	Inventory *Inventory `json:"inventory,omitempty"`

	// LastAttemptedGeneration is the spec generation of the last install, upgrade or rollback
	// attempt.
	// +optional
	LastAttemptedGeneration int64 `json:"lastAttemptedGeneration,omitempty"`

	// LastAttemptedRevision is the chart version of the last attempt.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastAttemptedValuesDigest is the digest of the composed values of the last attempt,
	// sha256:<hex>.
	// +kubebuilder:validation:MaxLength=80
	// +optional
	LastAttemptedValuesDigest string `json:"lastAttemptedValuesDigest,omitempty"`

	// LastAttemptedReleaseAction is the action of the last attempt.
	// +optional
	LastAttemptedReleaseAction ReleaseAction `json:"lastAttemptedReleaseAction,omitempty"`

	// LastAppliedRevision is the chart version of the last successful install, upgrade or
	// rollback.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// Failures counts failed reconciles since the last success or reset.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Failures int64 `json:"failures,omitempty"`

	// InstallFailures counts failed installs since the last success or reset; remediation
	// compares it with spec.install.remediation.retries.
	// +kubebuilder:validation:Minimum=0
	// +optional
	InstallFailures int64 `json:"installFailures,omitempty"`

	// UpgradeFailures counts failed upgrades since the last success or reset; remediation
	// compares it with spec.upgrade.remediation.retries.
	// +kubebuilder:validation:Minimum=0
	// +optional
	UpgradeFailures int64 `json:"upgradeFailures,omitempty"`

	// LastHandledReconcileAt is the last value of the capstan.dev/reconcile annotation acted on.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// LastHandledRollbackTo is the last value of the capstan.dev/rollback-to annotation acted on.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	LastHandledRollbackTo string `json:"lastHandledRollbackTo,omitempty"`

	// LastHandledResetAt is the last value of the capstan.dev/reset annotation acted on.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	LastHandledResetAt string `json:"lastHandledResetAt,omitempty"`

	// LastHandledTestAt is the last value of the capstan.dev/test annotation acted on.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	LastHandledTestAt string `json:"lastHandledTestAt,omitempty"`

	// Verification records the signature check of the chart last loaded: provider, digest and
	// signer. Empty when no verification is configured or the last one failed.
	// +optional
	Verification *VerificationStatus `json:"verification,omitempty"`

	// Conflicts lists the fields of the last attempt that other field managers own with a
	// different value, when spec.upgrade.conflicts made it fail (at most 20; the FieldConflict
	// condition message counts them all). Empty once an apply passes.
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Conflicts []FieldConflict `json:"conflicts,omitempty"`
}

// FieldConflict is one field of a live object that another field manager owns.
type FieldConflict struct {
	// Object names the object as Kind/namespace/name, or Kind/name when cluster-scoped.
	// +kubebuilder:validation:MaxLength=600
	// +required
	Object string `json:"object"`

	// Field is the conflicting field as the API server names it, such as .spec.replicas.
	// +kubebuilder:validation:MaxLength=1024
	// +required
	Field string `json:"field"`

	// Manager is the field manager that owns the field, such as kube-controller-manager.
	// +kubebuilder:validation:MaxLength=256
	// +required
	Manager string `json:"manager"`
}

// Release installs a Helm chart from a ChartRepository into the cluster and keeps it at the
// requested version and values, with a revision history that can be rolled back.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rel,categories=capstan
// +kubebuilder:printcolumn:name="Chart",type="string",JSONPath=".status.chartName"
// +kubebuilder:printcolumn:name="Version",type="string",JSONPath=".status.chartVersion"
// +kubebuilder:printcolumn:name="Revision",type="integer",JSONPath=".status.currentRevision"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Verified",type="string",JSONPath=".status.conditions[?(@.type==\"Verified\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:validation:XValidation:rule="(has(self.spec.releaseName) ? self.spec.releaseName : self.metadata.name) == (has(oldSelf.spec.releaseName) ? oldSelf.spec.releaseName : oldSelf.metadata.name)",message="releaseName is immutable: the release name cannot change after creation; create a new Release instead",fieldPath=".spec.releaseName"
// +kubebuilder:validation:XValidation:rule="has(self.spec.releaseName) || size(self.metadata.name) <= 53",message="releaseName is required when metadata.name is longer than 53 characters (Helm's limit for release names)",fieldPath=".spec.releaseName"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.dependsOn) || self.spec.dependsOn.all(d, has(d.namespace) || d.name != self.metadata.name)",message="dependsOn must not name the Release itself",fieldPath=".spec.dependsOn"
type Release struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the release.
	// +required
	Spec ReleaseSpec `json:"spec"`

	// Status is what the controller observed and did.
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status ReleaseStatus `json:"status,omitempty"`
}

// ReleaseList is a list of Release objects.
// +kubebuilder:object:root=true
type ReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Release objects.
	Items []Release `json:"items"`
}
