package cli

import (
	"errors"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

func TestTestRequestValue(t *testing.T) {
	g := NewWithT(t)
	at := time.Date(2025, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))
	g.Expect(TestRequestValue(at)).To(Equal("2025-01-02T02:04:05.000006789Z"), "UTC with nanoseconds")
	g.Expect(TestRequestValue(at.Add(time.Nanosecond))).NotTo(Equal(TestRequestValue(at)))
}

func TestTestCheck(t *testing.T) {
	const value = "2025-01-02T02:04:05.000006789Z"
	oldResult := cond(capstanv1.TestSuccessCondition, metav1.ConditionTrue, capstanv1.TestSucceededReason, "1 test passed")
	cases := map[string]struct {
		now      func(*capstanv1.Release)
		wantDone bool
		wantErr  string
	}{
		"not handled yet, with the result of an earlier run": {
			now: func(r *capstanv1.Release) { r.Status.Conditions = []metav1.Condition{oldResult} },
		},
		"handled while the tests still run": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledTestAt = value
				r.Status.Conditions = []metav1.Condition{oldResult,
					cond(capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason, "Running tests")}
			},
		},
		"handled with an unknown result": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledTestAt = value
				r.Status.Conditions = []metav1.Condition{cond(capstanv1.TestSuccessCondition, metav1.ConditionUnknown, capstanv1.ProgressingReason, "running")}
			},
		},
		"handled without any result": {
			now: func(r *capstanv1.Release) { r.Status.LastHandledTestAt = value },
		},
		"the tests passed": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledTestAt = value
				r.Status.Conditions = []metav1.Condition{oldResult}
			},
			wantDone: true,
		},
		"a test failed": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledTestAt = value
				r.Status.Conditions = []metav1.Condition{cond(capstanv1.TestSuccessCondition, metav1.ConditionFalse, capstanv1.TestFailedReason, "web-test failed")}
			},
			wantDone: true, wantErr: "test failed (TestFailed): web-test failed",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			before := release()
			now := before.DeepCopy()
			now.Annotations = map[string]string{capstanv1.TestAnnotation: value}
			tc.now(now)
			done, err := TestCheck(before, value)(now)
			g.Expect(done).To(Equal(tc.wantDone))
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			g.Expect(errors.Is(err, ErrFailed)).To(BeTrue())
		})
	}
}

func TestWriteTestSuites(t *testing.T) {
	g := NewWithT(t)
	r := rec(3, storage.StatusDeployed, "Upgrade complete")
	r.Hooks = []*storage.Hook{
		{Name: "web-test-connection", Kind: "Pod", Events: []string{"test"},
			LastRun: storage.HookExecution{StartedAt: t0, CompletedAt: t0.Add(3 * time.Second), Phase: storage.HookPhaseSucceeded}},
		{Name: "web-migrate", Kind: "Job", Events: []string{"pre-upgrade"}},
		nil,
		{Name: "web-test-never-ran", Kind: "Pod", Events: []string{"test"}},
	}
	var b strings.Builder
	g.Expect(WriteTestSuites(&b, r)).To(Succeed())
	g.Expect(b.String()).To(Equal(
		"TEST SUITE:     web-test-connection\nLast Started:   Tue Mar  5 08:08:09 2024\n" +
			"Last Completed: Tue Mar  5 08:08:12 2024\nPhase:          Succeeded\n" +
			"TEST SUITE:     web-test-never-ran\nLast Started:   Mon Jan  1 00:00:00 0001\n" +
			"Last Completed: Mon Jan  1 00:00:00 0001\nPhase:          \n"))
}

func TestWriteTestResult(t *testing.T) {
	g := NewWithT(t)
	rel := release()
	var b strings.Builder
	g.Expect(WriteTestResult(&b, rel)).To(Succeed())
	g.Expect(b.String()).To(Equal("TEST SUCCESS: unknown\n"))
	rel.Status.Conditions = []metav1.Condition{cond(capstanv1.TestSuccessCondition, metav1.ConditionFalse, capstanv1.TestFailedReason, "web-test failed")}
	b.Reset()
	g.Expect(WriteTestResult(&b, rel)).To(Succeed())
	g.Expect(b.String()).To(Equal("TEST SUCCESS: False (TestFailed) web-test failed\n"))
}
