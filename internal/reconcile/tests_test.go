package reconcile

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/storage"
)

// scriptedTests stands in for the hook runner: hooks named in fail fail, the others pass; it
// records the events it was asked to run.
type scriptedTests struct {
	fail   map[string]bool
	events *[]string
}

func (r scriptedTests) Run(_ context.Context, event string, hooks []*storage.Hook, _ time.Duration) error {
	*r.events = append(*r.events, event)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, h := range testHooks(hooks) {
		if r.fail[h.Name] {
			h.LastRun = storage.HookExecution{StartedAt: at, CompletedAt: at, Phase: storage.HookPhaseFailed}
			return errors.New("test hook Pod/apps/" + h.Name + " failed: HookFailed: pod failed")
		}
		h.LastRun = storage.HookExecution{StartedAt: at, CompletedAt: at, Phase: storage.HookPhaseSucceeded}
	}
	return nil
}

// testRecord is a deployed revision 3 with the given test hooks and one pre-install hook.
func testRecord(tests ...string) *storage.Release {
	rec := &storage.Release{Name: "web", Namespace: "apps", Version: 3,
		Info:     storage.Info{Status: storage.StatusDeployed},
		Manifest: "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
		Hooks:    []*storage.Hook{{Name: "web-setup", Kind: "Job", Events: []string{"pre-install"}}}}
	for _, name := range tests {
		rec.Hooks = append(rec.Hooks, &storage.Hook{Name: name, Kind: "Pod", Events: []string{"test"}})
	}
	return rec
}

func TestSession_test(t *testing.T) {
	cases := map[string]struct {
		annotation, handled string
		enable              bool
		action              ActionKind
		err                 error
		undecided           bool
		noRecord, noRunner  bool
		tests, fail         []string
		wantRun             bool
		wantStatus          metav1.ConditionStatus
		wantMessage         string
		wantHandled         string
		wantEvents          []string
		wantPhase           storage.HookPhase
	}{
		"a new request on an in-sync release runs the tests": {
			annotation: "t1", action: ActionNothing, tests: []string{"web-test"}, wantRun: true,
			wantStatus: metav1.ConditionTrue, wantMessage: "1 test hook(s) of revision 3 passed: web-test",
			wantHandled: "t1", wantEvents: []string{"Normal TestSucceeded"}, wantPhase: storage.HookPhaseSucceeded,
		},
		"a failing test hook is named, and the request is still handled": {
			annotation: "t1", action: ActionNothing, tests: []string{"web-a", "web-b"}, fail: []string{"web-b"}, wantRun: true,
			wantStatus:  metav1.ConditionFalse,
			wantMessage: "test hook web-b of revision 3 failed: test hook Pod/apps/web-b failed: HookFailed: pod failed",
			wantHandled: "t1", wantEvents: []string{"Warning TestFailed"}, wantPhase: storage.HookPhaseFailed,
		},
		"a handled request is not run again": {
			annotation: "t1", handled: "t1", action: ActionNothing, tests: []string{"web-test"}, wantHandled: "t1",
		},
		"spec.test.enable runs the tests after an upgrade": {
			enable: true, action: ActionUpgrade, tests: []string{"web-test"}, wantRun: true,
			wantStatus: metav1.ConditionTrue, wantMessage: "1 test hook(s) of revision 3 passed: web-test",
			wantEvents: []string{"Normal TestSucceeded"}, wantPhase: storage.HookPhaseSucceeded,
		},
		"spec.test.enable does not run the tests of an in-sync release": {
			enable: true, action: ActionNothing, tests: []string{"web-test"},
		},
		"a request waits while the reconcile is retried": {
			annotation: "t1", action: ActionUpgrade, tests: []string{"web-test"},
			err: transientErr(capstanv1.UpgradeFailedReason, errors.New("apply failed")),
		},
		"a request is answered on a stalled release": {
			annotation: "t1", action: ActionNothing, tests: []string{"web-test"}, wantRun: true,
			err:        stallErr(capstanv1.RetriesExhaustedReason, errors.New("retries exhausted")),
			wantStatus: metav1.ConditionTrue, wantHandled: "t1", wantEvents: []string{"Normal TestSucceeded"},
			wantMessage: "1 test hook(s) of revision 3 passed: web-test", wantPhase: storage.HookPhaseSucceeded,
		},
		"a request before the decision (a name conflict) is left pending": {
			annotation: "t1", undecided: true, tests: []string{"web-test"},
			err: stallErr(capstanv1.ReleaseNameConflictReason, errors.New("taken")),
		},
		"a revision without test hooks passes": {
			annotation: "t1", action: ActionNothing, wantStatus: metav1.ConditionTrue,
			wantMessage: "revision 3 has no test hooks", wantHandled: "t1", wantEvents: []string{"Normal TestSucceeded"},
		},
		"nothing deployed fails the request": {
			annotation: "t1", action: ActionNothing, noRecord: true, wantStatus: metav1.ConditionFalse,
			wantMessage: "no revision is deployed, so there is nothing to test", wantHandled: "t1",
			wantEvents: []string{"Warning TestFailed"},
		},
		"no hook runner fails the request": {
			annotation: "t1", action: ActionNothing, tests: []string{"web-test"}, noRunner: true,
			wantStatus: metav1.ConditionFalse, wantHandled: "t1", wantEvents: []string{"Warning TestFailed"},
			wantMessage: "revision 3 has test hooks, but this controller runs no hooks",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			c := fake.NewClientBuilder().Build()
			store := storage.NewStore(c)
			events := &eventLog{}
			var runs []string
			r := &Reconciler{Events: events}
			if !tc.noRunner {
				r.NewHookRunner = func(client.WithWatch, apply.Owner) HookRunner {
					return scriptedTests{fail: toSet(tc.fail), events: &runs}
				}
			}
			rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", Generation: 2,
				Annotations: map[string]string{}}}
			if tc.annotation != "" {
				rel.Annotations[capstanv1.TestAnnotation] = tc.annotation
			}
			rel.Status.LastHandledTestAt = tc.handled
			rel.Spec.Test = &capstanv1.Test{Enable: tc.enable}
			s := r.newSession(rel, nil)
			s.c, s.target, s.store, s.decided, s.action = c, c, store, !tc.undecided, Action{Kind: tc.action}
			if !tc.noRecord {
				g.Expect(store.Create(ctx, testRecord(tc.tests...))).To(Succeed())
				records, err := store.List(ctx, "apps", "web")
				g.Expect(err).NotTo(HaveOccurred())
				s.records = records
			}

			s.test(ctx, tc.err)

			g.Expect(len(runs) > 0).To(Equal(tc.wantRun))
			g.Expect(rel.Status.LastHandledTestAt).To(Equal(tc.wantHandled))
			g.Expect(events.events).To(Equal(tc.wantEvents))
			cond := findCondition(rel, capstanv1.TestSuccessCondition)
			if tc.wantStatus == "" {
				g.Expect(cond).To(BeNil())
				return
			}
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(tc.wantStatus))
			g.Expect(cond.Message).To(Equal(tc.wantMessage))
			g.Expect(cond.ObservedGeneration).To(Equal(int64(2)))
			if tc.wantPhase != "" {
				stored, err := store.Get(ctx, "apps", "web", 3)
				g.Expect(err).NotTo(HaveOccurred())
				last := stored.Hooks[len(stored.Hooks)-1]
				g.Expect(last.LastRun.Phase).To(Equal(tc.wantPhase))
				g.Expect(stored.Info.Status).To(Equal(storage.StatusDeployed))
				g.Expect(stored.Hooks[0].LastRun.Phase).NotTo(Equal(tc.wantPhase), "a pre-install hook is no test")
			}
		})
	}
}

