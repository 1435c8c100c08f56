package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/cli"
	"github.com/capstan-dev/capstan/internal/storage"
)

// step is one status write of the stand-in controller: an optional side effect (storing a
// record), the status change, and a pause after it.
type step struct {
	before func(ctx context.Context, value string) error
	mutate func(rel *capstanv1.Release, value string)
	pause  time.Duration
}

// controller plays the Release controller's part for one request, since none runs in these
// tests: it waits until annotation holds a value that handled(status) does not, then writes the
// steps. The returned channel yields the value it acted on once the steps are written, or ""
// if the request never came.
func (f *envFixture) controller(t *testing.T, ns, name, annotation string, handled func(*capstanv1.ReleaseStatus) string, steps ...step) <-chan string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	seen := make(chan string, 1)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		defer close(seen)
		value, err := f.awaitRequest(ctx, ns, name, annotation, handled)
		if err != nil {
			return
		}
		for _, s := range steps {
			if err := f.play(ctx, ns, name, value, s); err != nil {
				t.Errorf("stand-in controller: %v", err)
				return
			}
		}
		seen <- value
	}()
	return seen
}

// awaitRequest polls the Release until its annotation holds an unhandled value.
func (f *envFixture) awaitRequest(ctx context.Context, ns, name, annotation string, handled func(*capstanv1.ReleaseStatus) string) (string, error) {
	for {
		rel := &capstanv1.Release{}
		if err := f.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, rel); err == nil {
			if v := rel.Annotations[annotation]; v != "" && v != handled(&rel.Status) {
				return v, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// play writes one step.
func (f *envFixture) play(ctx context.Context, ns, name, value string, s step) error {
	if s.before != nil {
		if err := s.before(ctx, value); err != nil {
			return err
		}
	}
	if err := f.updateStatus(ctx, ns, name, func(rel *capstanv1.Release) { s.mutate(rel, value) }); err != nil {
		return err
	}
	time.Sleep(s.pause)
	return nil
}

// annotation returns an annotation of a Release as stored, and whether it is set.
func (f *envFixture) annotation(t *testing.T, ns, name, key string) (string, bool) {
	t.Helper()
	v, ok := f.release(t, ns, name).Annotations[key]
	return v, ok
}

func rollbackHandled(s *capstanv1.ReleaseStatus) string { return s.LastHandledRollbackTo }

// rollingBack is the controller's first write: request handled, work under way.
func rollingBack(pause time.Duration) step {
	return step{pause: pause, mutate: func(rel *capstanv1.Release, value string) {
		rel.Status.LastHandledRollbackTo = value
		msg := "Rolling back to revision " + value
		setCondition(rel, condition(rel, capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason, msg))
		setCondition(rel, condition(rel, capstanv1.ReadyCondition, metav1.ConditionUnknown, capstanv1.ProgressingReason, msg))
	}}
}

// rolledBack is the controller's final write after a successful rollback to revision, stored as
// revision next.
func (f *envFixture) rolledBack(ns string, next int) step {
	return step{
		before: func(ctx context.Context, value string) error {
			return f.store.Create(ctx, record(ns, "web", next, storage.StatusDeployed, "Rollback to "+value))
		},
		mutate: func(rel *capstanv1.Release, _ string) {
			removeCondition(rel, capstanv1.ReconcilingCondition)
			rel.Status.CurrentRevision, rel.Status.RollbackTarget = next, next
			setCondition(rel, condition(rel, capstanv1.ReleasedCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, "Rolled back"))
			setCondition(rel, condition(rel, capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, "Revision deployed"))
		},
	}
}

// rollbackFailed is the controller's final write after a failed rollback.
func rollbackFailed(message string) step {
	return step{mutate: func(rel *capstanv1.Release, _ string) {
		removeCondition(rel, capstanv1.ReconcilingCondition)
		setCondition(rel, condition(rel, capstanv1.ReleasedCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, message))
		setCondition(rel, condition(rel, capstanv1.ReadyCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, "summary of "+message))
	}}
}

// deployedThree stores revisions 1 and 2 superseded and 3 deployed, and makes the Release site
// (release web) Ready at revision 3.
func (f *envFixture) deployedThree(t *testing.T, ns string, status func(*capstanv1.Release)) {
	t.Helper()
	f.createRecords(t,
		record(ns, "web", 1, storage.StatusSuperseded, "Install complete"),
		record(ns, "web", 2, storage.StatusSuperseded, "Upgrade complete"),
		record(ns, "web", 3, storage.StatusDeployed, "Upgrade complete"))
	f.createRelease(t, ns, "site", "web", func(rel *capstanv1.Release) {
		readyStatus(3)(rel)
		if status != nil {
			status(rel)
		}
	})
}

func (f *envFixture) testRollback(t *testing.T) {
	const ann = capstanv1.RollbackToAnnotation
	type setup struct {
		status     func(*capstanv1.Release)
		annotation string
		steps      func(f *envFixture, ns string) []step
	}
	cases := map[string]struct {
		setup      setup
		args       []string
		wantSeen   string
		wantOut    []string
		wantErr    error
		wantErrMsg string
		noRequest  bool
		minElapsed time.Duration
	}{
		"without REVISION: the previous revision, waiting through the controller's progress": {
			setup: setup{steps: func(f *envFixture, ns string) []step {
				return []step{rollingBack(700 * time.Millisecond), f.rolledBack(ns, 4)}
			}},
			args:     []string{"rollback", "site"},
			wantSeen: "2",
			wantOut: []string{`Requested a rollback of release "web" to revision 2 (capstan.dev/rollback-to="2").`,
				`Rollback was a success: release "web" is at revision 4, a copy of revision 2.`},
			minElapsed: 700 * time.Millisecond,
		},
		"an explicit revision": {
			setup: setup{steps: func(f *envFixture, ns string) []step {
				return []step{rollingBack(0), f.rolledBack(ns, 4)}
			}},
			args: []string{"rollback", "site", "1"}, wantSeen: "1",
			wantOut: []string{`Rollback was a success: release "web" is at revision 4, a copy of revision 1.`},
		},
		"a rollback to the revision of the last handled request uses a new spelling": {
			setup: setup{
				status:     func(rel *capstanv1.Release) { rel.Status.LastHandledRollbackTo = "1" },
				annotation: "1",
				steps: func(f *envFixture, ns string) []step {
					return []step{rollingBack(0), f.rolledBack(ns, 4)}
				},
			},
			args: []string{"rollback", "site", "1"}, wantSeen: "01",
			wantOut: []string{`(capstan.dev/rollback-to="01")`, "a copy of revision 1."},
		},
		"the controller reports a failure": {
			setup: setup{steps: func(*envFixture, string) []step {
				return []step{rollingBack(0), rollbackFailed("rollback of revision 4 failed: Deployment web is not ready")}
			}},
			args: []string{"rollback", "site", "2"}, wantSeen: "2",
			wantErr:    cli.ErrFailed,
			wantErrMsg: "rollback failed (RollbackFailed): rollback of revision 4 failed: Deployment web is not ready",
		},
		"the controller refuses the request with a stall": {
			setup: setup{steps: func(*envFixture, string) []step {
				return []step{{mutate: func(rel *capstanv1.Release, _ string) {
					setCondition(rel, condition(rel, capstanv1.StalledCondition, metav1.ConditionTrue, capstanv1.RollbackFailedReason, "revision 2 cannot be rolled back to"))
					setCondition(rel, condition(rel, capstanv1.ReadyCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, "revision 2 cannot be rolled back to"))
				}}}
			}},
			args: []string{"rollback", "site", "2"}, wantSeen: "2",
			wantErr: cli.ErrFailed, wantErrMsg: "the controller stalled (RollbackFailed): revision 2 cannot be rolled back to",
		},
		"no controller answers in time": {
			args: []string{"rollback", "site", "--timeout", "1s"}, wantSeen: "2",
			wantErr:    cli.ErrTimeout,
			wantErrMsg: "timed out after 1s waiting for the rollback to revision 2; the Release stands at Ready=True (UpgradeSucceeded): Revision deployed",
			minElapsed: time.Second,
		},
		"--no-wait only makes the request": {
			args: []string{"rollback", "site", "1", "--no-wait"}, wantSeen: "1",
			wantOut: []string{`Requested a rollback of release "web" to revision 1`},
		},
		"a revision that does not exist is refused before any request": {
			args: []string{"rollback", "site", "9"}, noRequest: true,
			wantErr: cli.ErrNoRevision, wantErrMsg: "the release has no revision 9 (revisions: 1, 2, 3)",
		},
		"a suspended Release is refused": {
			setup: setup{status: nil},
			args:  []string{"rollback", "suspended", "1"}, noRequest: true,
			wantErr: cli.ErrNotActionable,
		},
		"a REVISION that is not a number": {
			args: []string{"rollback", "site", "two"}, noRequest: true, wantErr: cli.ErrInvalidArgument,
		},
		"a timeout that is not positive": {
			args: []string{"rollback", "site", "--timeout", "0s"}, noRequest: true, wantErr: cli.ErrInvalidArgument,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ns := f.namespace(t)
			f.deployedThree(t, ns, tc.setup.status)
			suspended := f.createRelease(t, ns, "suspended", "web2", readyStatus(3))
			suspended.Spec.Suspend = true
			g.Expect(f.c.Update(context.Background(), suspended)).To(Succeed())
			if tc.setup.annotation != "" {
				f.setAnnotation(t, ns, "site", ann, tc.setup.annotation)
			}
			var seen <-chan string
			if tc.setup.steps != nil {
				seen = f.controller(t, ns, "site", ann, rollbackHandled, tc.setup.steps(f, ns)...)
			}

			start := time.Now()
			out, _, err := f.run(append(tc.args, "-n", ns)...)
			elapsed := time.Since(start)

			if tc.wantErr != nil {
				g.Expect(errors.Is(err, tc.wantErr)).To(BeTrue(), "error %v", err)
				g.Expect(err.Error()).To(ContainSubstring(tc.wantErrMsg))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			for _, w := range tc.wantOut {
				g.Expect(out).To(ContainSubstring(w))
			}
			g.Expect(elapsed).To(BeNumerically(">=", tc.minElapsed), "the command waited for the outcome")
			if tc.noRequest {
				v, ok := f.annotation(t, ns, tc.args[1], ann)
				g.Expect(v).To(Equal(tc.setup.annotation), "no request was made")
				g.Expect(ok).To(Equal(tc.setup.annotation != ""))
				g.Expect(out).NotTo(ContainSubstring("Requested"))
				return
			}
			v, _ := f.annotation(t, ns, "site", ann)
			g.Expect(v).To(Equal(tc.wantSeen), "the annotation holds the request")
			if seen != nil {
				g.Expect(<-seen).To(Equal(tc.wantSeen), "the controller saw the request")
			}
		})
	}
}

// setAnnotation sets an annotation directly, as an earlier request would have.
func (f *envFixture) setAnnotation(t *testing.T, ns, name, key, value string) {
	t.Helper()
	rel := f.release(t, ns, name)
	patch := client.MergeFrom(rel.DeepCopy())
	if rel.Annotations == nil {
		rel.Annotations = map[string]string{}
	}
	rel.Annotations[key] = value
	if err := f.c.Patch(context.Background(), rel, patch); err != nil {
		t.Fatalf("annotate: %v", err)
	}
}

// testRollbackExitCodes runs the real main, as a separate process: success exits 0, a failure
// exits 1 with the reason on standard error.
func (f *envFixture) testRollbackExitCodes(t *testing.T) {
	cases := map[string]struct {
		final     func(f *envFixture, ns string) step
		wantCode  int
		wantOut   string
		wantError string
	}{
		"success exits 0": {
			final:    func(f *envFixture, ns string) step { return f.rolledBack(ns, 4) },
			wantCode: 0, wantOut: `Rollback was a success: release "web" is at revision 4, a copy of revision 2.`,
		},
		"failure exits 1": {
			final:    func(*envFixture, string) step { return rollbackFailed("rollback of revision 4 failed: boom") },
			wantCode: 1, wantError: "Error: rollback failed (RollbackFailed): rollback of revision 4 failed: boom\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ns := f.namespace(t)
			f.deployedThree(t, ns, nil)
			f.controller(t, ns, "site", capstanv1.RollbackToAnnotation, rollbackHandled, rollingBack(0), tc.final(f, ns))
			out, errOut, code := f.runProcess(t, "rollback", "site", "-n", ns, "--timeout", "30s")
			g.Expect(code).To(Equal(tc.wantCode), "stdout %s\nstderr %s", out, errOut)
			g.Expect(out).To(ContainSubstring(tc.wantOut))
			g.Expect(errOut).To(Equal(tc.wantError))
		})
	}

	t.Run("a Release that does not exist exits 1", func(t *testing.T) {
		g := NewWithT(t)
		_, errOut, code := f.runProcess(t, "rollback", "nope", "-n", "default")
		g.Expect(code).To(Equal(1))
		g.Expect(errOut).To(Equal("Error: release not found: no Release \"nope\" in namespace \"default\"\n"))
	})
}

func testHandled(s *capstanv1.ReleaseStatus) string { return s.LastHandledTestAt }

// testRecord stores revision 3 with a test hook whose last run had the given phase.
func (f *envFixture) testRecord(ns string, phase storage.HookPhase) func(ctx context.Context, value string) error {
	return func(ctx context.Context, _ string) error {
		r := record(ns, "web", 3, storage.StatusDeployed, "Upgrade complete")
		r.Hooks = []*storage.Hook{{Name: "web-test-connection", Kind: "Pod", Path: "demo/templates/tests/conn.yaml",
			Events: []string{"test"}, LastRun: storage.HookExecution{StartedAt: t0, CompletedAt: t0.Add(2 * time.Second), Phase: phase}}}
		return f.store.Create(ctx, r)
	}
}

// tested is the controller's final write after a test run.
func tested(status metav1.ConditionStatus, reason, message string) func(*capstanv1.Release, string) {
	return func(rel *capstanv1.Release, _ string) {
		removeCondition(rel, capstanv1.ReconcilingCondition)
		setCondition(rel, condition(rel, capstanv1.TestSuccessCondition, status, reason, message))
	}
}

func (f *envFixture) testTest(t *testing.T) {
	running := step{pause: 600 * time.Millisecond, mutate: func(rel *capstanv1.Release, value string) {
		rel.Status.LastHandledTestAt = value
		setCondition(rel, condition(rel, capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason, "Running tests"))
	}}
	earlierRun := func(rel *capstanv1.Release) {
		setCondition(rel, condition(rel, capstanv1.TestSuccessCondition, metav1.ConditionTrue, capstanv1.TestSucceededReason, "an earlier run passed"))
	}
	cases := map[string]struct {
		release    string
		steps      func(f *envFixture, ns string) []step
		args       []string
		wantOut    []string
		wantErr    error
		noRequest  bool
		minElapsed time.Duration
	}{
		"the tests pass": {
			steps: func(f *envFixture, ns string) []step {
				return []step{running, {before: f.testRecord(ns, storage.HookPhaseSucceeded),
					mutate: tested(metav1.ConditionTrue, capstanv1.TestSucceededReason, "1 test passed")}}
			},
			wantOut: []string{"TEST SUCCESS: True (TestSucceeded) 1 test passed\n",
				"TEST SUITE:     web-test-connection\nLast Started:   Tue Mar  5 08:08:09 2024\nLast Completed: Tue Mar  5 08:08:11 2024\nPhase:          Succeeded\n"},
			minElapsed: 600 * time.Millisecond,
		},
		"a test fails": {
			steps: func(f *envFixture, ns string) []step {
				return []step{running, {before: f.testRecord(ns, storage.HookPhaseFailed),
					mutate: tested(metav1.ConditionFalse, capstanv1.TestFailedReason, "web-test-connection failed")}}
			},
			wantOut: []string{"TEST SUCCESS: False (TestFailed) web-test-connection failed\n", "Phase:          Failed\n"},
			wantErr: cli.ErrFailed,
		},
		"--no-wait only makes the request": {
			args: []string{"--no-wait"}, wantOut: []string{`Requested a test run of release "web"`},
		},
		"a Release with nothing deployed is refused": {
			release: "fresh", noRequest: true, wantErr: cli.ErrNotActionable,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ns := f.namespace(t)
			f.createRelease(t, ns, "site", "web", func(rel *capstanv1.Release) { readyStatus(3)(rel); earlierRun(rel) })
			f.createRelease(t, ns, "fresh", "", nil)
			target := "site"
			if tc.release != "" {
				target = tc.release
			}
			var seen <-chan string
			if tc.steps != nil {
				seen = f.controller(t, ns, target, capstanv1.TestAnnotation, testHandled, tc.steps(f, ns)...)
			}

			start := time.Now()
			out, _, err := f.run(append([]string{"test", target, "-n", ns, "--timeout", "30s"}, tc.args...)...)
			elapsed := time.Since(start)

			if tc.wantErr != nil {
				g.Expect(errors.Is(err, tc.wantErr)).To(BeTrue(), "error %v", err)
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			for _, w := range tc.wantOut {
				g.Expect(out).To(ContainSubstring(w))
			}
			g.Expect(elapsed).To(BeNumerically(">=", tc.minElapsed))
			v, ok := f.annotation(t, ns, target, capstanv1.TestAnnotation)
			if tc.noRequest {
				g.Expect(ok).To(BeFalse(), "no request was made")
				return
			}
			at, perr := time.Parse(time.RFC3339Nano, v)
			g.Expect(perr).NotTo(HaveOccurred())
			g.Expect(at).To(BeTemporally("~", start, 10*time.Second))
			g.Expect(out).To(ContainSubstring(`(capstan.dev/test="` + v + `")`))
			if seen != nil {
				g.Expect(<-seen).To(Equal(v), "the controller saw the request")
			}
			if tc.steps == nil {
				g.Expect(strings.Count(out, "\n")).To(Equal(1), "only the request line")
			}
		})
	}
}
