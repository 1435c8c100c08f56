package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
)

// ReleaseReconciler is the Release controller's entry: it reads the object, handles deletion,
// the finalizer and suspend, and hands everything else to the release state machine.
type ReleaseReconciler struct {
	client.Client
	// Engine is the release state machine.
	Engine *reconcile.Reconciler
	// Concurrency is how many Releases are reconciled at once.
	Concurrency int
	// ShutdownGrace is how long a reconcile goes on after the manager began to shut down, to
	// finish its current step and record the outcome (reconcile.ShutdownGrace).
	ShutdownGrace time.Duration
	// Reader reads a Release past the cache when the cache may not hold this manager's own last
	// write yet (nil: always trust the cache).
	Reader client.Reader

	// written maps a Release to the resourceVersion this manager's last write of it left (or
	// read past the cache), until the cache has shown that version: later versions in the cache
	// are then someone else's writes after it, such as a user's change of the spec, and the
	// cache can be trusted. shown maps a Release to the last version the cache showed
	// (caughtUp). Each side stores its own map before it looks at the other's, so that a write
	// and the cache's event of it, in either order, end the wait.
	written sync.Map
	shown   sync.Map
}

// The manager's own rights (docs/security.md explains each). Everything done for a Release goes
// through the identity it impersonates, so none of these reaches what a chart contains: the
// ConfigMap and Secret rights serve the metadata-only watches (the cache strips their data),
// and nothing gets them.
// +kubebuilder:rbac:groups=capstan.dev,resources=releases,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=capstan.dev,resources=releases/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=capstan.dev,resources=releases/finalizers,verbs=update
// +kubebuilder:rbac:groups=capstan.dev,resources=chartrepositories,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=configmaps;secrets,verbs=list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=impersonate
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile handles one Release. The status is patched once at the end, and only if it changed.
// On shutdown the reconcile finishes its current step, and the status is written with a fresh,
// bounded context.
func (r *ReleaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	ctx, cancel := reconcile.Graceful(ctx, r.ShutdownGrace)
	defer cancel()
	rel, pastCache, err := r.read(ctx, req)
	if err != nil {
		if apierrors.IsNotFound(err) {
			r.Engine.Forget(req.NamespacedName)
			r.written.Delete(req.NamespacedName)
			r.shown.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := reconcile.NewStatusPatcher(r.Client, rel)
	readVersion := rel.ResourceVersion
	defer func() {
		fresh, cancel := reconcile.Fresh(ctx)
		defer cancel()
		retErr = errors.Join(retErr, patcher.Patch(fresh, rel))
		// A version the cache showed already is not waited for: a reconcile that wrote nothing
		// and read the cache leaves nothing to wait for.
		if pastCache || rel.ResourceVersion != readVersion {
			r.awaitShown(req.NamespacedName, rel.ResourceVersion)
		}
	}()
	if !rel.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, rel, patcher)
	}
	if !controllerutil.ContainsFinalizer(rel, capstanv1.Finalizer) {
		base := rel.DeepCopy()
		controllerutil.AddFinalizer(rel, capstanv1.Finalizer)
		if err := r.Patch(ctx, rel, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer: %w", err)
		}
	}
	if rel.Spec.Suspend {
		if err := r.Engine.RecoverSuspended(ctx, rel); err != nil {
			ctrl.LoggerFrom(ctx).Info("could not recover the pending revisions of a suspended release", "error", err.Error())
		}
		r.Engine.Suspended(rel)
		return ctrl.Result{}, nil
	}
	return r.Engine.Reconcile(ctx, rel, patcher)
}

// read returns the Release from the cache, or from the API server when the cache does not show
// this manager's own last write of it. A reconcile queued by an event of an earlier write (a
// progress patch) may otherwise start from status older than the one the last reconcile wrote,
// and act on forgotten failure counters: one attempt too many before remediation.
func (r *ReleaseReconciler) read(ctx context.Context, req ctrl.Request) (_ *capstanv1.Release, pastCache bool, _ error) {
	rel := &capstanv1.Release{}
	if err := r.Get(ctx, req.NamespacedName, rel); err != nil {
		return nil, false, err
	}
	last, ok := r.written.Load(req.NamespacedName)
	if !ok || r.Reader == nil || last == rel.ResourceVersion {
		return rel, false, nil
	}
	fresh := &capstanv1.Release{}
	if err := r.Reader.Get(ctx, req.NamespacedName, fresh); err != nil {
		return nil, true, err
	}
	return fresh, true, nil
}

