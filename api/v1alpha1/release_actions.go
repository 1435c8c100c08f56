package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// CRDsPolicy says what an install or upgrade does with the CRDs in a chart's crds/ directory.
// +kubebuilder:validation:Enum=Skip;Create;CreateReplace
type CRDsPolicy string

const (
	// CRDsSkip leaves the chart's CRDs alone.
	CRDsSkip CRDsPolicy = "Skip"
	// CRDsCreate creates the chart's CRDs that do not exist and leaves existing ones alone.
	CRDsCreate CRDsPolicy = "Create"
	// CRDsCreateReplace creates the chart's CRDs and updates existing ones. CRDs are never
	// deleted.
	CRDsCreateReplace CRDsPolicy = "CreateReplace"
)

// RemediationStrategy says what happens when an action failed and no retries remain.
// +kubebuilder:validation:Enum=none;rollback;uninstall
type RemediationStrategy string

const (
	// RemediationNone leaves the failed revision in place; the Release is Stalled until
	// something changes.
	RemediationNone RemediationStrategy = "none"
	// RemediationRollback rolls back to status.rollbackTarget, the last revision deployed
	// successfully. Only for upgrades.
	RemediationRollback RemediationStrategy = "rollback"
	// RemediationUninstall uninstalls the failed release.
	RemediationUninstall RemediationStrategy = "uninstall"
)

// DriftDetectionMode says how differences between the last applied manifest and the live
// objects are handled.
// +kubebuilder:validation:Enum=enabled;warn;disabled
type DriftDetectionMode string

const (
	// DriftDetectionEnabled detects drift and corrects it by re-applying the drifted objects
	// (no new revision), reporting it on the Drifted condition.
	DriftDetectionEnabled DriftDetectionMode = "enabled"
	// DriftDetectionWarn detects drift and reports it on the Drifted condition and in an event,
	// without changing anything. It is the default.
	DriftDetectionWarn DriftDetectionMode = "warn"
	// DriftDetectionDisabled does not look for drift.
	DriftDetectionDisabled DriftDetectionMode = "disabled"
)

// DeletionPropagation is the propagation policy used to delete a release's objects.
// +kubebuilder:validation:Enum=background;foreground;orphan
type DeletionPropagation string

const (
	// PropagationBackground deletes an object at once and its dependents in the background.
	PropagationBackground DeletionPropagation = "background"
	// PropagationForeground deletes dependents before the object.
	PropagationForeground DeletionPropagation = "foreground"
	// PropagationOrphan deletes the object and leaves its dependents.
	PropagationOrphan DeletionPropagation = "orphan"
)

// Remediation says how a failed install or upgrade is retried and then remediated.
type Remediation struct {
	// Retries is how many times a failed action is attempted again before the strategy
	// applies. Defaults to 0.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Retries int `json:"retries,omitempty"`

	// Strategy is what happens once the action failed and no retries remain: none leaves the
	// failed revision in place, rollback (upgrades only) returns to the last successful
	// revision, uninstall removes the release. Defaults to none for install and rollback for
	// upgrade.
	// +optional
	Strategy RemediationStrategy `json:"strategy,omitempty"`
}

// GetRetries returns the number of retries; a nil Remediation has none.
func (in *Remediation) GetRetries() int {
	if in == nil {
		return 0
	}
	return in.Retries
}

// GetStrategy returns the strategy, or none when it is not set. Release.GetInstallRemediation
// and Release.GetUpgradeRemediation fill in each action's own default.
func (in *Remediation) GetStrategy() RemediationStrategy {
	if in == nil || in.Strategy == "" {
		return RemediationNone
	}
	return in.Strategy
}

// RetriesExhausted reports whether failures (the count of failed attempts so far) used up the
// retries, so that the strategy applies instead of another attempt.
func (in *Remediation) RetriesExhausted(failures int64) bool {
	return failures > int64(in.GetRetries())
}

