package health

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-dev/capstan/internal/apply"
)

var errWaitTimeout = errors.New("health wait timed out")

// Wait looks at the objects every Interval until all of them are Current, and returns nil then. It
// returns a *FailedError as soon as one is Failed, a *TimeoutError naming the objects still not ready
// when timeout runs out (timeout <= 0 leaves the bound to ctx), and ctx's error promptly when ctx is
// cancelled. progress, when not nil, is called with the first report and with every report whose
// Summary differs from the previous one, so a caller can keep a condition message current without
// writing on every look.
//
// Once an object has been seen Current it is not read again during this wait: one GET per look goes
// only to objects not yet ready. A regression after that point (a Pod of a ready Deployment crashing) is
// for the next reconcile's Check to notice. A read error that may pass (a timeout, a 5xx, a refused
// connection) marks the object Unknown for that look and is retried; an error that cannot pass
// (forbidden, unauthorised, a malformed request) ends the wait at once.
func (c *Checker) Wait(ctx context.Context, refs []apply.ObjectRef, timeout time.Duration, progress func(Report)) error {
	waitCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeoutCause(ctx, timeout, errWaitTimeout)
		defer cancel()
	}
	w := newWaiter(c, refs, progress)
	ticker := time.NewTicker(c.interval)
	defer ticker.Stop()
	for {
		report, err := w.look(waitCtx)
		switch {
		case err == nil && report.Ready():
			return nil
		case waitCtx.Err() != nil:
			return w.ended(ctx, timeout)
		case err != nil:
			return err
		case len(report.Failed()) > 0:
			return &FailedError{Report: report}
		}
		w.report(report)
		select {
		case <-waitCtx.Done():
			return w.ended(ctx, timeout)
		case <-ticker.C:
		}
	}
}

// waiter holds the state of one Wait: the objects not yet seen Current and the last report.
type waiter struct {
	checker  *Checker
	pending  []apply.ObjectRef
	last     Report
	reported string
	progress func(Report)
}

func newWaiter(c *Checker, refs []apply.ObjectRef, progress func(Report)) *waiter {
	pending := unique(refs)
	return &waiter{checker: c, pending: pending, last: NotChecked(pending), progress: progress}
}

// look reads every pending object once, drops those that are Current from pending, and returns the
// report of the rest.
func (w *waiter) look(ctx context.Context) (Report, error) {
	report, err := w.checker.Look(ctx, w.pending, w.last)
	if err != nil {
		return Report{}, err
	}
	w.pending = report.Pending()
	w.last = report
	return report, nil
}

// NotChecked is the report of objects nobody has looked at yet: the first last report of a wait
// that looks with Look.
func NotChecked(refs []apply.ObjectRef) Report {
	refs = unique(refs)
	notChecked := make([]ObjectStatus, 0, len(refs))
	for _, r := range refs {
		notChecked = append(notChecked, ObjectStatus{Ref: r, Status: Unknown, Message: "not checked yet"})
	}
	return newReport(len(refs), notChecked)
}

// AfterApply is the report a wait starts from right after the objects were applied, without
// their writes' answers: the kinds that are ready as soon as they exist (ConfigMap, Secret,
// ServiceAccount, RBAC) are ready, since the apply just wrote them, and the others are not
// checked yet. It is AfterWrite with no answers.
func AfterApply(refs []apply.ObjectRef) Report {
	r, _ := afterWrite(context.Background(), refs, nil)
	return r
}

// AfterWrite is the report a wait starts from right after the apply, computed from the objects as
// the API server returned them from the write (written, by ObjectRef.ID), with the health checks
// of ctx, instead of reading them again: a Service is ready, a Deployment just created is in
// progress. The kinds that are ready once they exist are ready, as in AfterApply. It reports
// whether every object was judged: one missing from written (recreated, not written) is "not
// checked yet", and the wait's first look must read it.
func (c *Checker) AfterWrite(ctx context.Context, refs []apply.ObjectRef, written map[string]*unstructured.Unstructured) (Report, bool) {
	return afterWrite(ctx, refs, written)
}

