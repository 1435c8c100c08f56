package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// Bounds of the drift message, so that it stays one short line.
const (
	maxDriftObjects = 5
	maxDriftFields  = 3
)

// detectDrift compares the deployed revision's objects with the cluster (a server-side dry-run
// per object, nothing written), unless drift detection is disabled. A comparison that cannot be
// made is logged and skipped: drift is reported, never a reason to fail the reconcile, except
// an access denial, which stalls.
func (s *session) detectDrift(ctx context.Context) ([]apply.Change, error) {
	if s.rel.GetDriftMode() == capstanv1.DriftDetectionDisabled {
		removeCondition(s.rel, capstanv1.DriftedCondition)
		return nil, nil
	}
	objs, err := s.deployedObjects(ctx)
	if err != nil || len(objs) == 0 {
		return nil, err
	}
	changes, err := s.newApplier(false, false, false).Diff(ctx, objs, ignoreFunc(s.rel))
	if apierrors.IsForbidden(err) {
		return nil, stallErr(capstanv1.AccessDeniedReason, err)
	}
	if err != nil {
		crlog.FromContext(ctx).Info("drift detection skipped", "error", err.Error())
		return nil, nil
	}
	s.driftChecked, s.drift = true, changes
	return changes, nil
}

// ignoreFunc turns spec.driftDetection.ignore, and the fields spec.upgrade.conflicts yields to
// other field managers, into the pointers to leave out for one object.
func ignoreFunc(rel *capstanv1.Release) apply.IgnoreFunc {
	var rules []capstanv1.FieldRule
	if dd := rel.Spec.DriftDetection; dd != nil {
		for _, r := range dd.Ignore {
			rules = append(rules, capstanv1.FieldRule(r))
		}
	}
	rules = append(rules, rel.GetYieldRules()...)
	if len(rules) == 0 {
		return nil
	}
	return func(r apply.ObjectRef) []string {
		return fieldRulePaths(rules, r)
	}
}

// reportDrift sets the Drifted condition after a check (enabled mode reports after correcting).
// A warning event is emitted when drift appears or its description changes.
func (s *session) reportDrift(changes []apply.Change) {
	if !s.driftChecked || s.rel.GetDriftMode() == capstanv1.DriftDetectionDisabled {
		return
	}
	prev := findCondition(s.rel, capstanv1.DriftedCondition).DeepCopy()
	if len(changes) == 0 {
		if prev == nil || prev.Status == metav1.ConditionTrue {
			setCondition(s.rel, capstanv1.DriftedCondition, metav1.ConditionFalse, capstanv1.NoDriftDetectedReason,
				"the live objects match the deployed revision")
		}
		return
	}
	if s.rel.GetDriftMode() != capstanv1.DriftDetectionWarn {
		return
	}
	msg := driftMessage(changes)
	setCondition(s.rel, capstanv1.DriftedCondition, metav1.ConditionTrue, capstanv1.DriftDetectedReason, msg)
	if prev == nil || prev.Status != metav1.ConditionTrue || prev.Message != msg {
		s.event(corev1EventWarning, capstanv1.DriftDetectedReason, "DetectDrift", msg)
	}
}

// driftMessage describes drift in one deterministic, bounded line.
func driftMessage(changes []apply.Change) string {
	parts := make([]string, 0, len(changes))
	for _, c := range changes {
		detail := strings.ToLower(string(c.Kind))
		if len(c.Fields) > 0 {
			fields := c.Fields
			if len(fields) > maxDriftFields {
				fields = append(fields[:maxDriftFields:maxDriftFields], "...")
			}
			detail = strings.Join(fields, ", ")
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", c.Ref, detail))
	}
	sort.Strings(parts)
	more := ""
	if len(parts) > maxDriftObjects {
		more = fmt.Sprintf(" and %d more", len(parts)-maxDriftObjects)
		parts = parts[:maxDriftObjects]
	}
	return fmt.Sprintf("%d object(s) drifted from the deployed revision: %s%s", len(changes), strings.Join(parts, "; "), more)
}

// correctDrift re-applies the drifted objects of the deployed revision, taking their fields back
// from other field managers, without a new revision.
func (s *session) correctDrift(ctx context.Context) error {
	objs, err := s.deployedObjects(ctx)
	if err != nil {
		return err
	}
	drifted := driftedObjects(objs, s.drift)
	if len(drifted) == 0 {
		return s.settle(ctx)
	}
	msg := driftMessage(s.drift)
	markReconciling(s.rel, "Correcting drift: "+msg)
	s.patch(ctx)
	if _, err := s.newApplier(false, false, true).Apply(ctx, drifted); err != nil {
		return s.applyError(err, capstanv1.ApplyFailedReason)
	}
	note := "corrected: " + msg
	setCondition(s.rel, capstanv1.DriftedCondition, metav1.ConditionFalse, capstanv1.DriftCorrectedReason, note)
	s.event(corev1EventNormal, capstanv1.DriftCorrectedReason, "CorrectDrift", note)
	return s.settle(ctx)
}

// driftedObjects picks the objects a drift check reported.
func driftedObjects(objs []*unstructured.Unstructured, changes []apply.Change) []*unstructured.Unstructured {
	ids := make(map[string]bool, len(changes))
	for _, c := range changes {
		ids[c.Ref.ID()] = true
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if ids[apply.RefOf(o).ID()] {
			out = append(out, o)
		}
	}
	return out
}
