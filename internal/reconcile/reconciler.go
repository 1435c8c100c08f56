package reconcile

import (
	"context"
	"errors"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/health"
	"github.com/capstan-dev/capstan/internal/redact"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/values"
)

// ChartSource resolves a chart version in a ChartRepository and fetches its verified archive.
// The ChartRepository controller's engineer provides the implementation.
type ChartSource interface {
	// Resolve returns the version that constraint selects and the archive's digest.
	Resolve(ctx context.Context, repo *capstanv1.ChartRepository, chart, constraint string) (version, digest string, err error)
	// Fetch returns the archive bytes of a resolved version; they must not be modified.
	Fetch(ctx context.Context, repo *capstanv1.ChartRepository, chart, version string) ([]byte, error)
}

// IdentityChartSource is a ChartSource that can read a repository's Secrets as someone else:
// the session binds it to the Release's client, so the credentials a Release's chart is pulled
// with are read with the Release's identity, never the manager's.
type IdentityChartSource interface {
	WithReader(reader client.Reader) ChartSource
}

// Waiter looks once at applied objects that are awaited: it reads those last reported not ready
// (pending) and returns the report of those still not ready (health.Checker.Look). The wait
// itself (when to look again, the timeout) is the Reconciler's, so that no worker sleeps in it.
type Waiter interface {
	Look(ctx context.Context, pending []apply.ObjectRef, last health.Report) (health.Report, error)
}

// ObjectWatches wake a waiting Release when one of the objects it waits for changes (through
// Reconciler.ObjectChanged); health.Watches implements it.
type ObjectWatches interface {
	// Watch covers refs with watches opened through c, which acts as identity, until release is
	// called; watched is false when some object is not covered, and the wait then polls.
	Watch(c client.WithWatch, identity string, refs []apply.ObjectRef) (release func(), watched bool)
}

// HookRunner runs the hooks of one event in Helm's order and records each hook's last run in
// place.
type HookRunner interface {
	Run(ctx context.Context, event string, hooks []*storage.Hook, timeout time.Duration) error
}

// ClientFactory returns the client every read and write made for a Release goes through:
// impersonating its service account when it has one, never cached.
type ClientFactory interface {
	ForRelease(ctx context.Context, rel *capstanv1.Release) (client.WithWatch, error)
}

// CapabilitiesSource returns what .Capabilities shows templates, from the live cluster.
type CapabilitiesSource interface {
	Capabilities(ctx context.Context) (*engine.Capabilities, error)
}

// EventRecorder records Kubernetes events (k8s.io/client-go/tools/events.EventRecorder).
type EventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// Options are the manager-wide settings the state machine follows.
type Options struct {
	// AllowCrossNamespaceRefs lets a Release name a ChartRepository or dependency in another
	// namespace.
	AllowCrossNamespaceRefs bool
	// ChartLimits bound every chart load.
	ChartLimits chart.Limits
	// DependencyRequeue is the fixed delay while waiting for a dependency (default 15s).
	DependencyRequeue time.Duration
	// ConflictRequeue is the delay after another writer changed the release's records (default 1s).
	ConflictRequeue time.Duration
	// RenderTimeout bounds template execution (default: the engine's).
	RenderTimeout time.Duration
	// RenderLimits is the render budget (options.RenderBudget); zero fields take the engine's
	// defaults.
	RenderLimits engine.Limits
	// Templates keeps parsed chart templates across reconciles; nil parses them every render.
	Templates *engine.TemplateCache
	// Schemas keeps compiled values schemas across reconciles; nil compiles them every render.
	Schemas *values.SchemaCache
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ForeignPendingTimeout is how long a pending revision another tool (helm) wrote is waited on
	// before it is marked failed (default DefaultForeignPendingTimeout).
	ForeignPendingTimeout time.Duration
	// MaxWaiting bounds the installs and upgrades whose objects are applied and awaited at once
	// (0: no bound). A Release that would start one past it waits in line, without applying,
	// until a wait ends; see admit.
	MaxWaiting int
	// CrashLoopLimit is how many interrupted attempts of the same desired state count as one
	// failed attempt (default DefaultCrashLoopLimit).
	CrashLoopLimit int
}

