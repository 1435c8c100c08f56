package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// ErrNotReady means a wait for a Release to be Ready ended with the Release stalled: the
// controller will not make progress until its spec or an input changes.
var ErrNotReady = errors.New("not ready")

// ReadyCheck is the Check of `status --wait`: done when Ready is True for the latest spec and no
// reconcile is under way; a failure (ErrNotReady) when Stalled is True.
func ReadyCheck(rel *capstanv1.Release) (bool, error) {
	conds := rel.Status.Conditions
	if s := meta.FindStatusCondition(conds, capstanv1.StalledCondition); s != nil && s.Status == metav1.ConditionTrue {
		return true, fmt.Errorf("%w: Release %s/%s is stalled (%s): %s", ErrNotReady, rel.Namespace, rel.Name, s.Reason, s.Message)
	}
	if meta.IsStatusConditionTrue(conds, capstanv1.ReconcilingCondition) {
		return false, nil
	}
	ready := meta.FindStatusCondition(conds, capstanv1.ReadyCondition)
	return ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == rel.Generation, nil
}

// ConditionsLine describes a Release's conditions in one line, sorted by type, with Ready's
// message: `Ready=False (Progressing) Reconciling=True (Progressing): Installing revision 1`. It
// holds no time, so it changes only when the conditions do.
func ConditionsLine(rel *capstanv1.Release) string {
	conds := slices.Clone(rel.Status.Conditions)
	if len(conds) == 0 {
		return "no conditions yet (the controller has not reported)"
	}
	slices.SortFunc(conds, func(a, b metav1.Condition) int { return strings.Compare(a.Type, b.Type) })
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Reason))
	}
	line := strings.Join(parts, " ")
	if ready := meta.FindStatusCondition(conds, capstanv1.ReadyCondition); ready != nil && ready.Message != "" {
		line += ": " + ready.Message
	}
	return line
}

// WaitReady waits until the Release is Ready or Stalled, or the timeout passes, showing its
// conditions (ConditionsLine) on progress at every poll. It returns nil when Ready, an error
// wrapping ErrNotReady when stalled, and one wrapping ErrTimeout when the time is up.
func (t *Target) WaitReady(ctx context.Context, timeout time.Duration, progress *Progress) error {
	defer progress.Done()
	progress.Show(ConditionsLine(t.Release))
	return t.Wait(ctx, timeout, "the Release to be Ready", func(rel *capstanv1.Release) (bool, error) {
		progress.Show(ConditionsLine(rel))
		return ReadyCheck(rel)
	})
}
