package reconcile

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/storage"
)

func releaseAt(generation int64) *capstanv1.Release {
	rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", Generation: generation}}
	rel.Status.ObservedGeneration = -1
	return rel
}

func TestSummarize(t *testing.T) {
	type want struct {
		ready, stalled  metav1.ConditionStatus
		reason, message string
		observed        int64
	}
	cases := map[string]struct {
		prepare func(*capstanv1.Release)
		err     error
		want    want
	}{
		"success with a deployed revision is Ready with what is deployed": {
			prepare: func(r *capstanv1.Release) {
				r.Status.CurrentRevision, r.Status.ChartName, r.Status.ChartVersion = 3, "demo", "1.2.0"
				setCondition(r, capstanv1.ReleasedCondition, metav1.ConditionTrue, capstanv1.UpgradeSucceededReason, "upgraded")
				markReconciling(r, "working")
			},
			want: want{ready: metav1.ConditionTrue, reason: capstanv1.UpgradeSucceededReason,
				message: "Revision 3 of demo 1.2.0 is deployed", observed: 4},
		},
		"success without a Released condition is Succeeded": {
			prepare: func(r *capstanv1.Release) {
				r.Status.CurrentRevision, r.Status.ChartName, r.Status.ChartVersion = 1, "demo", "1.0.0"
			},
			want: want{ready: metav1.ConditionTrue, reason: capstanv1.SucceededReason,
				message: "Revision 1 of demo 1.0.0 is deployed", observed: 4},
		},
		"success after a failed action keeps the release not Ready": {
			prepare: func(r *capstanv1.Release) {
				setCondition(r, capstanv1.ReleasedCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, "rollback of revision 5 failed")
			},
			want: want{ready: metav1.ConditionFalse, reason: capstanv1.RollbackFailedReason,
				message: "rollback of revision 5 failed", observed: 4},
		},
		"a stall is Stalled and not Ready, and observes the generation": {
			err: stallErr(capstanv1.RenderFailedReason, errors.New("execution error at (demo/templates/x.yaml:1:2): boom")),
			want: want{ready: metav1.ConditionFalse, stalled: metav1.ConditionTrue, reason: capstanv1.RenderFailedReason,
				message: "execution error at (demo/templates/x.yaml:1:2): boom", observed: 4},
		},
		"waiting is not Ready, not Stalled, and does not observe the generation": {
			prepare: func(r *capstanv1.Release) {
				setCondition(r, capstanv1.StalledCondition, metav1.ConditionTrue, "Old", "old")
			},
			err: waitErr(capstanv1.DependencyNotReadyReason, 0, errors.New("dependency Release apps/db is not ready")),
			want: want{ready: metav1.ConditionFalse, reason: capstanv1.DependencyNotReadyReason,
				message: "dependency Release apps/db is not ready", observed: -1},
		},
		"an unclassified error is transient": {
			err: errors.New("connection refused"),
			want: want{ready: metav1.ConditionFalse, reason: ReasonReconcileFailed,
				message: "connection refused", observed: -1},
		},
		"an access denial anywhere stalls": {
			err: apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("no")),
			want: want{ready: metav1.ConditionFalse, stalled: metav1.ConditionTrue, reason: capstanv1.AccessDeniedReason,
				message: `secrets is forbidden: no`, observed: 4},
		},
		"a multi-line error becomes one line": {
			err:  transientErr("X", fmt.Errorf("line one\n  line two%s", "\n")),
			want: want{ready: metav1.ConditionFalse, reason: "X", message: "line one line two", observed: -1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := releaseAt(4)
			if tc.prepare != nil {
				tc.prepare(rel)
			}
			summarize(rel, Outcome{Err: tc.err})
			ready := findCondition(rel, capstanv1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(tc.want.ready))
			g.Expect(ready.Reason).To(Equal(tc.want.reason))
			g.Expect(ready.Message).To(Equal(tc.want.message))
			g.Expect(rel.Status.ObservedGeneration).To(Equal(tc.want.observed))
			g.Expect(findCondition(rel, capstanv1.ReconcilingCondition)).To(BeNil())
			if tc.want.stalled == "" {
				g.Expect(findCondition(rel, capstanv1.StalledCondition)).To(BeNil())
			} else {
				g.Expect(findCondition(rel, capstanv1.StalledCondition).Status).To(Equal(tc.want.stalled))
			}
		})
	}
}

func TestSummarize_isStableAcrossRepeats(t *testing.T) {
	g := NewWithT(t)
	rel := releaseAt(2)
	rel.Status.CurrentRevision, rel.Status.ChartName, rel.Status.ChartVersion = 1, "demo", "1.0.0"
	summarize(rel, Outcome{})
	first := rel.DeepCopy()
	summarize(rel, Outcome{})
	g.Expect(rel.Status).To(Equal(first.Status), "a second summary of the same facts changes nothing")
}

func TestMarkSuspended_keepsReadyStatus(t *testing.T) {
	g := NewWithT(t)
	rel := releaseAt(1)
	setCondition(rel, capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.SucceededReason, "ok")
	markReconciling(rel, "x")
	setCondition(rel, capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.SucceededReason, "ok")
	markSuspended(rel)
	ready := findCondition(rel, capstanv1.ReadyCondition)
	g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(ready.Reason).To(Equal(capstanv1.SuspendedReason))
	g.Expect(findCondition(rel, capstanv1.ReconcilingCondition)).To(BeNil())
}

