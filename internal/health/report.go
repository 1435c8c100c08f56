package health

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxSummaryLength bounds Report.Summary in bytes, so it fits a condition message whatever the release.
const MaxSummaryLength = 512

// Report is the outcome of one look at a set of objects.
type Report struct {
	// Checked is how many objects the report covers, ready or not.
	Checked int
	// NotReady lists the objects that are not Current, sorted by reference.
	NotReady []ObjectStatus
}

// newReport sorts the not-ready statuses so the report, and everything printed from it, is deterministic.
func newReport(checked int, notReady []ObjectStatus) Report {
	slices.SortFunc(notReady, func(a, b ObjectStatus) int {
		if c := strings.Compare(a.Ref.String(), b.Ref.String()); c != 0 {
			return c
		}
		return strings.Compare(a.Ref.Group, b.Ref.Group)
	})
	return Report{Checked: checked, NotReady: notReady}
}

// Ready reports whether every object is Current.
func (r Report) Ready() bool { return len(r.NotReady) == 0 }

// Failed returns the objects whose status is Failed, in report order.
func (r Report) Failed() []ObjectStatus {
	var out []ObjectStatus
	for _, s := range r.NotReady {
		if s.Status == Failed {
			out = append(out, s)
		}
	}
	return out
}

// Summary renders the not-ready objects in one deterministic line, such as
// "Deployment/ns/web: Available: 0/2; Job/ns/migrate: job in progress: 0 succeeded, 1 active, 0 failed",
// at most MaxSummaryLength bytes: objects that do not fit are counted as "(and N more)". It is empty
// when every object is ready.
func (r Report) Summary() string {
	return summarize(r.NotReady, MaxSummaryLength)
}

func summarize(items []ObjectStatus, limit int) string {
	var b strings.Builder
	for i, s := range items {
		part := s.String()
		if i > 0 {
			part = "; " + part
		}
		reserve := 0
		if i < len(items)-1 {
			reserve = len(moreSuffix(len(items) - i - 1))
		}
		if b.Len()+len(part)+reserve <= limit {
			b.WriteString(part)
			continue
		}
		shown := i
		if i == 0 {
			// Always name at least one object, cut to fit.
			b.WriteString(truncate(part, limit-reserve))
			shown = 1
		}
		if left := len(items) - shown; left > 0 {
			b.WriteString(moreSuffix(left))
		}
		return b.String()
	}
	return b.String()
}

func moreSuffix(n int) string { return fmt.Sprintf(" (and %d more)", n) }

// TimeoutError says that the objects were not all ready when the wait's timeout ran out. It matches
// context.DeadlineExceeded with errors.Is.
type TimeoutError struct {
	// Timeout is the wait's bound.
	Timeout time.Duration
	// Report is the last look at the objects that were still not ready.
	Report Report
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for %d of %d objects to become ready: %s",
		e.Timeout, len(e.Report.NotReady), e.Report.Checked, e.Report.Summary())
}

// Unwrap lets errors.Is(err, context.DeadlineExceeded) recognise a timeout.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// FailedError says that kstatus found objects Failed (a failed Job, a Deployment past its progress
// deadline, a crash-looping Pod…), so waiting longer would not help.
type FailedError struct {
	// Report is the look that found the failure; Report.Failed() names the failed objects.
	Report Report
}

func (e *FailedError) Error() string {
	return "objects failed: " + summarize(e.Report.Failed(), MaxSummaryLength)
}
