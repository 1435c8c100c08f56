package reconcile

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// setCondition sets a condition, moving its transition time only when its status changes.
func setCondition(rel *capstanv1.Release, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&rel.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: oneLine(message),
		ObservedGeneration: rel.Generation,
	})
}

// removeCondition removes a condition if present.
func removeCondition(rel *capstanv1.Release, typ string) {
	meta.RemoveStatusCondition(&rel.Status.Conditions, typ)
}

// findCondition returns a condition, or nil.
func findCondition(rel *capstanv1.Release, typ string) *metav1.Condition {
	return meta.FindStatusCondition(rel.Status.Conditions, typ)
}

// markReconciling records that work is under way: Reconciling=True and Ready=Unknown.
func markReconciling(rel *capstanv1.Release, message string) {
	setCondition(rel, capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason, message)
	setCondition(rel, capstanv1.ReadyCondition, metav1.ConditionUnknown, capstanv1.ProgressingReason, message)
}

// Outcome is how a reconcile ended, as summarize needs it.
type Outcome struct {
	// Err is the error that stopped the reconcile, or nil on success.
	Err error
	// Redact scrubs the error's text of values read from Secrets before it becomes a condition
	// message; nil leaves it as it is.
	Redact func(string) string
}

// summarize is the one place that sets Ready. An action still under way (ClassProgressing) keeps
// the Reconciling=True and Ready=Unknown it began with. Otherwise it ends Reconciling, sets Stalled for a stalling
// error and removes it otherwise, moves observedGeneration on success or stall, and derives Ready
// from the outcome and the other conditions: a failed outcome is Ready=False with its reason; a
// successful one is Ready=True unless the last release action failed or a remediation happened
// (the desired state is then not in effect).
func summarize(rel *capstanv1.Release, out Outcome) {
	if isProgressing(out.Err) {
		// The action set Reconciling and Ready when it began; they hold until it ends, so a
		// reconcile that only looked again writes nothing.
		return
	}
	removeCondition(rel, capstanv1.ReconcilingCondition)
	if out.Err != nil {
		summarizeError(rel, classify(out.Err), out.Redact)
		return
	}
	removeCondition(rel, capstanv1.StalledCondition)
	rel.Status.ObservedGeneration = rel.Generation
	if released := findCondition(rel, capstanv1.ReleasedCondition); released != nil && released.Status == metav1.ConditionFalse {
		setCondition(rel, capstanv1.ReadyCondition, metav1.ConditionFalse, released.Reason, released.Message)
		return
	}
	setCondition(rel, capstanv1.ReadyCondition, metav1.ConditionTrue, readyReason(rel), readyMessage(rel))
}

// summarizeError sets Ready=False (and Stalled for a stall) from a classified error, its text
// redacted: the one mapping from errors to condition messages.
func summarizeError(rel *capstanv1.Release, e *Error, redact func(string) string) {
	msg := e.Error()
	if redact != nil {
		msg = redact(msg)
	}
	if e.Class == ClassStalling {
		setCondition(rel, capstanv1.StalledCondition, metav1.ConditionTrue, e.Reason, msg)
		rel.Status.ObservedGeneration = rel.Generation
	} else {
		removeCondition(rel, capstanv1.StalledCondition)
	}
	setCondition(rel, capstanv1.ReadyCondition, metav1.ConditionFalse, e.Reason, msg)
}

// readyReason is Released's reason when the last action succeeded, else Succeeded.
func readyReason(rel *capstanv1.Release) string {
	if released := findCondition(rel, capstanv1.ReleasedCondition); released != nil && released.Status == metav1.ConditionTrue {
		return released.Reason
	}
	return capstanv1.SucceededReason
}

// readyMessage says what is deployed, deterministically, so repeated reconciles never change it.
func readyMessage(rel *capstanv1.Release) string {
	s := rel.Status
	if s.CurrentRevision == 0 {
		return "no revision is deployed"
	}
	return fmt.Sprintf("Revision %d of %s %s is deployed", s.CurrentRevision, s.ChartName, s.ChartVersion)
}

// markSuspended records on Ready that reconciling is suspended, keeping Ready's status.
func markSuspended(rel *capstanv1.Release) {
	status := metav1.ConditionUnknown
	if ready := findCondition(rel, capstanv1.ReadyCondition); ready != nil {
		status = ready.Status
	}
	removeCondition(rel, capstanv1.ReconcilingCondition)
	setCondition(rel, capstanv1.ReadyCondition, status, capstanv1.SuspendedReason, "reconciliation is suspended")
}
