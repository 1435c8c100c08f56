package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/redact"
	"github.com/capstan-dev/capstan/internal/repo"
)

// DefaultRepositorySecretRequeue is how long a ChartRepository whose Secret does not exist
// waits before it looks again (the Secret's creation is also watched).
const DefaultRepositorySecretRequeue = 30 * time.Second

// repoEventAction is the action of every ChartRepository event.
const repoEventAction = "Fetch"

// RepositoryReconciler fetches one ChartRepository's index (or reaches its registry) and
// records the outcome in its status and in events. The controller's Reconcile entry handles
// reading the object, deletion and suspension, and calls it.
type RepositoryReconciler struct {
	// Sources gives the repository clients; the Release side shares it.
	Sources *ChartSources
	// Reader reads the Secrets a ChartRepository names (the manager's uncached API reader,
	// so that no Secret data is cached).
	Reader client.Reader
	// Events records events; nil records none.
	Events events.EventRecorder
	// SecretRequeue is the wait while a named Secret does not exist;
	// DefaultRepositorySecretRequeue when zero.
	SecretRequeue time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Metrics records each repository's state; nil records none.
	Metrics *RepositoryMetrics
}

// repoSnapshot is what the status said before a reconcile, for deciding on events.
type repoSnapshot struct {
	ready  *metav1.Condition
	digest string
}

// Reconcile fetches cr (not being deleted, not suspended) and summarizes the outcome into its
// status in memory; p writes the Reconciling mark before the fetch when the fetch is news (a
// generation not handled yet, a requested reconcile, or a first fetch), and the caller writes
// the final status. Periodic fetches and retries write nothing before they finish, so an
// unchanged repository costs no write and a failing one does not flap between Unknown and
// False. The result follows the failure's class: success and remote stalls come back at the
// interval (±10%), a missing Secret after SecretRequeue, local stalls never by themselves, and
// transient failures return the error for the rate limiter's backoff.
func (r *RepositoryReconciler) Reconcile(ctx context.Context, cr *capstanv1.ChartRepository, p RepositoryPatcher) (crreconcile.Result, error) {
	ctx, red := startRedaction(ctx)
	before := repoSnapshotOf(cr)
	requested := repoHandleRequest(cr)
	if requested || before.ready == nil || before.ready.ObservedGeneration != cr.Generation {
		repoMarkReconciling(cr)
		if err := p.Patch(ctx, cr); err != nil {
			return crreconcile.Result{}, err
		}
	}
	url, stats, err := r.check(ctx, cr)
	var failure *repoFailure
	if err != nil {
		failure = repoClassify(err)
	}
	repoSummarize(cr, url, stats, failure, r.now())
	redactConditions(cr.Status.Conditions, red) // before the events, which copy Ready's message
	r.record(cr, before, failure)
	r.Metrics.observe(cr)
	return r.result(ctx, cr, failure)
}

// Suspended records that cr is suspended: nothing is fetched and Ready keeps its status.
func (r *RepositoryReconciler) Suspended(cr *capstanv1.ChartRepository) {
	repoHandleRequest(cr)
	repoMarkSuspended(cr)
	r.Metrics.observe(cr)
}

// Forget drops what is kept for a ChartRepository that no longer exists.
func (r *RepositoryReconciler) Forget(key client.ObjectKey) {
	r.Sources.Forget(key)
	r.Metrics.forget(key)
}

// check reaches the repository within spec.timeout and returns its redacted URL and, for an
// HTTP repository, its index statistics.
func (r *RepositoryReconciler) check(ctx context.Context, cr *capstanv1.ChartRepository) (string, *repo.IndexStats, error) {
	src, err := r.Sources.For(ctx, r.Reader, cr)
	if err != nil {
		return "", nil, err
	}
	timeout := cr.GetTimeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stats, err := src.Check(ctx)
	if repoIsTimeout(err) {
		err = fmt.Errorf("no answer within spec.timeout (%s): %w", timeout, err)
	}
	return repoSourceURL(src, cr), stats, err
}

