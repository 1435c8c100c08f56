package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

func TestReadyCheck(t *testing.T) {
	ready := cond(capstanv1.ReadyCondition, metav1.ConditionTrue, "InstallSucceeded", "Revision 1 deployed")
	cases := map[string]struct {
		conds    []metav1.Condition
		gen      int64
		wantDone bool
		wantErr  error
	}{
		"no conditions yet keeps waiting":        {},
		"Ready at the latest generation is done": {conds: []metav1.Condition{ready}, wantDone: true},
		"Ready for an older spec keeps waiting":  {conds: []metav1.Condition{ready}, gen: 4},
		"Ready while reconciling keeps waiting": {conds: []metav1.Condition{ready,
			cond(capstanv1.ReconcilingCondition, metav1.ConditionTrue, "Progressing", "Upgrading")}},
		"Ready=False without a stall keeps waiting": {conds: []metav1.Condition{
			cond(capstanv1.ReadyCondition, metav1.ConditionFalse, "InstallFailed", "retrying")}},
		"Stalled ends the wait as not ready": {conds: []metav1.Condition{
			cond(capstanv1.ReadyCondition, metav1.ConditionFalse, "ChartNotFound", "no chart"),
			cond(capstanv1.StalledCondition, metav1.ConditionTrue, "ChartNotFound", "no chart")},
			wantDone: true, wantErr: ErrNotReady},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := release()
			if tc.gen != 0 {
				rel.Generation = tc.gen
			}
			rel.Status.Conditions = tc.conds
			done, err := ReadyCheck(rel)
			g.Expect(done).To(Equal(tc.wantDone))
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(tc.wantErr))
		})
	}
}

func TestConditionsLine(t *testing.T) {
	g := NewWithT(t)
	rel := release()
	g.Expect(ConditionsLine(rel)).To(Equal("no conditions yet (the controller has not reported)"))
	rel.Status.Conditions = []metav1.Condition{
		cond(capstanv1.ReconcilingCondition, metav1.ConditionTrue, "Progressing", "Installing"),
		cond(capstanv1.ReadyCondition, metav1.ConditionUnknown, "Progressing", "Installing revision 1"),
	}
	g.Expect(ConditionsLine(rel)).To(Equal("Ready=Unknown (Progressing) Reconciling=True (Progressing): Installing revision 1"))
}

func TestTarget_WaitReady(t *testing.T) {
	g := NewWithT(t)
	rel := release()
	rel.Status.Conditions = []metav1.Condition{cond(capstanv1.ReadyCondition, metav1.ConditionUnknown, "Progressing", "Installing")}
	target := fakeTarget(t, rel)
	var progress strings.Builder
	err := target.WaitReady(context.Background(), 100*time.Millisecond, NewProgress(&progress, false, 0))
	g.Expect(err).To(MatchError(ErrTimeout))
	g.Expect(progress.String()).To(Equal("Ready=Unknown (Progressing): Installing\n"), "one line while nothing changes")
}
