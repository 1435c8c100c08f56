package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// testEvent is the hook event of a chart's tests.
const testEvent = "test"

// pendingTestRequest returns the capstan.dev/test value not handled yet, or "".
func pendingTestRequest(rel *capstanv1.Release) string {
	v, ok := rel.GetAnnotations()[capstanv1.TestAnnotation]
	if !ok || v == "" || v == rel.Status.LastHandledTestAt {
		return ""
	}
	return v
}

// testsDue reports whether the deployed revision's tests run now: a capstan.dev/test request is
// pending, or spec.test.enable asks for tests after the install or upgrade that just succeeded.
// A request is handled once the reconcile decided what to do and then succeeded or stalled:
// nothing else will happen to the deployed revision until something changes. After a waiting or
// transient error it stays pending for the retry, so the tests see what the retry deploys.
func (s *session) testsDue(err error) (request string, due bool) {
	if !s.decided {
		return "", false
	}
	if err == nil && s.rel.IsTestEnabled() && (s.action.Kind == ActionInstall || s.action.Kind == ActionUpgrade) {
		due = true
	}
	request = pendingTestRequest(s.rel)
	if request != "" && (err == nil || classify(err).Class == ClassStalling) {
		due = true
	}
	return request, due
}

// test runs the deployed revision's test hooks when they are due, records their runs in the
// revision, and sets TestSuccess. A failed test does not fail the reconcile, change Ready or
// count towards remediation: the release is what the chart asked for; TestSuccess and a Warning
// event report the test. The handled request is written in the same status patch as the
// outcome, so a waiting client never takes an earlier run's TestSuccess for this one's.
func (s *session) test(ctx context.Context, err error) {
	request, due := s.testsDue(err)
	if !due {
		return
	}
	s.runTests(ctx)
	if request != "" {
		s.rel.Status.LastHandledTestAt = request
	}
}

// runTests runs the test hooks of the deployed revision and reports the outcome.
func (s *session) runTests(ctx context.Context) {
	rec := deployedRecord(s.records)
	if rec == nil {
		s.reportTest(false, "no revision is deployed, so there is nothing to test")
		return
	}
	tests := testHooks(rec.Hooks)
	if len(tests) == 0 {
		s.reportTest(true, fmt.Sprintf("revision %d has no test hooks", rec.Version))
		return
	}
	if s.r.NewHookRunner == nil {
		s.reportTest(false, fmt.Sprintf("revision %d has test hooks, but this controller runs no hooks", rec.Version))
		return
	}
	setCondition(s.rel, capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason,
		fmt.Sprintf("Running the test hooks of revision %d", rec.Version))
	s.patch(ctx)
	before := lastRuns(tests)
	runErr := s.r.NewHookRunner(s.target, s.owner).Run(ctx, testEvent, rec.Hooks, s.rel.GetTestTimeout())
	s.recordTestRuns(ctx, rec)
	if runErr != nil {
		s.reportTest(false, testFailure(rec.Version, failedTests(tests, before), runErr))
		return
	}
	s.reportTest(true, fmt.Sprintf("%d test hook(s) of revision %d passed: %s", len(tests), rec.Version,
		strings.Join(hookNames(tests), ", ")))
}

// recordTestRuns writes the hooks' last runs into the revision's record. A failed write is
// logged: the outcome is in TestSuccess either way, and the next run records its own.
func (s *session) recordTestRuns(ctx context.Context, rec *storage.Release) {
	if err := s.store.UpdateHooks(ctx, rec); err != nil {
		crlog.FromContext(ctx).Info("could not record the test hooks' runs in the revision",
			"revision", rec.Version, "error", err.Error())
	}
}

// reportTest sets TestSuccess and emits the matching event.
func (s *session) reportTest(passed bool, msg string) {
	if passed {
		setCondition(s.rel, capstanv1.TestSuccessCondition, metav1.ConditionTrue, capstanv1.TestSucceededReason, msg)
		s.event(corev1EventNormal, capstanv1.TestSucceededReason, "Test", msg)
		return
	}
	setCondition(s.rel, capstanv1.TestSuccessCondition, metav1.ConditionFalse, capstanv1.TestFailedReason, msg)
	s.event(corev1EventWarning, capstanv1.TestFailedReason, "Test", msg)
}

// testFailure is TestSuccess's message for a failed run, naming the hooks that failed.
func testFailure(revision int, failed []string, err error) string {
	if len(failed) == 0 {
		return fmt.Sprintf("the test hooks of revision %d failed: %s", revision, err.Error())
	}
	return fmt.Sprintf("test hook %s of revision %d failed: %s", strings.Join(failed, ", "), revision, err.Error())
}

// testHooks returns the hooks that run on the test event, in the record's order.
func testHooks(hooks []*storage.Hook) []*storage.Hook {
	var out []*storage.Hook
	for _, h := range hooks {
		if h != nil && slices.Contains(h.Events, testEvent) {
			out = append(out, h)
		}
	}
	return out
}

// lastRuns copies the hooks' last runs, to tell afterwards which hooks this run touched.
func lastRuns(hooks []*storage.Hook) []storage.HookExecution {
	out := make([]storage.HookExecution, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, h.LastRun)
	}
	return out
}

// failedTests names the hooks whose last run changed in this run and did not succeed.
func failedTests(hooks []*storage.Hook, before []storage.HookExecution) []string {
	var out []string
	for i, h := range hooks {
		run := h.LastRun
		changed := i >= len(before) || !run.StartedAt.Equal(before[i].StartedAt) || run.Phase != before[i].Phase
		if changed && (run.Phase == storage.HookPhaseFailed || run.Phase == storage.HookPhaseUnknown) {
			out = append(out, h.Name)
		}
	}
	return out
}

// hookNames returns the hooks' names, sorted.
func hookNames(hooks []*storage.Hook) []string {
	out := make([]string, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, h.Name)
	}
	slices.Sort(out)
	return out
}
