package v1alpha1

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ErrValuesNotObject is returned by GetValues when spec.values is not a JSON object.
var ErrValuesNotObject = errors.New("spec.values is not an object")

// GetReleaseName returns the Helm release name: spec.releaseName, or metadata.name.
func (in *Release) GetReleaseName() string {
	if in.Spec.ReleaseName != "" {
		return in.Spec.ReleaseName
	}
	return in.Name
}

// GetTargetNamespace returns the namespace the chart is installed into: spec.targetNamespace, or
// the Release's namespace.
func (in *Release) GetTargetNamespace() string {
	if in.Spec.TargetNamespace != "" {
		return in.Spec.TargetNamespace
	}
	return in.Namespace
}

// GetStorageNamespace returns the namespace that holds the release's revision records: always
// the Release's own namespace, so a tenant's history stays with the tenant.
func (in *Release) GetStorageNamespace() string {
	return in.Namespace
}

// GetRepositoryKey returns the namespace and name of the ChartRepository the chart comes from;
// the namespace defaults to the Release's.
func (in *Release) GetRepositoryKey() types.NamespacedName {
	ref := in.Spec.Chart.RepositoryRef
	return types.NamespacedName{Namespace: defaultString(ref.Namespace, in.Namespace), Name: ref.Name}
}

// GetDependencyKeys returns the namespace and name of each Release in spec.dependsOn; a
// namespace defaults to the Release's.
func (in *Release) GetDependencyKeys() []types.NamespacedName {
	out := make([]types.NamespacedName, 0, len(in.Spec.DependsOn))
	for _, d := range in.Spec.DependsOn {
		out = append(out, types.NamespacedName{Namespace: defaultString(d.Namespace, in.Namespace), Name: d.Name})
	}
	return out
}

// GetChartVersion returns spec.chart.version, or DefaultChartVersion.
func (in *Release) GetChartVersion() string {
	return defaultString(in.Spec.Chart.Version, DefaultChartVersion)
}

// GetInterval returns spec.interval, or DefaultReleaseInterval.
func (in *Release) GetInterval() time.Duration {
	return durationOr(in.Spec.Interval, DefaultReleaseInterval)
}

// GetTimeout returns spec.timeout, or DefaultReleaseTimeout.
func (in *Release) GetTimeout() time.Duration {
	return durationOr(in.Spec.Timeout, DefaultReleaseTimeout)
}

// GetTestTimeout returns spec.test.timeout, or the Release's timeout.
func (in *Release) GetTestTimeout() time.Duration {
	var t *metav1.Duration
	if in.Spec.Test != nil {
		t = in.Spec.Test.Timeout
	}
	return durationOr(t, in.GetTimeout())
}

// IsTestEnabled reports whether the chart's tests run after each install and upgrade.
func (in *Release) IsTestEnabled() bool {
	return in.Spec.Test != nil && in.Spec.Test.Enable
}

// GetMaxHistory returns spec.maxHistory, or DefaultMaxHistory; 0 means no limit.
func (in *Release) GetMaxHistory() int {
	if in.Spec.MaxHistory == nil {
		return DefaultMaxHistory
	}
	return *in.Spec.MaxHistory
}

// GetInstallCRDs returns spec.install.crds, or Create.
func (in *Release) GetInstallCRDs() CRDsPolicy {
	if in.Spec.Install == nil || in.Spec.Install.CRDs == "" {
		return CRDsCreate
	}
	return in.Spec.Install.CRDs
}

// GetUpgradeCRDs returns spec.upgrade.crds, or Skip.
func (in *Release) GetUpgradeCRDs() CRDsPolicy {
	if in.Spec.Upgrade == nil || in.Spec.Upgrade.CRDs == "" {
		return CRDsSkip
	}
	return in.Spec.Upgrade.CRDs
}

// GetInstallRemediation returns spec.install.remediation with its defaults filled in: no
// retries, strategy none.
func (in *Release) GetInstallRemediation() *Remediation {
	var r *Remediation
	if in.Spec.Install != nil {
		r = in.Spec.Install.Remediation
	}
	return withStrategy(r, RemediationNone)
}

// GetUpgradeRemediation returns spec.upgrade.remediation with its defaults filled in: no
// retries, strategy rollback.
func (in *Release) GetUpgradeRemediation() *Remediation {
	var r *Remediation
	if in.Spec.Upgrade != nil {
		r = in.Spec.Upgrade.Remediation
	}
	return withStrategy(r, RemediationRollback)
}

// GetDeletionPropagation returns spec.uninstall.deletionPropagation, or background.
func (in *Release) GetDeletionPropagation() DeletionPropagation {
	if in.Spec.Uninstall == nil || in.Spec.Uninstall.DeletionPropagation == "" {
		return PropagationBackground
	}
	return in.Spec.Uninstall.DeletionPropagation
}

// GetDriftMode returns spec.driftDetection.mode, or warn.
func (in *Release) GetDriftMode() DriftDetectionMode {
	if in.Spec.DriftDetection == nil || in.Spec.DriftDetection.Mode == "" {
		return DriftDetectionWarn
	}
	return in.Spec.DriftDetection.Mode
}

// GetConflictPolicy returns spec.upgrade.conflicts.policy, or Fail when it is not set.
func (in *Release) GetConflictPolicy() ConflictPolicy {
	if u := in.Spec.Upgrade; u == nil || u.Conflicts == nil || u.Conflicts.Policy == "" {
		return ConflictFail
	}
	return in.Spec.Upgrade.Conflicts.Policy
}

// GetYieldRules returns spec.upgrade.conflicts.yield when the policy is Yield, or nil.
func (in *Release) GetYieldRules() []FieldRule {
	if in.GetConflictPolicy() != ConflictYield {
		return nil
	}
	return in.Spec.Upgrade.Conflicts.Yield
}

// GetValues decodes spec.values into a map; numbers become float64, as in a values file. It
// returns an empty, non-nil map when spec.values is not set.
func (in *Release) GetValues() (map[string]any, error) {
	out := map[string]any{}
	if in.Spec.Values == nil || len(in.Spec.Values.Raw) == 0 {
		return out, nil
	}
	var v any
	if err := json.Unmarshal(in.Spec.Values.Raw, &v); err != nil {
		return nil, fmt.Errorf("decoding spec.values: %w", err)
	}
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case nil:
		return out, nil
	default:
		return nil, fmt.Errorf("%w: got %T", ErrValuesNotObject, v)
	}
}

// GetConditions returns the status conditions.
func (in *Release) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *Release) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetKey returns the key to read, or DefaultValuesKey.
func (in *ValuesReference) GetKey() string {
	return defaultString(in.Key, DefaultValuesKey)
}

// withStrategy returns a copy of r (or of an empty Remediation) whose strategy is def when r
// sets none.
func withStrategy(r *Remediation, def RemediationStrategy) *Remediation {
	out := Remediation{Strategy: def}
	if r != nil {
		out.Retries = r.Retries
		if r.Strategy != "" {
			out.Strategy = r.Strategy
		}
	}
	return &out
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
