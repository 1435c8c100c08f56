package apply

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Failure is what went wrong with one object.
type Failure struct {
	Ref ObjectRef
	// Field is the first field the API server blamed, when it named one.
	Field   string
	Message string
	// Err is the error behind the failure, for errors.Is and errors.As.
	Err error
}

func (f Failure) String() string {
	if f.Field != "" {
		return fmt.Sprintf("%s: %s: %s", f.Ref, f.Field, f.Message)
	}
	return fmt.Sprintf("%s: %s", f.Ref, f.Message)
}

func joinFailures(fs []Failure) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, f.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// OwnershipConflictError says that objects of the release exist but belong to another release, or to
// nobody and takeOwnership was not set. Nothing was written.
type OwnershipConflictError struct{ Conflicts []Failure }

func (e *OwnershipConflictError) Error() string {
	return "objects exist that this release does not own (takeOwnership adopts only objects of no release): " +
		joinFailures(e.Conflicts)
}

// DryRunError says that the server-side dry-run rejected objects. Nothing was written.
type DryRunError struct{ Failures []Failure }

func (e *DryRunError) Error() string { return "dry-run failed: " + joinFailures(e.Failures) }

// ImmutableFieldError says that the new revision changes fields the API server does not allow to change.
// Nothing was written for the object; spec.upgrade.force allows delete-and-recreate.
type ImmutableFieldError struct{ Failures []Failure }

func (e *ImmutableFieldError) Error() string {
	return "immutable fields would change (set upgrade.force to recreate): " + joinFailures(e.Failures)
}

// WriteError says that applying objects failed part way; the objects listed in Applied were written.
type WriteError struct {
	Failures []Failure
	Applied  []ObjectRef
}

func (e *WriteError) Error() string { return "apply failed: " + joinFailures(e.Failures) }

// Unwrap exposes the errors behind the failures, so callers can tell a transient API error from a
// rejection.
func (e *WriteError) Unwrap() []error { return unwrapFailures(e.Failures) }

// Unwrap exposes the errors behind the failures.
func (e *PruneError) Unwrap() []error { return unwrapFailures(e.Failures) }

func unwrapFailures(fs []Failure) []error {
	var out []error
	for _, f := range fs {
		if f.Err != nil {
			out = append(out, f.Err)
		}
	}
	return out
}

// PruneError lists the objects a prune or uninstall could not delete; the caller keeps them in its
// inventory and tries again on the next reconcile.
type PruneError struct{ Failures []Failure }

func (e *PruneError) Error() string { return "could not delete: " + joinFailures(e.Failures) }

// failureOf turns an API error about ref into a Failure naming the field when the server named one.
func failureOf(ref ObjectRef, err error) Failure {
	f := Failure{Ref: ref, Message: err.Error(), Err: err}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return f
	}
	st := status.Status()
	if st.Details != nil {
		if c := firstCause(st.Details.Causes); c != nil {
			f.Field, f.Message = c.Field, c.Message
			return f
		}
	}
	if st.Message != "" {
		f.Message = st.Message
	}
	return f
}

func firstCause(causes []metav1.StatusCause) *metav1.StatusCause {
	for i := range causes {
		if causes[i].Field != "" {
			return &causes[i]
		}
	}
	if len(causes) > 0 {
		return &causes[0]
	}
	return nil
}

// isImmutable reports whether err is the API server refusing a change to an immutable field.
func isImmutable(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "field is immutable") || strings.Contains(msg, "Forbidden: updates to") ||
		strings.Contains(msg, "may not change once set")
}
