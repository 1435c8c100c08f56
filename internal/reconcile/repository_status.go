package reconcile

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/repo"
)

// RepositoryRetryingReason is used on Reconciling=True while a failed fetch of a ChartRepository
// waits for its next attempt (Flux's convention), so that kstatus reports the repository as in
// progress rather than current while it is being retried.
const RepositoryRetryingReason = "ProgressingWithRetry"

// RepositoryPatcher writes a ChartRepository's status.
type RepositoryPatcher interface {
	// Patch writes cr's status if it changed since the last write.
	Patch(ctx context.Context, cr *capstanv1.ChartRepository) error
}

// RepositoryStatusPatcher writes a ChartRepository's status when, and only when, it differs
// from what was last written (or read), so that a reconcile that changes nothing writes nothing.
type RepositoryStatusPatcher struct {
	client client.Client
	base   *capstanv1.ChartRepository
}

// NewRepositoryStatusPatcher returns a patcher whose baseline is cr as read from the API server.
func NewRepositoryStatusPatcher(c client.Client, cr *capstanv1.ChartRepository) *RepositoryStatusPatcher {
	return &RepositoryStatusPatcher{client: c, base: cr.DeepCopy()}
}

// Patch sends a merge patch of cr's status against the baseline if the status changed, then
// makes cr the new baseline. A ChartRepository that is gone is not an error.
func (p *RepositoryStatusPatcher) Patch(ctx context.Context, cr *capstanv1.ChartRepository) error {
	if equality.Semantic.DeepEqual(p.base.Status, cr.Status) {
		return nil
	}
	err := p.client.Status().Patch(ctx, cr, client.MergeFrom(p.base))
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("patching the status of ChartRepository %s/%s: %w", cr.Namespace, cr.Name, err)
	}
	p.base = cr.DeepCopy()
	return nil
}

// repoSetCondition sets a condition, moving its transition time only when its status changes.
func repoSetCondition(cr *capstanv1.ChartRepository, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&cr.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: repoOneLine(message),
		ObservedGeneration: cr.Generation,
	})
}

// repoCondition returns a condition of cr, or nil.
func repoCondition(cr *capstanv1.ChartRepository, typ string) *metav1.Condition {
	return meta.FindStatusCondition(cr.Status.Conditions, typ)
}

// repoMarkReconciling records that a fetch is under way: Reconciling=True without Stalled (the
// two contradict each other), and Ready=Unknown unless Ready is already True for this
// generation (a requested re-fetch does not make a working repository look broken).
func repoMarkReconciling(cr *capstanv1.ChartRepository) {
	const msg = "fetching the repository"
	meta.RemoveStatusCondition(&cr.Status.Conditions, capstanv1.StalledCondition)
	repoSetCondition(cr, capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason, msg)
	if cr.Status.ObservedGeneration == cr.Generation && repoIsReady(repoCondition(cr, capstanv1.ReadyCondition)) {
		return
	}
	repoSetCondition(cr, capstanv1.ReadyCondition, metav1.ConditionUnknown, capstanv1.ProgressingReason, msg)
}

// repoMarkSuspended records on Ready that fetching is suspended, keeping Ready's status: the
// last fetch stays in effect and Releases keep using it. The suspension is the observed
// generation's whole instruction, so observedGeneration moves.
func repoMarkSuspended(cr *capstanv1.ChartRepository) {
	status := metav1.ConditionUnknown
	if ready := repoCondition(cr, capstanv1.ReadyCondition); ready != nil {
		status = ready.Status
	}
	meta.RemoveStatusCondition(&cr.Status.Conditions, capstanv1.ReconcilingCondition)
	repoSetCondition(cr, capstanv1.ReadyCondition, status, capstanv1.SuspendedReason, "fetching is suspended")
	cr.Status.ObservedGeneration = cr.Generation
}

// repoSummarize is the one place that sets a ChartRepository's Ready. On success it records
// the URL and index, removes Reconciling, Stalled and FetchFailed and moves observedGeneration.
// On failure it sets FetchFailed and Ready=False with the failure's reason, and either
// Stalled=True (observedGeneration moves) or Reconciling=True while the fetch is retried.
func repoSummarize(cr *capstanv1.ChartRepository, url string, stats *repo.IndexStats, failure *repoFailure, now time.Time) {
	if failure == nil {
		for _, typ := range []string{capstanv1.ReconcilingCondition, capstanv1.StalledCondition, capstanv1.FetchFailedCondition} {
			meta.RemoveStatusCondition(&cr.Status.Conditions, typ)
		}
		cr.Status.URL = url
		cr.Status.Index = repoIndexSummary(cr.Status.Index, stats, now)
		cr.Status.ObservedGeneration = cr.Generation
		repoSetCondition(cr, capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.SucceededReason, repoReadyMessage(cr))
		return
	}
	msg := failure.message()
	repoSetCondition(cr, capstanv1.FetchFailedCondition, metav1.ConditionTrue, failure.reason, msg)
	if failure.stalled() {
		meta.RemoveStatusCondition(&cr.Status.Conditions, capstanv1.ReconcilingCondition)
		repoSetCondition(cr, capstanv1.StalledCondition, metav1.ConditionTrue, failure.reason, msg)
		cr.Status.ObservedGeneration = cr.Generation
	} else {
		meta.RemoveStatusCondition(&cr.Status.Conditions, capstanv1.StalledCondition)
		repoSetCondition(cr, capstanv1.ReconcilingCondition, metav1.ConditionTrue, RepositoryRetryingReason, "retrying: "+msg)
	}
	repoSetCondition(cr, capstanv1.ReadyCondition, metav1.ConditionFalse, failure.reason, msg)
}

// repoIndexSummary returns the status.index block for stats: the previous block when the index
// is unchanged (so fetchedAt is when this index was first fetched, and an unchanged index
// writes nothing), a new one when it changed, nil for OCI registries.
func repoIndexSummary(prev *capstanv1.IndexSummary, stats *repo.IndexStats, now time.Time) *capstanv1.IndexSummary {
	if stats == nil {
		return nil
	}
	if prev != nil && prev.Digest == stats.Digest {
		return prev
	}
	return &capstanv1.IndexSummary{
		Digest: stats.Digest, Size: stats.Size, Charts: repoInt32(stats.Charts), Versions: repoInt32(stats.Versions),
		FetchedAt: metav1.NewTime(now.UTC().Truncate(time.Second)),
	}
}

// repoInt32 converts a count, saturating at the int32 maximum.
func repoInt32(n int) int32 {
	if n > 1<<31-1 {
		return 1<<31 - 1
	}
	return int32(n) //nolint:gosec // G115: bounded just above.
}

// repoReadyMessage says what the last fetch found, deterministically.
func repoReadyMessage(cr *capstanv1.ChartRepository) string {
	idx := cr.Status.Index
	if idx == nil {
		return fmt.Sprintf("reached the registry %s", cr.Status.URL)
	}
	return fmt.Sprintf("fetched index %s with %d charts in %d versions", repoShortDigest(idx.Digest), idx.Charts, idx.Versions)
}

// repoShortDigest shortens sha256:<hex> to its first 12 hex digits for messages.
func repoShortDigest(d string) string {
	const keep = len("sha256:") + 12
	if len(d) <= keep {
		return d
	}
	return d[:keep]
}