// Install configures the first install of a release.
// +kubebuilder:validation:XValidation:rule="!has(self.remediation) || !has(self.remediation.strategy) || self.remediation.strategy != 'rollback'",message="install.remediation.strategy cannot be rollback: a failed install has nothing to roll back to; use uninstall or none",fieldPath=".remediation.strategy"
type Install struct {
	// CRDs says what to do with the CRDs in the chart's crds/ directory: Skip, Create or
	// CreateReplace. Defaults to Create.
	// +kubebuilder:default="Create"
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// Remediation says how a failed install is retried and remediated.
	// +optional
	Remediation *Remediation `json:"remediation,omitempty"`

	// DisableWait does not wait for the applied objects to become healthy.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableHooks does not run the chart's install hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// TakeOwnership adopts objects that already exist and belong to no release: they carry
	// neither Capstan's capstan.dev/release annotation nor helm's meta.helm.sh/release-name and
	// meta.helm.sh/release-namespace annotations. Objects of another release, Capstan's or
	// helm's, are never adopted: the Release stalls with OwnershipConflict naming the owner. A
	// helm release is taken over only by a Release in the namespace that stores it, with its
	// release name.
	// +optional
	TakeOwnership bool `json:"takeOwnership,omitempty"`
}

// Upgrade configures upgrades of a release.
type Upgrade struct {
	// CRDs says what to do with the CRDs in the chart's crds/ directory: Skip, Create or
	// CreateReplace. Defaults to Skip, as Helm never upgrades CRDs.
	// +kubebuilder:default="Skip"
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// Remediation says how a failed upgrade is retried and remediated.
	// +optional
	Remediation *Remediation `json:"remediation,omitempty"`

	// DisableWait does not wait for the applied objects to become healthy.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableHooks does not run the chart's upgrade hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// Force deletes and recreates an object when the upgrade changes one of its immutable
	// fields. Without it such an upgrade stalls with ImmutableFieldChanged.
	// +optional
	Force bool `json:"force,omitempty"`

	// CleanupOnFail deletes, after a failed upgrade, the objects that upgrade created: objects
	// the previous revision did not have and that did not exist before. Objects of the previous
	// revision, and existing objects the upgrade adopted, are never deleted.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// TakeOwnership adopts objects that already exist and belong to no release: they carry
	// neither Capstan's capstan.dev/release annotation nor helm's meta.helm.sh/release-name and
	// meta.helm.sh/release-namespace annotations. Objects of another release, Capstan's or
	// helm's, are never adopted: the Release stalls with OwnershipConflict naming the owner. A
	// helm release is taken over only by a Release in the namespace that stores it, with its
	// release name.
	// +optional
	TakeOwnership bool `json:"takeOwnership,omitempty"`

	// Conflicts says what happens when applying the release's objects would take a field that
	// another field manager owns with a different value: Fail (the default) stalls the Release
	// with FieldConflict and lists the fields in status.conflicts, Force takes the fields over,
	// Yield leaves the listed fields to their other manager. It governs installs (of objects
	// adopted with takeOwnership), upgrades and rollbacks; drift correction always takes fields
	// back, except the yielded ones, which drift detection also leaves out. Fields of helm's
	// field manager are the release's own and are always taken over.
	// +optional
	Conflicts *Conflicts `json:"conflicts,omitempty"`
}

// ConflictPolicy says what an apply does with a field another field manager owns.
// +kubebuilder:validation:Enum=Fail;Force;Yield
type ConflictPolicy string

const (
	// ConflictFail stalls the Release with FieldConflict, naming the objects, fields and
	// managers in its Ready condition and in status.conflicts. Nothing is written.
	ConflictFail ConflictPolicy = "Fail"
	// ConflictForce takes every conflicting field over from its other manager.
	ConflictForce ConflictPolicy = "Force"
	// ConflictYield leaves the fields that conflicts.yield lists to another manager that owns
	// them with another value: Capstan leaves them out of what it applies. Conflicts on other
	// fields fail as with Fail.
	ConflictYield ConflictPolicy = "Yield"
)

