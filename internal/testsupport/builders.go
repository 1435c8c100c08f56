package testsupport

import (
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// ReleaseBuilder builds a Release.
type ReleaseBuilder struct{ rel *capstanv1.Release }

// MakeRelease starts a Release with the given name and namespace.
func MakeRelease(name, namespace string) *ReleaseBuilder {
	return &ReleaseBuilder{rel: &capstanv1.Release{
		TypeMeta:   metav1.TypeMeta{APIVersion: capstanv1.GroupVersion.String(), Kind: capstanv1.ReleaseKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
	}}
}

// Chart sets the repository, chart name and version constraint.
func (b *ReleaseBuilder) Chart(repository, chart, version string) *ReleaseBuilder {
	b.rel.Spec.Chart = capstanv1.ChartTemplate{
		RepositoryRef: capstanv1.RepositoryReference{Name: repository}, Name: chart, Version: version,
	}
	return b
}

// ReleaseName sets spec.releaseName.
func (b *ReleaseBuilder) ReleaseName(name string) *ReleaseBuilder {
	b.rel.Spec.ReleaseName = name
	return b
}

// Values sets spec.values from a map (it must encode as JSON).
func (b *ReleaseBuilder) Values(v map[string]any) *ReleaseBuilder {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err) // a test built values that are not JSON: a bug in the test itself
	}
	b.rel.Spec.Values = &runtime.RawExtension{Raw: raw}
	return b
}

// ValuesFrom appends a valuesFrom entry.
func (b *ReleaseBuilder) ValuesFrom(ref capstanv1.ValuesReference) *ReleaseBuilder {
	b.rel.Spec.ValuesFrom = append(b.rel.Spec.ValuesFrom, ref)
	return b
}

// Interval sets spec.interval.
func (b *ReleaseBuilder) Interval(d time.Duration) *ReleaseBuilder {
	b.rel.Spec.Interval = &metav1.Duration{Duration: d}
	return b
}

// MaxHistory sets spec.maxHistory.
func (b *ReleaseBuilder) MaxHistory(n int) *ReleaseBuilder {
	b.rel.Spec.MaxHistory = &n
	return b
}

// ServiceAccount sets spec.serviceAccountName.
func (b *ReleaseBuilder) ServiceAccount(name string) *ReleaseBuilder {
	b.rel.Spec.ServiceAccountName = name
	return b
}

// DependsOn appends Releases in the same namespace to spec.dependsOn.
func (b *ReleaseBuilder) DependsOn(names ...string) *ReleaseBuilder {
	for _, n := range names {
		b.rel.Spec.DependsOn = append(b.rel.Spec.DependsOn, capstanv1.DependencyReference{Name: n})
	}
	return b
}

// Drift sets spec.driftDetection.mode.
func (b *ReleaseBuilder) Drift(mode capstanv1.DriftDetectionMode) *ReleaseBuilder {
	b.rel.Spec.DriftDetection = &capstanv1.DriftDetection{Mode: mode}
	return b
}

// Upgrade sets spec.upgrade.
func (b *ReleaseBuilder) Upgrade(u capstanv1.Upgrade) *ReleaseBuilder {
	b.rel.Spec.Upgrade = &u
	return b
}

// Install sets spec.install.
func (b *ReleaseBuilder) Install(i capstanv1.Install) *ReleaseBuilder {
	b.rel.Spec.Install = &i
	return b
}

// Uninstall sets spec.uninstall.
func (b *ReleaseBuilder) Uninstall(u capstanv1.Uninstall) *ReleaseBuilder {
	b.rel.Spec.Uninstall = &u
	return b
}

// KubeConfig sets spec.kubeConfig.secretRef: the Secret holding a remote cluster's kubeconfig,
// and its key ("" for the default).
func (b *ReleaseBuilder) KubeConfig(secret, key string) *ReleaseBuilder {
	b.rel.Spec.KubeConfig = &capstanv1.KubeConfigReference{SecretRef: capstanv1.SecretKeyReference{Name: secret, Key: key}}
	return b
}

// Annotation sets one annotation.
func (b *ReleaseBuilder) Annotation(key, value string) *ReleaseBuilder {
	if b.rel.Annotations == nil {
		b.rel.Annotations = map[string]string{}
	}
	b.rel.Annotations[key] = value
	return b
}

// Verify sets spec.chart.verify: a pgp check with the keyring in Secret secret, in mode.
func (b *ReleaseBuilder) Verify(secret string, mode capstanv1.VerificationMode) *ReleaseBuilder {
	b.rel.Spec.Chart.Verify = &capstanv1.ChartVerification{Provider: capstanv1.VerificationProviderPGP,
		SecretRef: capstanv1.LocalObjectReference{Name: secret}, Mode: mode}
	return b
}

// Obj returns the built Release.
func (b *ReleaseBuilder) Obj() *capstanv1.Release { return b.rel.DeepCopy() }

// ChartRepositoryBuilder builds a ChartRepository.
type ChartRepositoryBuilder struct{ repo *capstanv1.ChartRepository }

// MakeChartRepository starts a ChartRepository with the given name, namespace and URL.
func MakeChartRepository(name, namespace, url string) *ChartRepositoryBuilder {
	return &ChartRepositoryBuilder{repo: &capstanv1.ChartRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: capstanv1.GroupVersion.String(), Kind: capstanv1.ChartRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       capstanv1.ChartRepositorySpec{URL: url},
	}}
}

// Obj returns the built ChartRepository.
func (b *ChartRepositoryBuilder) Obj() *capstanv1.ChartRepository { return b.repo.DeepCopy() }

// ReadyStatus returns a status saying the repository was reached, for a repository whose
// controller does not run in the test.
func ReadyStatus(generation int64) capstanv1.ChartRepositoryStatus {
	return capstanv1.ChartRepositoryStatus{
		ObservedGeneration: generation,
		Conditions: []metav1.Condition{{
			Type: capstanv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: capstanv1.SucceededReason,
			Message: "index fetched", LastTransitionTime: metav1.Now(), ObservedGeneration: generation,
		}},
	}
}