// repoIsTimeout reports an error of a deadline: the fetch's own or the per-request one.
func repoIsTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

// repoSourceURL is the repository URL as the client shows it: without credentials or query.
func repoSourceURL(src repo.Source, cr *capstanv1.ChartRepository) string {
	if u, ok := src.(interface{ URL() string }); ok {
		return u.URL()
	}
	return cr.Spec.URL
}

// result maps the outcome to what controller-runtime does next.
func (r *RepositoryReconciler) result(ctx context.Context, cr *capstanv1.ChartRepository, failure *repoFailure) (crreconcile.Result, error) {
	if failure == nil {
		return crreconcile.Result{RequeueAfter: repoJitter(cr.GetInterval())}, nil
	}
	switch failure.class {
	case repoStalledRemote:
		return crreconcile.Result{RequeueAfter: repoJitter(cr.GetInterval())}, nil
	case repoStalledLocal:
		return crreconcile.Result{}, nil
	case repoWaiting:
		return crreconcile.Result{RequeueAfter: r.secretRequeue()}, nil
	}
	crlog.FromContext(ctx).V(1).Info("repository fetch failed; retrying with backoff", "reason", failure.reason)
	return crreconcile.Result{}, redact.FromContext(ctx).Error(fmt.Errorf("ChartRepository %s/%s: %s", cr.Namespace, cr.Name, failure.message()))
}

// record emits an event when something happened: a failure that is new or different, an index
// that changed (the first fetch included), or a repository that is reachable again. An
// unchanged, successful fetch emits nothing.
func (r *RepositoryReconciler) record(cr *capstanv1.ChartRepository, before repoSnapshot, failure *repoFailure) {
	if r.Events == nil {
		return
	}
	ready := repoCondition(cr, capstanv1.ReadyCondition)
	switch {
	case failure != nil:
		if before.ready == nil || before.ready.Status != metav1.ConditionFalse ||
			before.ready.Reason != ready.Reason || before.ready.Message != ready.Message {
			r.Events.Eventf(cr, nil, corev1.EventTypeWarning, ready.Reason, repoEventAction, "%s", ready.Message)
		}
	case cr.Status.Index != nil && cr.Status.Index.Digest != before.digest:
		r.Events.Eventf(cr, nil, corev1.EventTypeNormal, ready.Reason, repoEventAction, "%s", ready.Message)
	case !repoIsReady(before.ready):
		r.Events.Eventf(cr, nil, corev1.EventTypeNormal, ready.Reason, repoEventAction, "%s", ready.Message)
	}
}

func (r *RepositoryReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *RepositoryReconciler) secretRequeue() time.Duration {
	if r.SecretRequeue > 0 {
		return r.SecretRequeue
	}
	return DefaultRepositorySecretRequeue
}

// repoSnapshotOf copies what the events depend on.
func repoSnapshotOf(cr *capstanv1.ChartRepository) repoSnapshot {
	s := repoSnapshot{ready: repoCondition(cr, capstanv1.ReadyCondition).DeepCopy()}
	if cr.Status.Index != nil {
		s.digest = cr.Status.Index.Digest
	}
	return s
}

// repoIsReady reports a Ready condition that is True.
func repoIsReady(c *metav1.Condition) bool {
	return c != nil && c.Status == metav1.ConditionTrue
}

// repoHandleRequest records a new value of the reconcile-request annotation as handled and
// reports whether there was one.
func repoHandleRequest(cr *capstanv1.ChartRepository) bool {
	v, ok := cr.Annotations[capstanv1.ReconcileRequestAnnotation]
	if !ok || v == cr.Status.LastHandledReconcileAt {
		return false
	}
	cr.Status.LastHandledReconcileAt = v
	return true
}

// repoJitter spreads d by ±10%, so repositories created together do not fetch together.
func repoJitter(d time.Duration) time.Duration {
	low := d - d/10
	return wait.Jitter(low, float64(d/5)/float64(low))
}