func afterWrite(ctx context.Context, refs []apply.ObjectRef, written map[string]*unstructured.Unstructured) (Report, bool) {
	refs = unique(refs)
	var notReady []ObjectStatus
	complete := true
	for _, r := range refs {
		if statusless[r.GroupVersionKind().GroupKind()] {
			continue
		}
		obj := written[r.ID()]
		if obj == nil {
			complete = false
			notReady = append(notReady, ObjectStatus{Ref: r, Status: Unknown, Message: "not checked yet"})
			continue
		}
		if s := judge(ctx, r, obj); s.Status != Current {
			notReady = append(notReady, s)
		}
	}
	return newReport(len(refs), notReady), complete
}

// Look is one look of a wait: it reads the objects last reported not ready (pending) once and
// returns the report of those still not ready, out of the objects the wait began with
// (last.Checked). A read error that may pass (a timeout, a 5xx, a refused connection) keeps the
// object's status of the last report, so it is looked at again; an error that cannot pass
// (forbidden, unauthorised, a malformed request) is returned, and so is the context's error when
// it ends during the look. An object found Failed is in the report: the caller decides (Wait ends
// with a *FailedError).
func (c *Checker) Look(ctx context.Context, pending []apply.ObjectRef, last Report) (Report, error) {
	var notReady []ObjectStatus
	for _, ref := range unique(pending) {
		if ctx.Err() != nil {
			return Report{}, ctx.Err()
		}
		s, err := c.status(ctx, ref)
		if err != nil && ctx.Err() != nil {
			// A read cut short by the wait's own end says nothing about the object: keep the
			// last real report.
			return Report{}, ctx.Err()
		}
		if err != nil && permanent(err) {
			return Report{}, fmt.Errorf("reading %s: %w", ref, err)
		}
		if err != nil {
			s = lastKnown(last, ref, "cannot be read: "+readFailure(err))
		}
		if s.Status != Current {
			notReady = append(notReady, s)
		}
	}
	total := last.Checked
	if total == 0 {
		total = len(unique(pending))
	}
	return newReport(total, notReady), nil
}

// Pending returns the objects of the report that are not ready yet, the ones the next look reads.
func (r Report) Pending() []apply.ObjectRef {
	out := make([]apply.ObjectRef, 0, len(r.NotReady))
	for _, s := range r.NotReady {
		out = append(out, s.Ref)
	}
	return out
}

// lastKnown returns the status ref had in the last report, so that a passing read failure does
// not hide the object's real state; with none, an Unknown status carrying why.
func lastKnown(last Report, ref apply.ObjectRef, why string) ObjectStatus {
	for _, s := range last.NotReady {
		if s.Ref == ref {
			return s
		}
	}
	return ObjectStatus{Ref: ref, Status: Unknown, Message: why}
}

func (w *waiter) report(r Report) {
	if w.progress == nil {
		return
	}
	if summary := r.Summary(); summary != w.reported {
		w.reported = summary
		w.progress(r)
	}
}

// ended explains why the wait stopped before everything was ready: the caller's context, or the timeout.
func (w *waiter) ended(parent context.Context, timeout time.Duration) error {
	if err := parent.Err(); err != nil {
		return fmt.Errorf("waiting for %d objects to become ready: %w", len(w.pending), err)
	}
	return &TimeoutError{Timeout: timeout, Report: w.last}
}

// permanent reports whether a read error will not pass by itself, so waiting longer is pointless.
func permanent(err error) bool {
	return errors.Is(err, ErrNoVersion) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) ||
		apierrors.IsBadRequest(err) || apierrors.IsMethodNotSupported(err) || apierrors.IsInvalid(err) ||
		apierrors.IsNotAcceptable(err) || apierrors.IsUnsupportedMediaType(err)
}

// readFailure names why a read failed without the request URL, which would put the API server's
// address into conditions and events.
func readFailure(err error) string {
	if reason := apierrors.ReasonForError(err); reason != metav1.StatusReasonUnknown {
		return string(reason)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the API server did not answer in time"
	}
	return "the API server could not be reached"
}
