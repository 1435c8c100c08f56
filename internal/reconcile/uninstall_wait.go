package reconcile

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/apply"
)

// deletionPollInterval is how often an uninstall looks whether the objects it deleted are gone.
const deletionPollInterval = 500 * time.Millisecond

// maxTerminatingNamed bounds how many objects a "still being deleted" message names.
const maxTerminatingNamed = 5

// waitForDeletion waits until none of refs is still being deleted, up to the Release's timeout,
// unless uninstall.disableWait is set. An object is still being deleted while it exists with a
// deletion timestamp and this release's ownership metadata (a finalizer or a foreground deletion
// holds it); objects that were let go (kept, or owned by someone else) are not waited for.
func (s *session) waitForDeletion(ctx context.Context, refs []apply.ObjectRef) error {
	if u := s.rel.Spec.Uninstall; (u != nil && u.DisableWait) || len(refs) == 0 {
		return nil
	}
	timeout := s.rel.GetTimeout()
	deadline := time.Now().Add(timeout)
	for {
		pending, err := s.terminating(ctx, refs)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		refs = pending
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%s still being deleted after %s (set uninstall.disableWait not to wait)",
				nameRefs(pending), timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the deleted objects to disappear: %w", ctx.Err())
		case <-time.After(min(deletionPollInterval, time.Until(deadline))):
		}
	}
}

// terminating returns the refs whose objects are still being deleted.
func (s *session) terminating(ctx context.Context, refs []apply.ObjectRef) ([]apply.ObjectRef, error) {
	var out []apply.ObjectRef
	for _, ref := range refs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(ref.GroupVersionKind())
		err := s.target.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
		switch {
		case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		case err != nil:
			return nil, fmt.Errorf("reading %s while waiting for its deletion: %w", ref, err)
		case live.GetDeletionTimestamp() != nil && apply.OwnedBy(live, s.owner):
			out = append(out, ref)
		}
	}
	return out, nil
}

// nameRefs names a few objects, sorted as given, and counts the rest.
func nameRefs(refs []apply.ObjectRef) string {
	names := make([]string, 0, maxTerminatingNamed)
	for i, r := range refs {
		if i == maxTerminatingNamed {
			break
		}
		names = append(names, r.String())
	}
	out := strings.Join(names, ", ")
	if extra := len(refs) - len(names); extra > 0 {
		out += fmt.Sprintf(" (and %d more)", extra)
	}
	return out
}
