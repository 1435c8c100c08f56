package reconcile

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

func TestFieldConflicts_sortedAndBounded(t *testing.T) {
	g := NewWithT(t)
	var cs []apply.Conflict
	for i := 25; i > 0; i-- {
		cs = append(cs, apply.Conflict{Ref: apply.ObjectRef{Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("c%02d", i)},
			Field: ".data.k", Manager: "other"})
	}
	got := fieldConflicts(cs)
	g.Expect(got).To(HaveLen(maxStatusConflicts))
	g.Expect(got[0]).To(Equal(capstanv1.FieldConflict{Object: "ConfigMap/apps/c01", Field: ".data.k", Manager: "other"}))
	g.Expect(got[19].Object).To(Equal("ConfigMap/apps/c20"))
}

func TestOnlyHelmConflicts(t *testing.T) {
	conflict := func(managers ...string) error {
		var cs []apply.Conflict
		for _, m := range managers {
			cs = append(cs, apply.Conflict{Field: ".data.k", Manager: m})
		}
		return fmt.Errorf("preflight: %w", &apply.FieldConflictError{Conflicts: cs})
	}
	cases := map[string]struct {
		err  error
		want bool
	}{
		"helm's conflicts alone are the release's own":   {err: conflict("helm", "helm"), want: true},
		"another manager's conflict fails":               {err: conflict("helm", "kube-controller-manager")},
		"kubectl's client-side apply is another manager": {err: conflict("kubectl-client-side-apply")},
		"a dry-run rejection is not a conflict":          {err: &apply.DryRunError{Failures: []apply.Failure{{Message: "invalid"}}}},
		"an empty conflict error is not helm's":          {err: &apply.FieldConflictError{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(onlyHelmConflicts(tc.err)).To(Equal(tc.want))
		})
	}
}

func TestIgnoreFunc_includesYieldedFields(t *testing.T) {
	g := NewWithT(t)
	rel := &capstanv1.Release{}
	rel.Spec.DriftDetection = &capstanv1.DriftDetection{Ignore: []capstanv1.IgnoreRule{{Paths: []string{"/data/k"}}}}
	rel.Spec.Upgrade = &capstanv1.Upgrade{Conflicts: &capstanv1.Conflicts{Policy: capstanv1.ConflictYield,
		Yield: []capstanv1.FieldRule{{Paths: []string{"/spec/replicas"}, Target: &capstanv1.ObjectSelector{Kind: "Deployment"}}}}}
	deploy := apply.ObjectRef{Group: "apps", Kind: "Deployment", Namespace: "apps", Name: "web"}
	cm := apply.ObjectRef{Kind: "ConfigMap", Namespace: "apps", Name: "settings"}
	g.Expect(ignoreFunc(rel)(deploy)).To(Equal([]string{"/data/k", "/spec/replicas"}))
	g.Expect(ignoreFunc(rel)(cm)).To(Equal([]string{"/data/k"}))
	g.Expect(yieldFunc(rel)(deploy)).To(Equal([]string{"/spec/replicas"}))

	rel.Spec.Upgrade.Conflicts.Policy = capstanv1.ConflictForce
	g.Expect(yieldFunc(rel)).To(BeNil(), "only policy Yield yields")
	g.Expect(ignoreFunc(rel)(deploy)).To(Equal([]string{"/data/k"}))
}
