package reconcile

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// StatusPatcher writes a Release's status when, and only when, it differs from what was last
// written (or read), so that a reconcile that changes nothing writes nothing.
type StatusPatcher struct {
	client client.Client
	base   *capstanv1.Release
}

// NewStatusPatcher returns a patcher whose baseline is rel as read from the API server.
func NewStatusPatcher(c client.Client, rel *capstanv1.Release) *StatusPatcher {
	return &StatusPatcher{client: c, base: rel.DeepCopy()}
}

// Patch sends a merge patch of rel's status against the baseline if the status changed, then
// makes rel the new baseline. A Release that is gone is not an error.
func (p *StatusPatcher) Patch(ctx context.Context, rel *capstanv1.Release) error {
	if equality.Semantic.DeepEqual(p.base.Status, rel.Status) {
		return nil
	}
	err := p.client.Status().Patch(ctx, rel, client.MergeFrom(p.base))
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("patching the status of release %s/%s: %w", rel.Namespace, rel.Name, err)
	}
	p.base = rel.DeepCopy()
	return nil
}