// Reconciler runs the release state machine. Its fields are the collaborators; nil Waiter and
// HookRunner factories mean no waiting and no hooks.
type Reconciler struct {
	// Client is the manager's cached client: Releases, ChartRepositories and status writes.
	Client client.Client
	// Clients gives the client for everything done for one Release.
	Clients ClientFactory
	// Remote gives the clients of remote clusters (spec.kubeConfig); nil refuses such Releases.
	Remote RemoteClusters
	// Source resolves and fetches charts.
	Source ChartSource
	// Capabilities come from the live cluster's discovery.
	Capabilities CapabilitiesSource
	// Events records events; nil records none.
	Events EventRecorder
	// NewWaiter returns the health waiter for a Release's client; nil disables waiting.
	NewWaiter func(c client.WithWatch) Waiter
	// Watches wake Releases whose objects change while they wait; nil: waits poll.
	Watches ObjectWatches
	// Enqueue asks for a reconcile of a Release soon (set by the controller; nil: waits poll).
	Enqueue func(types.NamespacedName)
	// NewHookRunner returns the hook runner for a Release's client; nil disables hooks.
	NewHookRunner func(c client.WithWatch, owner apply.Owner) HookRunner
	// Metrics records release metrics; nil records none.
	Metrics *Metrics
	// Options are the manager-wide settings.
	Options Options

	// budgetMemo keeps Releases whose render went over budget from rendering again unchanged.
	budgetMemo renderBudgetMemo
	// attempts holds the ids of the attempts running in this process.
	attempts sync.Map
	// waits holds the actions whose objects are applied and awaited.
	waits waitRegistry
	// inSync remembers, per Release, the objects known to be in sync and at which
	// resourceVersion, so that drift checks dry-run only what was written since.
	inSync sync.Map // client.ObjectKey -> *releaseInSync
	// healthChecks keeps each Release's compiled spec.healthChecks for its generation.
	healthChecks health.ChecksCache
}

// releaseInSync is the drift memory of one Release object (a new object of the same name starts
// a new one).
type releaseInSync struct {
	uid     types.UID
	objects *apply.InSync
}

// inSyncOf returns the drift memory of rel.
func (r *Reconciler) inSyncOf(rel *capstanv1.Release) *apply.InSync {
	key := client.ObjectKeyFromObject(rel)
	if v, ok := r.inSync.Load(key); ok && v.(*releaseInSync).uid == rel.UID {
		return v.(*releaseInSync).objects
	}
	m := &releaseInSync{uid: rel.UID, objects: apply.NewInSync()}
	r.inSync.Store(key, m)
	return m.objects
}

func (r *Reconciler) now() time.Time {
	if r.Options.Now != nil {
		return r.Options.Now()
	}
	return time.Now()
}

func (r *Reconciler) dependencyRequeue() time.Duration {
	if r.Options.DependencyRequeue > 0 {
		return r.Options.DependencyRequeue
	}
	return 15 * time.Second
}

func (r *Reconciler) conflictRequeue() time.Duration {
	if r.Options.ConflictRequeue > 0 {
		return r.Options.ConflictRequeue
	}
	return time.Second
}