func toSet(names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

func TestFailedTests(t *testing.T) {
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := old.Add(time.Hour)
	cases := map[string]struct {
		before, after []storage.HookExecution
		want          []string
	}{
		"a hook failing in this run is named": {
			before: []storage.HookExecution{{}, {}},
			after:  []storage.HookExecution{{StartedAt: now, Phase: storage.HookPhaseSucceeded}, {StartedAt: now, Phase: storage.HookPhaseFailed}},
			want:   []string{"t1"},
		},
		"an earlier run's failure of a hook that did not start is not named": {
			before: []storage.HookExecution{{}, {StartedAt: old, Phase: storage.HookPhaseFailed}},
			after:  []storage.HookExecution{{StartedAt: now, Phase: storage.HookPhaseUnknown}, {StartedAt: old, Phase: storage.HookPhaseFailed}},
			want:   []string{"t0"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			hooks := make([]*storage.Hook, 0, len(tc.after))
			for i, run := range tc.after {
				hooks = append(hooks, &storage.Hook{Name: fmt.Sprintf("t%d", i), LastRun: run})
			}
			g.Expect(failedTests(hooks, tc.before)).To(Equal(tc.want))
		})
	}
}

// timedTests records the timeout the tests were run with.
type timedTests struct{ got *time.Duration }

func (r timedTests) Run(_ context.Context, _ string, _ []*storage.Hook, timeout time.Duration) error {
	*r.got = timeout
	return nil
}

func TestSession_test_runsWithTheTestTimeout(t *testing.T) {
	cases := map[string]struct {
		spec capstanv1.ReleaseSpec
		want time.Duration
	}{
		"spec.test.timeout bounds the test run": {
			spec: capstanv1.ReleaseSpec{Timeout: &metav1.Duration{Duration: time.Hour},
				Test: &capstanv1.Test{Timeout: &metav1.Duration{Duration: 7 * time.Second}}},
			want: 7 * time.Second,
		},
		"without it, spec.timeout does": {
			spec: capstanv1.ReleaseSpec{Timeout: &metav1.Duration{Duration: 2 * time.Minute}, Test: &capstanv1.Test{}},
			want: 2 * time.Minute,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			c := fake.NewClientBuilder().Build()
			store := storage.NewStore(c)
			var got time.Duration
			r := &Reconciler{Events: &eventLog{}, NewHookRunner: func(client.WithWatch, apply.Owner) HookRunner {
				return timedTests{got: &got}
			}}
			rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", Generation: 2,
				Annotations: map[string]string{capstanv1.TestAnnotation: "t1"}}, Spec: tc.spec}
			s := r.newSession(rel, nil)
			s.c, s.target, s.store, s.decided, s.action = c, c, store, true, Action{Kind: ActionNothing}
			g.Expect(store.Create(ctx, testRecord("web-test"))).To(Succeed())
			records, err := store.List(ctx, "apps", "web")
			g.Expect(err).NotTo(HaveOccurred())
			s.records = records
			s.test(ctx, nil)
			g.Expect(got).To(Equal(tc.want))
		})
	}
}
