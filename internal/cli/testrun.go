package cli

import (
	"fmt"
	"io"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// TestRequestValue returns the capstan.dev/test value for a test run requested at now: the time
// in RFC 3339 with nanoseconds, in UTC, so that every request differs from the last handled one.
func TestRequestValue(now time.Time) string {
	return now.UTC().Format(time.RFC3339Nano)
}

// TestCheck returns the Check that waits for the outcome of the test run requested with value.
// before is the Release as it was before the request. It is done once status.lastHandledTestAt
// is value, the Release is not reconciling, and TestSuccess is True or False for the current
// generation; TestSuccess=False is an error carrying the condition's message.
func TestCheck(before *capstanv1.Release, value string) Check {
	req := request{annotation: capstanv1.TestAnnotation, value: value, result: capstanv1.TestSuccessCondition,
		handled: func(s *capstanv1.ReleaseStatus) string { return s.LastHandledTestAt }, stalledBefore: stalled(before)}
	return func(rel *capstanv1.Release) (bool, error) {
		done, cond, err := req.check(rel)
		if !done || err != nil {
			return done, err
		}
		if cond.Status == metav1.ConditionTrue {
			return true, nil
		}
		return true, fmt.Errorf("test %w (%s): %s", ErrFailed, cond.Reason, cond.Message)
	}
}

// WriteTestSuites prints the last run of each test hook of a revision as `helm test` does:
// TEST SUITE, Last Started, Last Completed and Phase, in the order the record lists them.
func WriteTestSuites(w io.Writer, rec *storage.Release) error {
	for _, h := range rec.Hooks {
		if h == nil || !slices.Contains(h.Events, "test") {
			continue
		}
		_, err := fmt.Fprintf(w, "TEST SUITE:     %s\nLast Started:   %s\nLast Completed: %s\nPhase:          %s\n",
			h.Name, FormatTime(h.LastRun.StartedAt), FormatTime(h.LastRun.CompletedAt), h.LastRun.Phase)
		if err != nil {
			return err
		}
	}
	return nil
}

// FormatTime formats a time as the helm CLI prints it in tables and reports: time.ANSIC, in the
// time's own location (records hold UTC).
func FormatTime(t time.Time) string { return t.Format(time.ANSIC) }
