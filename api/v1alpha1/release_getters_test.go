package v1alpha1_test

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

func release(mutate func(*capstanv1.Release)) *capstanv1.Release {
	r := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team-a"}}
	r.Spec.Chart = capstanv1.ChartTemplate{Name: "nginx", RepositoryRef: capstanv1.RepositoryReference{Name: "stable"}}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func TestRelease_GetReleaseName(t *testing.T) {
	cases := map[string]struct {
		rel  *capstanv1.Release
		want string
	}{
		"defaults to metadata.name": {release(nil), "web"},
		"spec.releaseName wins":     {release(func(r *capstanv1.Release) { r.Spec.ReleaseName = "web-prod" }), "web-prod"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(tc.rel.GetReleaseName()).To(Equal(tc.want))
		})
	}
}

func TestRelease_namespaces(t *testing.T) {
	cases := map[string]struct {
		rel                            *capstanv1.Release
		target, storage, repoNamespace string
	}{
		"everything in the Release's namespace": {release(nil), "team-a", "team-a", "team-a"},
		"target and repository elsewhere, storage stays home": {
			release(func(r *capstanv1.Release) {
				r.Spec.TargetNamespace = "web"
				r.Spec.Chart.RepositoryRef.Namespace = "shared"
			}), "web", "team-a", "shared",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tc.rel.GetTargetNamespace()).To(Equal(tc.target))
			g.Expect(tc.rel.GetStorageNamespace()).To(Equal(tc.storage))
			g.Expect(tc.rel.GetRepositoryKey()).To(Equal(types.NamespacedName{Namespace: tc.repoNamespace, Name: "stable"}))
		})
	}
}

func TestRelease_GetDependencyKeys(t *testing.T) {
	g := NewWithT(t)
	r := release(func(r *capstanv1.Release) {
		r.Spec.DependsOn = []capstanv1.DependencyReference{{Name: "db"}, {Name: "cache", Namespace: "infra"}}
	})
	g.Expect(r.GetDependencyKeys()).To(Equal([]types.NamespacedName{
		{Namespace: "team-a", Name: "db"}, {Namespace: "infra", Name: "cache"},
	}))
	g.Expect(release(nil).GetDependencyKeys()).To(BeEmpty())
}

func TestRelease_durationGetters(t *testing.T) {
	cases := map[string]struct {
		rel                         *capstanv1.Release
		interval, timeout, testTime time.Duration
	}{
		"defaults": {release(nil), 10 * time.Minute, 5 * time.Minute, 5 * time.Minute},
		"set values win": {
			release(func(r *capstanv1.Release) {
				r.Spec.Interval = &metav1.Duration{Duration: time.Hour}
				r.Spec.Timeout = &metav1.Duration{Duration: 90 * time.Second}
			}), time.Hour, 90 * time.Second, 90 * time.Second,
		},
		"test timeout has its own value": {
			release(func(r *capstanv1.Release) {
				r.Spec.Test = &capstanv1.Test{Enable: true, Timeout: &metav1.Duration{Duration: 30 * time.Second}}
			}), 10 * time.Minute, 5 * time.Minute, 30 * time.Second,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tc.rel.GetInterval()).To(Equal(tc.interval))
			g.Expect(tc.rel.GetTimeout()).To(Equal(tc.timeout))
			g.Expect(tc.rel.GetTestTimeout()).To(Equal(tc.testTime))
		})
	}
}

func TestRelease_GetMaxHistory(t *testing.T) {
	cases := map[string]struct {
		rel  *capstanv1.Release
		want int
	}{
		"defaults to ten":        {release(nil), 10},
		"zero means unlimited":   {release(func(r *capstanv1.Release) { r.Spec.MaxHistory = ptr(0) }), 0},
		"an explicit value wins": {release(func(r *capstanv1.Release) { r.Spec.MaxHistory = ptr(3) }), 3},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(tc.rel.GetMaxHistory()).To(Equal(tc.want))
		})
	}
}