func TestCountsAsFailure(t *testing.T) {
	stalled := metav1.Condition{Type: capstanv1.ReadyCondition, Status: metav1.ConditionFalse, Reason: "RenderFailed", Message: "boom"}
	other := stalled
	other.Message = "bang"
	cases := map[string]struct {
		err           error
		actionFailed  bool
		before, after *metav1.Condition
		want          bool
	}{
		"success never counts":                        {err: nil, before: &stalled, after: &other, want: false},
		"waiting is not failing":                      {err: waitErr("W", 0, errors.New("w")), before: nil, after: &stalled, want: false},
		"a new stall counts":                          {err: stallErr("S", errors.New("s")), before: nil, after: &stalled, want: true},
		"the same stall again does not count":         {err: stallErr("S", errors.New("s")), before: &stalled, after: &stalled, want: false},
		"a stall with another message counts":         {err: stallErr("S", errors.New("s")), before: &stalled, after: &other, want: true},
		"a failed action always counts":               {err: transientErr("T", errors.New("t")), actionFailed: true, before: &stalled, after: &stalled, want: true},
		"a transient error that changes Ready counts": {err: errors.New("t"), before: &stalled, after: &other, want: true},
		"a transient error repeated does not count":   {err: errors.New("t"), before: &other, after: &other, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(countsAsFailure(tc.err, tc.actionFailed, tc.before, tc.after)).To(Equal(tc.want))
		})
	}
}

func TestOneLine(t *testing.T) {
	g := NewWithT(t)
	g.Expect(oneLine("a\n\tb  c\r\n")).To(Equal("a b c"))
	long := strings.Repeat("é", maxMessage)
	got := oneLine(long)
	g.Expect(len(got)).To(BeNumerically("<=", maxMessage))
	g.Expect(strings.HasSuffix(got, "...")).To(BeTrue())
	g.Expect([]rune(strings.TrimSuffix(got, "..."))).NotTo(ContainElement('\uFFFD'), "never cuts a character in half")
}

// TestRestoreReleased covers the in-sync reconcile that finds the newest record deployed while
// Released still tells of an earlier failure: a reconcile that failed after marking the record
// deployed (a refused supersede, found by the chaos suite's API faults) left it so.
func TestRestoreReleased(t *testing.T) {
	record := func(version int, status storage.Status, rollbackOf int) *storage.Release {
		return &storage.Release{Name: "web", Namespace: "apps", Version: version,
			Info:  storage.Info{Status: status, RollbackRevision: rollbackOf},
			Chart: storage.Chart{Metadata: &chart.Metadata{Name: "demo", Version: "1.2.0"}}}
	}
	cases := map[string]struct {
		records    []*storage.Release
		prepare    func(*capstanv1.Release)
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		"a deployed upgrade after a failed one is Released": {
			records: []*storage.Release{record(1, storage.StatusSuperseded, 0), record(2, storage.StatusFailed, 0), record(3, storage.StatusDeployed, 0)},
			prepare: func(r *capstanv1.Release) {
				setCondition(r, capstanv1.ReleasedCondition, metav1.ConditionFalse, capstanv1.UpgradeFailedReason, "upgrade of revision 2 failed")
			},
			wantStatus: metav1.ConditionTrue, wantReason: capstanv1.UpgradeSucceededReason,
		},
		"a deployed first revision is an install": {
			records:    []*storage.Release{record(1, storage.StatusDeployed, 0)},
			wantStatus: metav1.ConditionTrue, wantReason: capstanv1.InstallSucceededReason,
		},
		"a deployed manual rollback is a rollback": {
			records: []*storage.Release{record(1, storage.StatusSuperseded, 0), record(2, storage.StatusDeployed, 1)},
			prepare: func(r *capstanv1.Release) {
				setCondition(r, capstanv1.ReleasedCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, "interrupted")
			},
			wantStatus: metav1.ConditionTrue, wantReason: capstanv1.RollbackSucceededReason,
		},
		"a remediation keeps the failure it remediated": {
			records: []*storage.Release{record(1, storage.StatusSuperseded, 0), record(2, storage.StatusFailed, 0), record(3, storage.StatusDeployed, 1)},
			prepare: func(r *capstanv1.Release) {
				setCondition(r, capstanv1.ReleasedCondition, metav1.ConditionFalse, capstanv1.UpgradeFailedReason, "upgrade of revision 2 failed")
				setCondition(r, capstanv1.RemediatedCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, "rolled back")
			},
			wantStatus: metav1.ConditionFalse, wantReason: capstanv1.UpgradeFailedReason,
		},
		"a newest record that failed keeps the failure": {
			records: []*storage.Release{record(1, storage.StatusDeployed, 0), record(2, storage.StatusFailed, 0)},
			prepare: func(r *capstanv1.Release) {
				setCondition(r, capstanv1.ReleasedCondition, metav1.ConditionFalse, capstanv1.UpgradeFailedReason, "upgrade of revision 2 failed")
			},
			wantStatus: metav1.ConditionFalse, wantReason: capstanv1.UpgradeFailedReason,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := releaseAt(4)
			if tc.prepare != nil {
				tc.prepare(rel)
			}
			restoreReleased(rel, tc.records)
			c := findCondition(rel, capstanv1.ReleasedCondition)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(tc.wantStatus))
			g.Expect(c.Reason).To(Equal(tc.wantReason))
		})
	}
}
