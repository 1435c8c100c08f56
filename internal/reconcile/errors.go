package reconcile

import (
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// Class says how the controller reacts to an error.
type Class int

const (
	// ClassTransient errors are returned to controller-runtime, whose rate limiter backs off.
	ClassTransient Class = iota
	// ClassWaiting errors wait for something outside the Release (a dependency, a referenced
	// object) with a fixed requeue.
	ClassWaiting
	// ClassStalling errors need a spec or input change; the Release is Stalled and not requeued.
	ClassStalling
	// ClassProgressing is not a failure: an action is under way (its objects are applied and
	// their health is awaited) and goes on in a later reconcile, woken by a change of the objects
	// or after RequeueAfter. Reconciling stays True and Ready Unknown, as the action set them.
	ClassProgressing
)

// ReasonReconcileFailed is the Ready reason of an error no stage classified.
const ReasonReconcileFailed = "ReconcileFailed"

// Error is an error with its class and the condition reason it is reported under.
type Error struct {
	// Class says whether to back off, wait or stall.
	Class Class
	// Reason is the CamelCase condition and event reason.
	Reason string
	// RequeueAfter is the fixed delay of a waiting error; zero means the default.
	RequeueAfter time.Duration
	// Err is the cause; its text becomes the condition message (one line).
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// stallErr classifies err as needing a spec or input change.
func stallErr(reason string, err error) error {
	return &Error{Class: ClassStalling, Reason: reason, Err: err}
}

// waitErr classifies err as waiting for something outside the Release.
func waitErr(reason string, after time.Duration, err error) error {
	return &Error{Class: ClassWaiting, Reason: reason, RequeueAfter: after, Err: err}
}

// progressing says that an action goes on in a later reconcile.
func progressing(after time.Duration, err error) error {
	return &Error{Class: ClassProgressing, Reason: capstanv1.ProgressingReason, RequeueAfter: after, Err: err}
}

// isProgressing reports whether err says that an action goes on in a later reconcile.
func isProgressing(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Class == ClassProgressing
}

// transientErr classifies err as worth a retry with backoff.
func transientErr(reason string, err error) error {
	return &Error{Class: ClassTransient, Reason: reason, Err: err}
}

// stallf is stallErr with a formatted cause.
func stallf(reason, format string, args ...any) error {
	return stallErr(reason, fmt.Errorf(format, args...))
}

// classify returns err's classification; an unclassified error is transient. An RBAC denial
// anywhere is a stall naming the verb and resource, since only an RBAC or spec change fixes it.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if apierrors.IsForbidden(err) {
		return &Error{Class: ClassStalling, Reason: capstanv1.AccessDeniedReason, Err: err}
	}
	return &Error{Class: ClassTransient, Reason: ReasonReconcileFailed, Err: err}
}

// apiErr classifies an API error of a step: a denial stalls with AccessDenied, anything else is
// transient under reason.
func apiErr(reason string, err error) error {
	if apierrors.IsForbidden(err) {
		return stallErr(capstanv1.AccessDeniedReason, err)
	}
	return transientErr(reason, err)
}

// isTransientAPI reports whether err is an API error that may pass by itself: a timeout, a
// conflict, throttling, an unavailable server or a network error.
func isTransientAPI(err error) bool {
	switch {
	case err == nil:
		return false
	case apierrors.IsTimeout(err), apierrors.IsServerTimeout(err), apierrors.IsConflict(err),
		apierrors.IsTooManyRequests(err), apierrors.IsServiceUnavailable(err),
		apierrors.IsInternalError(err), apierrors.IsUnexpectedServerError(err):
		return true
	}
	var status apierrors.APIStatus
	return !errors.As(err, &status)
}

// maxMessage bounds condition and history messages.
const maxMessage = 1024

// oneLine turns an error text into a single bounded line, as condition messages must be.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
