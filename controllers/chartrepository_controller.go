package controllers

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
)

// indexRepositoryRefs is the field index of ChartRepositories by the Secrets they name
// (namespace/name), used to map a changed Secret to the repositories that read it.
const indexRepositoryRefs = "spec.secretRefs"

// ChartRepositoryReconciler is the ChartRepository controller's entry: it reads the object,
// honours deletion and suspend, and hands the fetch to the repository reconciler.
type ChartRepositoryReconciler struct {
	client.Client
	// Engine fetches repositories and summarizes their status.
	Engine *reconcile.RepositoryReconciler
	// Concurrency is how many ChartRepositories are reconciled at once.
	Concurrency int
}

// +kubebuilder:rbac:groups=capstan.dev,resources=chartrepositories,verbs=get;list;watch
// +kubebuilder:rbac:groups=capstan.dev,resources=chartrepositories/status,verbs=get;patch;update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile handles one ChartRepository. The status is patched once at the end, and only if
// it changed. No finalizer is needed: nothing outside the object is created for it.
func (r *ChartRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	cr := &capstanv1.ChartRepository{}
	if err := r.Get(ctx, req.NamespacedName, cr); err != nil {
		if apierrors.IsNotFound(err) {
			r.Engine.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cr.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	patcher := reconcile.NewRepositoryStatusPatcher(r.Client, cr)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, cr)) }()
	if cr.Spec.Suspend {
		r.Engine.Suspended(cr)
		return ctrl.Result{}, nil
	}
	return r.Engine.Reconcile(ctx, cr, patcher)
}

// SetupWithManager registers the controller: ChartRepositories (on spec or annotation
// changes) and the Secrets they name, watched as metadata only so that no Secret data is
// cached; a changed Secret re-fetches the repositories that use it.
func (r *ChartRepositoryReconciler) SetupWithManager(mgr ctrl.Manager) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &capstanv1.ChartRepository{}, indexRepositoryRefs, repositorySecretKeys)
	if err != nil {
		return fmt.Errorf("indexing ChartRepositories by %s: %w", indexRepositoryRefs, err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("chartrepository").
		For(&capstanv1.ChartRepository{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.repositoriesForSecret)).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Concurrency, 1)}).
		Complete(r)
}

// repositoriesForSecret enqueues the ChartRepositories that name the changed Secret.
func (r *ChartRepositoryReconciler) repositoriesForSecret(ctx context.Context, obj client.Object) []ctrl.Request {
	var list capstanv1.ChartRepositoryList
	err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{indexRepositoryRefs: obj.GetNamespace() + "/" + obj.GetName()})
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing ChartRepositories to notify", "index", indexRepositoryRefs)
		return nil
	}
	out := make([]ctrl.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}

// repositorySecretKeys is the index function: the namespace/name of each Secret a
// ChartRepository names.
func repositorySecretKeys(obj client.Object) []string {
	cr, ok := obj.(*capstanv1.ChartRepository)
	if !ok {
		return nil
	}
	var keys []string
	for _, ref := range []*capstanv1.LocalObjectReference{cr.Spec.SecretRef, cr.Spec.CertSecretRef} {
		if ref != nil {
			keys = append(keys, cr.Namespace+"/"+ref.Name)
		}
	}
	return keys
}