// awaitShown makes read check the cache against version until the cache shows it.
func (r *ReleaseReconciler) awaitShown(key types.NamespacedName, version string) {
	r.written.Store(key, version)
	if shown, ok := r.shown.Load(key); ok && shown == version {
		r.written.CompareAndDelete(key, version)
	}
}

// caughtUp sees every event of a Release the cache delivers, and lets it through: the first
// time the cache shows the version this manager last wrote, read stops checking the cache
// against it. Before, a Release whose spec a user changed after the manager's last write was
// read from the API server once more (one GET per upgrade). A cache that never shows the
// version (its watch restarted and listed a later one) leaves the check in place: read then
// reads past the cache once, as before.
func (r *ReleaseReconciler) caughtUp(obj client.Object) bool {
	key, version := client.ObjectKeyFromObject(obj), obj.GetResourceVersion()
	r.shown.Store(key, version)
	if last, ok := r.written.Load(key); ok && last == version {
		r.written.CompareAndDelete(key, last)
	}
	return true
}

// finalize uninstalls the release and then lets the Release go.
func (r *ReleaseReconciler) finalize(ctx context.Context, rel *capstanv1.Release, p *reconcile.StatusPatcher) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(rel, capstanv1.Finalizer) {
		return ctrl.Result{}, nil
	}
	res, done, err := r.Engine.Finalize(ctx, rel, p)
	if !done {
		return res, err
	}
	base := rel.DeepCopy()
	controllerutil.RemoveFinalizer(rel, capstanv1.Finalizer)
	if err := r.Patch(ctx, rel, client.MergeFrom(base)); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("removing the finalizer: %w", err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller: Releases (on spec or annotation changes), the
// ChartRepositories and Releases they depend on, and the ConfigMaps and Secrets their values and
// remote kubeconfigs come from, watched as metadata only so that no Secret data is ever cached.
func (r *ReleaseReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := addReleaseIndexes(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("release").
		For(&capstanv1.Release{}, builder.WithPredicates(predicate.NewPredicateFuncs(r.caughtUp),
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&capstanv1.ChartRepository{}, handler.EnqueueRequestsFromMapFunc(r.mapBy(indexRepository, namespacedKey))).
		Watches(&capstanv1.Release{}, handler.EnqueueRequestsFromMapFunc(r.mapBy(indexDependsOn, namespacedKey))).
		WatchesMetadata(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.mapBy(indexValuesFrom, valuesKey(capstanv1.ValuesKindConfigMap)))).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(mapEach(
			r.mapBy(indexValuesFrom, valuesKey(capstanv1.ValuesKindSecret)),
			r.mapBy(indexKubeConfig, valuesKey(capstanv1.ValuesKindSecret))))).
		WatchesRawSource(source.Func(r.wakeWaiting)).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Concurrency, 1)}).
		Complete(r)
}

// wakeWaiting lets the state machine queue a reconcile of a Release waiting for its objects when
// one of them changes (reconcile.Reconciler.ObjectChanged).
func (r *ReleaseReconciler) wakeWaiting(_ context.Context, q workqueue.TypedRateLimitingInterface[ctrl.Request]) error {
	r.Engine.Enqueue = func(key types.NamespacedName) { q.Add(ctrl.Request{NamespacedName: key}) }
	return nil
}

// mapBy enqueues the Releases whose index field holds the key of the changed object. Releases
// can only refer to objects in their own namespace unless cross-namespace references are
// allowed, so the lookup is not limited to a namespace.
func (r *ReleaseReconciler) mapBy(index string, key func(client.Object) string) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []ctrl.Request {
		var list capstanv1.ReleaseList
		if err := r.List(ctx, &list, client.MatchingFields{index: key(obj)}, client.UnsafeDisableDeepCopy); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing Releases to notify", "index", index)
			return nil
		}
		out := make([]ctrl.Request, 0, len(list.Items))
		for i := range list.Items {
			out = append(out, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
		return out
	}
}

// mapEach enqueues what any of fns maps an object to, each Release once.
func mapEach(fns ...handler.MapFunc) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []ctrl.Request {
		seen := map[ctrl.Request]bool{}
		var out []ctrl.Request
		for _, fn := range fns {
			for _, req := range fn(ctx, obj) {
				if !seen[req] {
					seen[req] = true
					out = append(out, req)
				}
			}
		}
		return out
	}
}