// Reconcile brings one Release (not being deleted, not suspended, finalizer in place) towards its
// desired state. It changes rel's status in memory, patching it through p before long work; the
// caller patches the final status. The result follows the error's class.
func (r *Reconciler) Reconcile(ctx context.Context, rel *capstanv1.Release, p *StatusPatcher) (crreconcile.Result, error) {
	start := r.now()
	w := r.waits.take(rel.UID)
	if w != nil {
		ctx = redact.NewContext(ctx, w.s.red)
	}
	ctx, red := startRedaction(ctx)
	handleRequests(rel)
	var s *session
	var err error
	if w != nil {
		s = w.resume(rel, p)
		err = s.concludeResumed(ctx, w)
	} else {
		s = r.newSession(rel, p)
		s.red = red
		err = s.run(ctx)
	}
	if errors.Is(err, errShuttingDown) {
		crlog.FromContext(ctx).Info("stopped between two steps: the manager is shutting down")
		redactStatus(rel, red)
		return crreconcile.Result{}, nil
	}
	s.test(ctx, err)
	before := findCondition(rel, capstanv1.ReadyCondition).DeepCopy()
	summarize(rel, Outcome{Err: err, Redact: red.Redact})
	redactStatus(rel, red)
	if countsAsFailure(err, s.actionFailed, before, findCondition(rel, capstanv1.ReadyCondition)) {
		rel.Status.Failures++
		if !s.actionFailed {
			e := classify(err)
			s.event(corev1EventWarning, e.Reason, string(s.action.Kind), e.Error())
		}
	}
	r.Metrics.observe(rel, s.action, err, r.now().Sub(start))
	return r.result(ctx, rel, err)
}

// result maps an outcome to what controller-runtime does next.
func (r *Reconciler) result(ctx context.Context, rel *capstanv1.Release, err error) (crreconcile.Result, error) {
	if err == nil {
		return crreconcile.Result{RequeueAfter: wait.Jitter(rel.GetInterval(), 0.1)}, nil
	}
	e := classify(err)
	log := crlog.FromContext(ctx)
	switch e.Class {
	case ClassStalling:
		log.Info("release stalled", "reason", e.Reason, "message", oneLine(e.Error()))
		return crreconcile.Result{}, nil
	case ClassProgressing:
		log.V(1).Info("release progressing", "message", oneLine(e.Error()), "requeueAfter", e.RequeueAfter)
		return crreconcile.Result{RequeueAfter: e.RequeueAfter}, nil
	case ClassWaiting:
		after := e.RequeueAfter
		if after <= 0 {
			after = r.dependencyRequeue()
		}
		log.V(1).Info("release waiting", "reason", e.Reason, "message", oneLine(e.Error()), "requeueAfter", after)
		return crreconcile.Result{RequeueAfter: after}, nil
	default:
		// controller-runtime logs the returned error: scrub its text, keep its chain.
		return crreconcile.Result{}, redact.FromContext(ctx).Error(err)
	}
}

// countsAsFailure reports whether a reconcile adds to status.failures: a failed action always
// does; another error only when it changes what Ready says, so that a stalled Release reconciled
// again does not count (and write) again. Waiting is not failing.
func countsAsFailure(err error, actionFailed bool, before, after *metav1.Condition) bool {
	if err == nil || classify(err).Class == ClassWaiting || classify(err).Class == ClassProgressing {
		return false
	}
	if actionFailed || before == nil || after == nil {
		return true
	}
	return before.Status != after.Status || before.Reason != after.Reason || before.Message != after.Message
}

// handleRequests acts on the capstan.dev/reset and capstan.dev/reconcile annotations, each value
// once.
func handleRequests(rel *capstanv1.Release) {
	ann := rel.GetAnnotations()
	if v, ok := ann[capstanv1.ResetAnnotation]; ok && v != rel.Status.LastHandledResetAt {
		rel.Status.LastHandledResetAt = v
		rel.Status.Failures, rel.Status.InstallFailures, rel.Status.UpgradeFailures = 0, 0, 0
		removeCondition(rel, capstanv1.RemediatedCondition)
	}
	if v, ok := ann[capstanv1.ReconcileRequestAnnotation]; ok && v != rel.Status.LastHandledReconcileAt {
		rel.Status.LastHandledReconcileAt = v
	}
}

// Suspended records that a Release is suspended; nothing else happens.
func (r *Reconciler) Suspended(rel *capstanv1.Release) {
	markSuspended(rel)
	r.Metrics.observe(rel, Action{Kind: "Suspended"}, nil, 0)
}

// Forget drops a Release that no longer exists from the metrics.
func (r *Reconciler) Forget(key client.ObjectKey) {
	r.Metrics.forget(key)
	r.inSync.Delete(key)
}

// isConflict reports whether err means another writer changed the records first.
func isConflict(err error) bool {
	return errors.Is(err, storage.ErrConflict)
}