// Conflicts configures how field-manager conflicts are handled.
// +kubebuilder:validation:XValidation:rule="has(self.policy) && self.policy == 'Yield' ? has(self.yield) && size(self.yield) > 0 : !has(self.yield)",message="yield is required with policy Yield and allowed only with it",fieldPath=".yield"
type Conflicts struct {
	// Policy is Fail, Force or Yield. Defaults to Fail.
	// +kubebuilder:default="Fail"
	// +optional
	Policy ConflictPolicy `json:"policy,omitempty"`

	// Yield lists the fields Capstan leaves to other field managers, such as /spec/replicas of
	// a Deployment an autoscaler scales. A listed field that no other manager owns is applied
	// as the chart renders it, so a new object gets the chart's value. Only with policy Yield.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Yield []FieldRule `json:"yield,omitempty"`
}

// FieldRule names fields of some of the release's objects.
type FieldRule struct {
	// Paths are JSON Pointers (RFC 6901) to the fields, such as /spec/replicas. A path names an
	// object field and everything under it; a list is named as a whole (its elements cannot
	// be named one by one).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:items:Pattern=`^(/([^/~]|~[01])*)+$`
	// +required
	Paths []string `json:"paths"`

	// Target selects the objects the rule applies to; every object of the release when empty.
	// +optional
	Target *ObjectSelector `json:"target,omitempty"`
}

// Rollback configures rollbacks.
type Rollback struct {
	// DisableWait does not wait for the restored objects to become healthy.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableHooks does not run the chart's rollback hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// Force deletes and recreates an object when the rollback changes one of its immutable
	// fields.
	// +optional
	Force bool `json:"force,omitempty"`
}

// Uninstall configures uninstalls.
type Uninstall struct {
	// KeepHistory keeps the revision records, marked uninstalled, after the objects are gone.
	// +optional
	KeepHistory bool `json:"keepHistory,omitempty"`

	// DisableHooks does not run the chart's delete hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableWait does not wait for the deleted objects to disappear. By default an uninstall
	// waits, up to spec.timeout, until no deleted object is still held by a finalizer or a
	// foreground deletion before it runs the post-delete hooks and removes the records.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DeletionPropagation is the propagation policy for deleting the release's objects:
	// background, foreground or orphan. Defaults to background, as in Helm.
	// +kubebuilder:default="background"
	// +optional
	DeletionPropagation DeletionPropagation `json:"deletionPropagation,omitempty"`
}

// Test configures the chart's test hooks.
type Test struct {
	// Enable runs the test hooks after every successful install and upgrade.
	// +optional
	Enable bool `json:"enable,omitempty"`

	// Timeout bounds the test run, as a Go duration. Defaults to spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="timeout must be a positive duration that fits in 290 years"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// DriftDetection configures how changes made to the live objects by others are handled.
type DriftDetection struct {
	// Mode is enabled (detect and correct), warn (detect and report only) or disabled.
	// Defaults to warn.
	// +kubebuilder:default="warn"
	// +optional
	Mode DriftDetectionMode `json:"mode,omitempty"`

	// Ignore lists fields that are not compared, such as fields another controller owns.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Ignore []IgnoreRule `json:"ignore,omitempty"`
}

// IgnoreRule excludes fields of some objects from drift detection.
type IgnoreRule struct {
	// Paths are JSON Pointers (RFC 6901) to the ignored fields, such as /spec/replicas.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:items:Pattern=`^(/([^/~]|~[01])*)+$`
	// +required
	Paths []string `json:"paths"`

	// Target selects the objects the rule applies to; every object of the release when empty.
	// +optional
	Target *ObjectSelector `json:"target,omitempty"`
}

// ObjectSelector selects objects of a release by exact group, kind, name and namespace. An empty
// field matches every value.
type ObjectSelector struct {
	// Group is the API group, such as apps; empty matches every group.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Group string `json:"group,omitempty"`

	// Kind is the object kind, such as Deployment; empty matches every kind.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name is the object name; empty matches every name.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Name string `json:"name,omitempty"`

	// Namespace is the object namespace; empty matches every namespace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// Matches reports whether the selector selects the object; a nil selector selects every object.
func (in *ObjectSelector) Matches(ref ObjectRef) bool {
	if in == nil {
		return true
	}
	return matchField(in.Group, ref.Group) && matchField(in.Kind, ref.Kind) &&
		matchField(in.Name, ref.Name) && matchField(in.Namespace, ref.Namespace)
}

func matchField(want, got string) bool { return want == "" || want == got }
