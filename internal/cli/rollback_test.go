package cli

import (
	"errors"
	"strconv"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

const (
	superseded = storage.StatusSuperseded
	deployed   = storage.StatusDeployed
	failed     = storage.StatusFailed
)

func TestParseRevision(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    int
		wantErr bool
	}{
		"a revision number":        {in: "3", want: 3},
		"zero means choose for me": {in: "0", want: 0},
		"a negative number":        {in: "-1", wantErr: true},
		"not a number":             {in: "three", wantErr: true},
		"a number with a suffix":   {in: "3x", wantErr: true},
		"empty":                    {in: "", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ParseRevision(tc.in)
			if tc.wantErr {
				g.Expect(errors.Is(err, ErrInvalidArgument)).To(BeTrue(), "error %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func FuzzParseRevision(f *testing.F) {
	for _, s := range []string{"1", "0", "-1", "01", "+2", "99999999999999999999", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseRevision(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("ParseRevision(%q): error %v does not wrap ErrInvalidArgument", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseRevision(%q) = %d, a negative revision", s, n)
		}
		if back, _ := strconv.Atoi(s); back != n {
			t.Fatalf("ParseRevision(%q) = %d, not the number written", s, n)
		}
	})
}

func TestDefaultRollbackTarget(t *testing.T) {
	withCorrupt := records(superseded, superseded, deployed)
	withCorrupt[1] = corrupt(2)
	cases := map[string]struct {
		records        []*storage.Release
		rollbackTarget int
		want           int
		wantErr        bool
	}{
		"after upgrades, the revision deployed before the current one": {
			records: records(superseded, superseded, deployed), rollbackTarget: 3, want: 2,
		},
		"after a failed upgrade, the last good revision from status": {
			records: records(superseded, deployed, failed), rollbackTarget: 2, want: 2,
		},
		"after a failed upgrade without a status target, the deployed revision's predecessor": {
			records: records(superseded, deployed, failed), want: 1,
		},
		"failed revisions are skipped: they were never in effect": {
			records: records(superseded, failed, failed, deployed), rollbackTarget: 4, want: 1,
		},
		"a status target without a record is not used": {
			records: records(superseded, superseded, deployed), rollbackTarget: 9, want: 2,
		},
		"a status target that never deployed is not used": {
			records: records(superseded, failed, deployed, failed), rollbackTarget: 2, want: 1,
		},
		"an unreadable record is skipped": {
			records: withCorrupt, rollbackTarget: 3, want: 1,
		},
		"nothing deployed: the newest earlier revision that was": {
			records: records(superseded, failed), want: 1,
		},
		"a single revision has nothing to go back to": {
			records: records(deployed), rollbackTarget: 1, wantErr: true,
		},
		"only failures before the current revision": {
			records: records(failed, deployed), rollbackTarget: 2, wantErr: true,
		},
		"no records": {wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := release()
			rel.Status.RollbackTarget = tc.rollbackTarget
			got, err := DefaultRollbackTarget(rel, tc.records)
			if tc.wantErr {
				g.Expect(errors.Is(err, ErrNoRevision)).To(BeTrue(), "error %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestCheckRollbackTarget(t *testing.T) {
	recs := records(superseded, failed, deployed)
	recs = append(recs, corrupt(4))
	cases := map[string]struct {
		n       int
		wantErr string
	}{
		"a superseded revision":             {n: 1},
		"a failed revision, as helm allows": {n: 2},
		"the deployed revision":             {n: 3},
		"an unreadable revision":            {n: 4, wantErr: "revision 4 cannot be rolled back to"},
		"a revision that does not exist":    {n: 9, wantErr: "the release has no revision 9 (revisions: 1, 2, 3, 4)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := CheckRollbackTarget(recs, tc.n)
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			g.Expect(errors.Is(err, ErrNoRevision)).To(BeTrue())
		})
	}
}

func TestRollbackRequestValue(t *testing.T) {
	cases := map[string]struct {
		lastHandled string
		n           int
		want        string
	}{
		"a first request is the number":                         {n: 2, want: "2"},
		"a request after another revision's is the number":      {lastHandled: "1", n: 2, want: "2"},
		"a repeated request gets a leading zero to be new":      {lastHandled: "2", n: 2, want: "02"},
		"the request after that is the plain number again":      {lastHandled: "02", n: 2, want: "2"},
		"another revision after a zero-padded request is plain": {lastHandled: "02", n: 12, want: "12"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := release()
			rel.Status.LastHandledRollbackTo = tc.lastHandled
			got := RollbackRequestValue(rel, tc.n)
			g.Expect(got).To(Equal(tc.want))
			g.Expect(got).NotTo(Equal(tc.lastHandled))
			n, err := strconv.Atoi(got)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(n).To(Equal(tc.n), "every spelling is the same decimal number")
		})
	}
}

func TestRollbackCheck(t *testing.T) {
	const value = "2"
	oldStall := cond(capstanv1.StalledCondition, metav1.ConditionTrue, capstanv1.RetriesExhaustedReason, "upgrade failed 1 time(s)")
	cases := map[string]struct {
		before, now func(*capstanv1.Release)
		wantDone    bool
		wantErr     string
	}{
		"not handled yet, with a stale Ready=True": {
			now: func(r *capstanv1.Release) {
				r.Status.Conditions = []metav1.Condition{cond(capstanv1.ReadyCondition, metav1.ConditionTrue, "UpgradeSucceeded", "ok")}
			},
		},
		"handled and still reconciling": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledRollbackTo = value
				r.Status.Conditions = []metav1.Condition{
					cond(capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason, "Rolling back"),
					cond(capstanv1.ReadyCondition, metav1.ConditionUnknown, capstanv1.ProgressingReason, "Rolling back"),
				}
			},
		},
		"handled, but Ready is for an older generation": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledRollbackTo = value
				c := cond(capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, "ok")
				c.ObservedGeneration = 2
				r.Status.Conditions = []metav1.Condition{c}
			},
		},
		"handled and Ready": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledRollbackTo = value
				r.Status.Conditions = []metav1.Condition{cond(capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, "Revision 5 of demo 1.0.0 is deployed")}
			},
			wantDone: true,
		},
		"handled and failed: the Released message tells why": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledRollbackTo = value
				r.Status.Conditions = []metav1.Condition{
					cond(capstanv1.ReleasedCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, "rollback of revision 5 failed: timed out"),
					cond(capstanv1.ReadyCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, "summary"),
				}
			},
			wantDone: true, wantErr: "rollback failed (RollbackFailed): rollback of revision 5 failed: timed out",
		},
		"handled and not ready without a Released failure: Ready's message": {
			now: func(r *capstanv1.Release) {
				r.Status.LastHandledRollbackTo = value
				r.Status.Conditions = []metav1.Condition{cond(capstanv1.ReadyCondition, metav1.ConditionFalse, capstanv1.HealthCheckFailedReason, "web not ready")}
			},
			wantDone: true, wantErr: "rollback failed (HealthCheckFailed): web not ready",
		},
		"refused with a new stall": {
			now: func(r *capstanv1.Release) {
				r.Status.Conditions = []metav1.Condition{cond(capstanv1.StalledCondition, metav1.ConditionTrue, capstanv1.RollbackFailedReason, "revision 2 cannot be rolled back to")}
			},
			wantDone: true, wantErr: "the controller stalled (RollbackFailed): revision 2 cannot be rolled back to",
		},
		"a stall that was there before the request is not the answer": {
			before: func(r *capstanv1.Release) { r.Status.Conditions = []metav1.Condition{oldStall} },
			now:    func(r *capstanv1.Release) { r.Status.Conditions = []metav1.Condition{oldStall} },
		},
		"a stall whose message changed is new": {
			before: func(r *capstanv1.Release) { r.Status.Conditions = []metav1.Condition{oldStall} },
			now: func(r *capstanv1.Release) {
				s := oldStall
				s.Reason, s.Message = capstanv1.DryRunFailedReason, "dry-run failed"
				r.Status.Conditions = []metav1.Condition{s}
			},
			wantDone: true, wantErr: "dry-run failed",
		},
		"another client changed the annotation": {
			now: func(r *capstanv1.Release) {
				r.Annotations[capstanv1.RollbackToAnnotation] = "1"
			},
			wantDone: true, wantErr: `changed from "2" to "1"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			before := release()
			if tc.before != nil {
				tc.before(before)
			}
			now := before.DeepCopy()
			now.Annotations = map[string]string{capstanv1.RollbackToAnnotation: value}
			tc.now(now)
			done, err := RollbackCheck(before, value)(now)
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
