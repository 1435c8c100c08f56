package hooks

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/apply"
)

// Delete removes the objects of hooks from the cluster and waits until each is gone, each bounded by
// timeout; the reconciler calls it on uninstall for the hooks whose objects it wants cleaned up (Helm
// itself leaves hook objects behind unless a policy deletes them). Objects already gone count as
// deleted. CRDs, objects marked helm.sh/resource-policy: keep and objects that carry another release's
// ownership metadata are left alone. Every failure is reported in one *CleanupError.
func (r *Runner) Delete(ctx context.Context, hooks []Hook, timeout time.Duration) ([]apply.ObjectRef, error) {
	var deleted []apply.ObjectRef
	var failures []apply.Failure
	for _, h := range hooks {
		if h.isCRD() {
			continue
		}
		obj, err := r.prepare(h)
		if err != nil {
			failures = append(failures, apply.Failure{Ref: refOfHook(h), Message: err.Error(), Err: err})
			continue
		}
		ref := apply.RefOf(obj)
		delCtx, cancel := withTimeout(ctx, timeout)
		gone, err := r.remove(delCtx, ref, true)
		cancel()
		switch {
		case err != nil:
			failures = append(failures, apply.Failure{Ref: ref, Message: err.Error(), Err: err})
		case gone:
			deleted = append(deleted, ref)
		}
	}
	if len(failures) > 0 {
		return deleted, &CleanupError{Failures: failures}
	}
	return deleted, nil
}

func refOfHook(h Hook) apply.ObjectRef {
	if h.Object == nil {
		return apply.ObjectRef{Kind: h.Kind, Name: h.Name}
	}
	return apply.RefOf(h.Object)
}

// cleanup applies the hook-succeeded and hook-failed policies to the hooks of a run, last first.
func (r *Runner) cleanup(ctx context.Context, runs []*hookRun, timeout time.Duration) error {
	var failures []apply.Failure
	for i := len(runs) - 1; i >= 0; i-- {
		run := runs[i]
		if !run.created || run.hook.isCRD() || !run.wantsDeletion() {
			continue
		}
		delCtx, cancel := withTimeout(ctx, timeout)
		err := r.deleteAndWait(delCtx, run.res.Ref)
		cancel()
		if err != nil {
			failures = append(failures, apply.Failure{Ref: run.res.Ref, Message: err.Error(), Err: err})
			continue
		}
		run.res.Deleted = true
	}
	if len(failures) > 0 {
		return &CleanupError{Failures: failures}
	}
	return nil
}

// wantsDeletion reports whether the hook's policy asks for its object to go after this run's outcome.
func (run *hookRun) wantsDeletion() bool {
	switch run.res.LastRun.Phase {
	case PhaseSucceeded:
		return run.hook.HasDeletePolicy(HookSucceeded)
	case PhaseFailed:
		return run.hook.HasDeletePolicy(HookFailed)
	}
	return false
}

// removeLeftover applies the delete policy of a hook without before-hook-creation to the object a
// previous run left behind, as that run would have, had its own deletion worked (or had it not
// been abandoned): a failed object, or one that never finished (a timeout or an abandoned run,
// which Helm records as failed), goes when the hook has hook-failed; a finished one goes when it
// has hook-succeeded. Objects of other releases or of none, and leftovers no policy removes, stay,
// and the create that follows fails with AlreadyExists, as in Helm.
func (r *Runner) removeLeftover(ctx context.Context, run *hookRun) error {
	ref := run.res.Ref
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(ref.GroupVersionKind())
	err := r.client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case !apply.OwnedBy(live, r.owner):
		return nil
	}
	st := stateOf(live)
	policy := HookSucceeded
	if st.failed || !st.done {
		policy = HookFailed
	}
	if !run.hook.HasDeletePolicy(policy) {
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("deleting a hook's leftover object", "hook", ref.String(), "policy", string(policy), "state", st.message)
	return r.deleteAndWait(ctx, ref)
}

// deleteAndWait deletes the object, if it exists, and waits until it is gone.
func (r *Runner) deleteAndWait(ctx context.Context, ref apply.ObjectRef) error {
	_, err := r.remove(ctx, ref, false)
	return err
}

// remove deletes the object with background propagation and waits until it is gone. It refuses an object
// that carries another release's ownership metadata; with keep, it leaves alone an object marked
// helm.sh/resource-policy: keep and reports gone = false.
func (r *Runner) remove(ctx context.Context, ref apply.ObjectRef, keep bool) (gone bool, err error) {
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(ref.GroupVersionKind())
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	if err := r.client.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
	if other := otherRelease(live, r.owner); other != "" {
		return false, fmt.Errorf("%s belongs to release %s", ref, other)
	}
	if keep && strings.TrimSpace(live.GetAnnotations()[apply.ResourcePolicyAnnotation]) == apply.KeepPolicy {
		return false, nil
	}
	uid := live.GetUID()
	err = r.client.Delete(ctx, live, client.PropagationPolicy(metav1.DeletePropagationBackground),
		client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, err
	}
	return true, r.waitGone(ctx, ref, uid)
}

// waitGone waits until the object with uid no longer exists (a new object of the same name does not count).
func (r *Runner) waitGone(ctx context.Context, ref apply.ObjectRef, uid types.UID) error {
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		live := &metav1.PartialObjectMetadata{}
		live.SetGroupVersionKind(ref.GroupVersionKind())
		err := r.client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
		switch {
		case apierrors.IsNotFound(err) || (err == nil && live.GetUID() != uid):
			return nil
		case err != nil && ctx.Err() == nil:
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to be deleted: %w", ref, ctx.Err())
		case <-ticker.C:
		}
	}
}

// otherRelease names the release ("namespace/name") that owns obj, when that is not owner (see
// apply.OwnershipOf); objects with no release metadata (such as hooks Helm created) are nobody's.
func otherRelease(obj client.Object, owner apply.Owner) string {
	if own := apply.OwnershipOf(obj, owner); !own.Ours(true) && own.Holder == apply.HeldByAnotherRelease {
		return own.Release
	}
	return ""
}
