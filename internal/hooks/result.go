package hooks

import (
	"fmt"
	"strings"
	"time"

	"github.com/capstan-dev/capstan/internal/apply"
)

// Phase is the outcome of a hook's run, as Helm records it.
type Phase string

// The phases of a hook run.
const (
	// PhaseUnknown is a run that was abandoned (its context was cancelled) before the hook finished.
	PhaseUnknown Phase = "Unknown"
	// PhaseRunning is a run that has started and not finished.
	PhaseRunning Phase = "Running"
	// PhaseSucceeded is a run that finished well.
	PhaseSucceeded Phase = "Succeeded"
	// PhaseFailed is a run that failed or timed out.
	PhaseFailed Phase = "Failed"
)

// LastRun is the record of a hook's most recent run, kept in the revision.
type LastRun struct {
	// StartedAt is when the hook's object was about to be created.
	StartedAt time.Time
	// CompletedAt is when the run ended; zero while it runs.
	CompletedAt time.Time
	// Phase is the run's outcome.
	Phase Phase
}

// Result is what running one hook did.
type Result struct {
	// Name, Kind and Path identify the hook as the revision records it.
	Name, Kind, Path string
	// Ref is the hook's object, with its namespace resolved.
	Ref apply.ObjectRef
	// LastRun records the run.
	LastRun LastRun
	// Deleted says that a delete policy removed the object after the run.
	Deleted bool
	// Logs is the excerpt of the hook Pod's log when the hook succeeded and its
	// helm.sh/hook-output-log-policy names hook-succeeded.
	Logs string
}

// Reasons an Error gives, CamelCase for conditions and events.
const (
	// ReasonFailed says that the hook's Job failed or its Pod ended in phase Failed.
	ReasonFailed = "HookFailed"
	// ReasonTimeout says that the hook did not finish within the timeout.
	ReasonTimeout = "HookTimeout"
	// ReasonCanceled says that the run was abandoned because its context was cancelled.
	ReasonCanceled = "HookCanceled"
	// ReasonInvalid says that the hook's object could not be prepared (no object, a kind not served).
	ReasonInvalid = "HookInvalid"
	// ReasonCreateFailed says that the API server refused to create the hook's object.
	ReasonCreateFailed = "HookCreateFailed"
	// ReasonDeleteFailed says that the previous object could not be deleted before the hook ran.
	ReasonDeleteFailed = "HookDeleteFailed"
	// ReasonWaitFailed says that the hook's object could not be followed (a watch refused, the object
	// deleted by someone else before it finished).
	ReasonWaitFailed = "HookWaitFailed"
)

// Error says which hook stopped a run and why.
type Error struct {
	// Event is the event whose hooks were running.
	Event Event
	// Hook is the hook's name.
	Hook string
	// Ref is the hook's object.
	Ref apply.ObjectRef
	// Reason is one of the Reason constants.
	Reason string
	// Message says why, in one line: for a failed Job, its failure condition's reason and message.
	Message string
	// Err is the error behind the failure, if any (context.DeadlineExceeded for a timeout).
	Err error
	// Logs is the redacted excerpt of the failed or timed-out hook Pod's log ("last log lines of
	// pod P container C: …"), whatever its helm.sh/hook-output-log-policy says; empty when the
	// hook is not a Pod or Job or its log cannot be read.
	Logs string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s hook %s failed: %s: %s", e.Event, e.Ref, e.Reason, e.Message)
	if e.Logs != "" {
		msg += "; " + e.Logs
	}
	return msg
}

// Unwrap exposes the error behind the failure.
func (e *Error) Unwrap() error { return e.Err }

// CleanupError says that hooks ran but some of their objects could not be deleted as their policies
// ask; Failures names them. The results of the run are still valid.
type CleanupError struct {
	// Failures lists the objects that could not be deleted.
	Failures []apply.Failure
}

func (e *CleanupError) Error() string {
	parts := make([]string, 0, len(e.Failures))
	for _, f := range e.Failures {
		parts = append(parts, fmt.Sprintf("%s: %s", f.Ref, f.Message))
	}
	return "could not delete hook objects: " + strings.Join(parts, "; ")
}

// Unwrap exposes the errors behind the failures.
func (e *CleanupError) Unwrap() []error {
	var out []error
	for _, f := range e.Failures {
		if f.Err != nil {
			out = append(out, f.Err)
		}
	}
	return out
}