func TestRelease_policyGetters(t *testing.T) {
	cases := map[string]struct {
		rel          *capstanv1.Release
		installCRDs  capstanv1.CRDsPolicy
		upgradeCRDs  capstanv1.CRDsPolicy
		drift        capstanv1.DriftDetectionMode
		propagation  capstanv1.DeletionPropagation
		chartVersion string
		testEnabled  bool
	}{
		"defaults": {release(nil), capstanv1.CRDsCreate, capstanv1.CRDsSkip, capstanv1.DriftDetectionWarn, capstanv1.PropagationBackground, "*", false},
		"empty blocks keep the defaults": {
			release(func(r *capstanv1.Release) {
				r.Spec.Install, r.Spec.Upgrade = &capstanv1.Install{}, &capstanv1.Upgrade{}
				r.Spec.DriftDetection, r.Spec.Uninstall, r.Spec.Test = &capstanv1.DriftDetection{}, &capstanv1.Uninstall{}, &capstanv1.Test{}
			}), capstanv1.CRDsCreate, capstanv1.CRDsSkip, capstanv1.DriftDetectionWarn, capstanv1.PropagationBackground, "*", false,
		},
		"explicit values win": {
			release(func(r *capstanv1.Release) {
				r.Spec.Install = &capstanv1.Install{CRDs: capstanv1.CRDsSkip}
				r.Spec.Upgrade = &capstanv1.Upgrade{CRDs: capstanv1.CRDsCreateReplace}
				r.Spec.DriftDetection = &capstanv1.DriftDetection{Mode: capstanv1.DriftDetectionDisabled}
				r.Spec.Uninstall = &capstanv1.Uninstall{DeletionPropagation: capstanv1.PropagationOrphan}
				r.Spec.Chart.Version = "~1.2"
				r.Spec.Test = &capstanv1.Test{Enable: true}
			}), capstanv1.CRDsSkip, capstanv1.CRDsCreateReplace, capstanv1.DriftDetectionDisabled, capstanv1.PropagationOrphan, "~1.2", true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tc.rel.GetInstallCRDs()).To(Equal(tc.installCRDs))
			g.Expect(tc.rel.GetUpgradeCRDs()).To(Equal(tc.upgradeCRDs))
			g.Expect(tc.rel.GetDriftMode()).To(Equal(tc.drift))
			g.Expect(tc.rel.GetDeletionPropagation()).To(Equal(tc.propagation))
			g.Expect(tc.rel.GetChartVersion()).To(Equal(tc.chartVersion))
			g.Expect(tc.rel.IsTestEnabled()).To(Equal(tc.testEnabled))
		})
	}
}

func TestRelease_remediation(t *testing.T) {
	cases := map[string]struct {
		rel              *capstanv1.Release
		install, upgrade capstanv1.Remediation
	}{
		"defaults: no retries, install leaves the failure, upgrade rolls back": {
			release(nil),
			capstanv1.Remediation{Strategy: capstanv1.RemediationNone},
			capstanv1.Remediation{Strategy: capstanv1.RemediationRollback},
		},
		"retries without a strategy keep each action's default": {
			release(func(r *capstanv1.Release) {
				r.Spec.Install = &capstanv1.Install{Remediation: &capstanv1.Remediation{Retries: 2}}
				r.Spec.Upgrade = &capstanv1.Upgrade{Remediation: &capstanv1.Remediation{Retries: 3}}
			}),
			capstanv1.Remediation{Retries: 2, Strategy: capstanv1.RemediationNone},
			capstanv1.Remediation{Retries: 3, Strategy: capstanv1.RemediationRollback},
		},
		"explicit strategies win": {
			release(func(r *capstanv1.Release) {
				r.Spec.Install = &capstanv1.Install{Remediation: &capstanv1.Remediation{Strategy: capstanv1.RemediationUninstall}}
				r.Spec.Upgrade = &capstanv1.Upgrade{Remediation: &capstanv1.Remediation{Strategy: capstanv1.RemediationNone}}
			}),
			capstanv1.Remediation{Strategy: capstanv1.RemediationUninstall},
			capstanv1.Remediation{Strategy: capstanv1.RemediationNone},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(*tc.rel.GetInstallRemediation()).To(Equal(tc.install))
			g.Expect(*tc.rel.GetUpgradeRemediation()).To(Equal(tc.upgrade))
		})
	}
}

func TestRelease_GetInstallRemediation_returnsACopy(t *testing.T) {
	g := NewWithT(t)
	r := release(func(r *capstanv1.Release) {
		r.Spec.Install = &capstanv1.Install{Remediation: &capstanv1.Remediation{Retries: 1}}
	})
	r.GetInstallRemediation().Retries = 9
	g.Expect(r.Spec.Install.Remediation.Retries).To(Equal(1))
}

