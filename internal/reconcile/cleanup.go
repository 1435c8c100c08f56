package reconcile

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/capstan-dev/capstan/internal/apply"
)

// noteCreated records, before an upgrade applies anything, which of its objects that upgrade will
// create: objects the previous revision did not have and that do not exist. Only those are deleted
// by upgrade.cleanupOnFail, so an object of the previous revision, or one that existed and was
// adopted, is never deleted. An object that cannot be read is taken to exist.
func (s *session) noteCreated(ctx context.Context, p *plan) error {
	if !p.cleanupOnFail {
		return nil
	}
	previous := p.ownedBefore // The inventory now holds this revision's objects too (writeAhead).
	if previous == nil {
		var err error
		if previous, err = s.previousRefs(ctx); err != nil {
			return err
		}
	}
	p.created = nil
	for _, ref := range apply.Stale(p.objectRefs(), previous) {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(ref.GroupVersionKind())
		err := s.target.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			p.created = append(p.created, ref)
		}
	}
	return nil
}

// cleanupOnFail deletes what a failed upgrade created (noteCreated) and applied, in uninstall
// order, and returns the applied objects that remain: those it did not create and those whose
// deletion failed, which stay in the inventory so a later prune retries them.
func (s *session) cleanupOnFail(ctx context.Context, p *plan, applied []apply.ObjectRef) []apply.ObjectRef {
	if !p.cleanupOnFail || len(p.created) == 0 || len(applied) == 0 {
		return applied
	}
	created := map[string]bool{}
	for _, r := range p.created {
		created[r.ID()] = true
	}
	var doomed, remaining []apply.ObjectRef
	for _, r := range applied {
		if created[r.ID()] {
			doomed = append(doomed, r)
		} else {
			remaining = append(remaining, r)
		}
	}
	if len(doomed) == 0 {
		return applied
	}
	log := crlog.FromContext(ctx)
	log.Info("upgrade failed; deleting the objects it created (cleanupOnFail)", "objects", len(doomed))
	_, err := p.applier.Delete(ctx, sortForDeletion(doomed))
	var pe *apply.PruneError
	if errors.As(err, &pe) {
		for _, f := range pe.Failures {
			remaining = append(remaining, f.Ref)
		}
	} else if err != nil {
		remaining = append(remaining, doomed...)
	}
	if err != nil {
		log.Info("cleanupOnFail could not delete every object; a later prune retries", "error", err.Error())
	}
	return remaining
}
