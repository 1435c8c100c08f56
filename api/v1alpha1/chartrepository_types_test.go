package v1alpha1_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

func TestChartRepository_getters(t *testing.T) {
	cases := map[string]struct {
		spec              capstanv1.ChartRepositorySpec
		interval, timeout time.Duration
		oci               bool
	}{
		"http repository with defaults": {capstanv1.ChartRepositorySpec{URL: "https://charts.example.com"}, 10 * time.Minute, time.Minute, false},
		"oci registry with set durations": {
			capstanv1.ChartRepositorySpec{
				URL:      "oci://ghcr.io/example/charts",
				Interval: &metav1.Duration{Duration: time.Hour},
				Timeout:  &metav1.Duration{Duration: 10 * time.Second},
			}, time.Hour, 10 * time.Second, true,
		},
		"a path containing oci is still http": {capstanv1.ChartRepositorySpec{URL: "http://example.com/oci://x"}, 10 * time.Minute, time.Minute, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			repo := &capstanv1.ChartRepository{Spec: tc.spec}
			g.Expect(repo.GetInterval()).To(Equal(tc.interval))
			g.Expect(repo.GetTimeout()).To(Equal(tc.timeout))
			g.Expect(repo.IsOCI()).To(Equal(tc.oci))
		})
	}
}

func TestChartRepository_conditions(t *testing.T) {
	g := NewWithT(t)
	repo := &capstanv1.ChartRepository{}
	conds := []metav1.Condition{{Type: capstanv1.FetchFailedCondition, Status: metav1.ConditionTrue, Reason: capstanv1.IndexFetchFailedReason}}
	repo.SetConditions(conds)
	g.Expect(repo.GetConditions()).To(Equal(conds))
}