func TestRemediation_RetriesExhausted(t *testing.T) {
	cases := map[string]struct {
		rem       *capstanv1.Remediation
		failures  int64
		exhausted bool
	}{
		"nil: the first failure exhausts":       {nil, 1, true},
		"nil: no failure yet":                   {nil, 0, false},
		"two retries: second failure may retry": {&capstanv1.Remediation{Retries: 2}, 2, false},
		"two retries: third failure exhausts":   {&capstanv1.Remediation{Retries: 2}, 3, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tc.rem.RetriesExhausted(tc.failures)).To(Equal(tc.exhausted))
			g.Expect(tc.rem.GetStrategy()).To(Equal(capstanv1.RemediationNone))
		})
	}
}

func TestRelease_GetValues(t *testing.T) {
	cases := map[string]struct {
		raw     string
		want    map[string]any
		wantErr error
	}{
		"unset gives an empty map": {"", map[string]any{}, nil},
		"null gives an empty map":  {"null", map[string]any{}, nil},
		"numbers are float64 as in a values file": {
			`{"replicas":3,"image":{"tag":"1.2"},"list":[1,"a"]}`,
			map[string]any{"replicas": float64(3), "image": map[string]any{"tag": "1.2"}, "list": []any{float64(1), "a"}},
			nil,
		},
		"a list is refused":   {`[1,2]`, nil, capstanv1.ErrValuesNotObject},
		"a scalar is refused": {`"x"`, nil, capstanv1.ErrValuesNotObject},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			r := release(nil)
			if tc.raw != "" {
				r.Spec.Values = &runtime.RawExtension{Raw: []byte(tc.raw)}
			}
			got, err := r.GetValues()
			if tc.wantErr != nil {
				g.Expect(errors.Is(err, tc.wantErr)).To(BeTrue(), "error %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestRelease_GetValues_badJSON(t *testing.T) {
	g := NewWithT(t)
	r := release(func(r *capstanv1.Release) { r.Spec.Values = &runtime.RawExtension{Raw: []byte(`{"a":`)} })
	_, err := r.GetValues()
	g.Expect(err).To(MatchError(ContainSubstring("decoding spec.values")))
}

func FuzzRelease_GetValues(f *testing.F) {
	for _, seed := range []string{`{}`, `null`, `{"a":{"b":[1,2,{"c":null}]}}`, `[1]`, `"s"`, `{"a":1e400}`, `{`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := release(func(r *capstanv1.Release) { r.Spec.Values = &runtime.RawExtension{Raw: raw} })
		got, err := r.GetValues()
		if err == nil && got == nil {
			t.Fatalf("GetValues(%q) returned a nil map without an error", raw)
		}
		if err != nil && got != nil {
			t.Fatalf("GetValues(%q) returned a map and an error", raw)
		}
	})
}

func TestValuesReference_GetKey(t *testing.T) {
	g := NewWithT(t)
	g.Expect((&capstanv1.ValuesReference{}).GetKey()).To(Equal("values.yaml"))
	g.Expect((&capstanv1.ValuesReference{Key: "prod.yaml"}).GetKey()).To(Equal("prod.yaml"))
}

func TestRelease_conditions(t *testing.T) {
	g := NewWithT(t)
	r := release(nil)
	conds := []metav1.Condition{{Type: capstanv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: capstanv1.SucceededReason}}
	r.SetConditions(conds)
	g.Expect(r.GetConditions()).To(Equal(conds))
	g.Expect(r.Status.Conditions).To(Equal(conds))
}

func TestObjectSelector_Matches(t *testing.T) {
	deploy := capstanv1.ObjectRef{Namespace: "web", Name: "nginx", Group: "apps", Kind: "Deployment"}
	cases := map[string]struct {
		sel  *capstanv1.ObjectSelector
		want bool
	}{
		"nil selects everything":       {nil, true},
		"empty selects everything":     {&capstanv1.ObjectSelector{}, true},
		"matching group and kind":      {&capstanv1.ObjectSelector{Group: "apps", Kind: "Deployment"}, true},
		"another kind does not match":  {&capstanv1.ObjectSelector{Kind: "StatefulSet"}, false},
		"another name does not match":  {&capstanv1.ObjectSelector{Name: "other"}, false},
		"another namespace is skipped": {&capstanv1.ObjectSelector{Namespace: "db"}, false},
		"every field matching":         {&capstanv1.ObjectSelector{Group: "apps", Kind: "Deployment", Name: "nginx", Namespace: "web"}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(tc.sel.Matches(deploy)).To(Equal(tc.want))
		})
	}
}
