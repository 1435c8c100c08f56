package cli

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// request is an annotation the CLI sets to ask the controller for an action, and how the
// controller acknowledges it in status.
type request struct {
	// annotation and value are what the CLI wrote.
	annotation, value string
	// handled returns the status field where the controller records the value it acted on.
	handled func(*capstanv1.ReleaseStatus) string
	// result is the condition that carries the outcome once the request is handled.
	result string
	// stalledBefore is the Stalled condition as it was before the request, so that a stall
	// already present is not taken for the answer to this request.
	stalledBefore *metav1.Condition
}

// check reads the outcome of the request from rel. The request is done when the controller
// recorded the value as handled, is no longer reconciling, and the result condition is True or
// False for the current generation. A new stall before the value is handled (the controller
// refused the request) ends the wait too, as does another client changing the annotation.
func (r request) check(rel *capstanv1.Release) (bool, *metav1.Condition, error) {
	if got := rel.GetAnnotations()[r.annotation]; got != r.value {
		return true, nil, fmt.Errorf("%w: annotation %s changed from %q to %q while waiting; another client made a new request",
			ErrFailed, r.annotation, r.value, got)
	}
	conds := rel.Status.Conditions
	if r.handled(&rel.Status) != r.value {
		if s := meta.FindStatusCondition(conds, capstanv1.StalledCondition); s != nil && s.Status == metav1.ConditionTrue && newCondition(r.stalledBefore, s) {
			return true, s, fmt.Errorf("%w: the controller stalled (%s): %s", ErrFailed, s.Reason, s.Message)
		}
		return false, nil, nil
	}
	if c := meta.FindStatusCondition(conds, capstanv1.ReconcilingCondition); c != nil && c.Status == metav1.ConditionTrue {
		return false, nil, nil
	}
	c := meta.FindStatusCondition(conds, r.result)
	if c == nil || c.Status == metav1.ConditionUnknown || c.ObservedGeneration != rel.Generation {
		return false, nil, nil
	}
	return true, c, nil
}

// newCondition reports whether now differs from before: it appeared, or its reason, message or
// transition time changed.
func newCondition(before, now *metav1.Condition) bool {
	return before == nil || before.Reason != now.Reason || before.Message != now.Message ||
		!before.LastTransitionTime.Equal(&now.LastTransitionTime) || before.Status != now.Status
}

// stalled returns a copy of rel's Stalled condition, or nil.
func stalled(rel *capstanv1.Release) *metav1.Condition {
	if s := meta.FindStatusCondition(rel.Status.Conditions, capstanv1.StalledCondition); s != nil {
		return s.DeepCopy()
	}
	return nil
}
