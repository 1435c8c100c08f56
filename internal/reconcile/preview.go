package reconcile

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// Preview is what the next reconcile of a Release would deploy, compared with the cluster.
// It holds references and JSON pointers only, never an object's content.
type Preview struct {
	// Action is what the next reconcile would decide to do.
	Action Action
	// ReleaseName and Namespace name the Helm release and the namespace of its objects.
	ReleaseName, Namespace string
	// Revision is the number the next revision would get.
	Revision int
	// ChartName and ChartVersion are the chart the spec resolves to now.
	ChartName, ChartVersion string
	// Changes are the rendered objects that do not exist (ChangeMissing: would be created) or
	// whose server-side dry-run differs from the live object (ChangeDrifted, with the pointers
	// of the fields that would change), in install order.
	Changes []apply.Change
	// Stale are the objects the release has now and the next revision would not: they would be
	// deleted, in uninstall order.
	Stale []apply.ObjectRef
}

// Preview composes rel's values and renders it as the next reconcile would (the same chart
// source, capabilities, values composition, lookup and revision number), then compares every
// rendered object with the cluster through a server-side dry-run apply and lists the objects
// the release would stop having. Nothing is written: no record, no status, no namespace, no
// object. The reads go through r.Clients, so a client with the user's identity gives a preview
// within the user's rights. Errors are classified as the reconcile's are. Values read from
// Secrets are registered with the Redactor ctx carries (a new one if none) and scrubbed from the
// error's text and the decision's message.
func (r *Reconciler) Preview(ctx context.Context, rel *capstanv1.Release) (*Preview, error) {
	ctx, red := startRedaction(ctx)
	p, err := r.preview(ctx, rel)
	if err != nil {
		return nil, red.Error(err)
	}
	p.Action.Message = red.Redact(p.Action.Message)
	return p, nil
}

func (r *Reconciler) preview(ctx context.Context, rel *capstanv1.Release) (*Preview, error) {
	s := r.newSession(rel.DeepCopy(), nil)
	steps := []func(context.Context) error{s.checkReferences, s.connect, s.connectTarget, s.listRecords, s.checkNameOwner, s.resolveChart, s.composeValues}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	p := &Preview{Action: Decide(s.facts()), ReleaseName: s.rel.GetReleaseName(), Namespace: s.rel.GetTargetNamespace(),
		Revision: s.revisionNumber(), ChartName: s.desired.ChartName, ChartVersion: s.desired.ChartVersion}
	_, objs, err := s.renderRevision(ctx, deployedRecord(s.records) != nil, p.Revision)
	if err != nil {
		return nil, err
	}
	applier := s.newPlan(deployedRecord(s.records) != nil).applier
	if err := applier.Prepare(objs); err != nil {
		return nil, s.applyError(err, capstanv1.DryRunFailedReason)
	}
	if err := s.checkOwnership(ctx, applier, objs); err != nil {
		return nil, err
	}
	if p.Changes, err = previewChanges(ctx, applier, objs); err != nil {
		return nil, err
	}
	previous, err := s.previousRefs(ctx)
	if err != nil {
		return nil, err
	}
	p.Stale = sortForDeletion(apply.Stale(previous, refsOf(objs)))
	return p, nil
}

// previewChanges diffs each object with the cluster. A rejected dry-run of a Secret is reported
// without the API server's message, which may quote the Secret's data.
func previewChanges(ctx context.Context, a *apply.Applier, objs []*unstructured.Unstructured) ([]apply.Change, error) {
	var out []apply.Change
	for _, obj := range objs {
		changes, err := a.Diff(ctx, []*unstructured.Unstructured{obj}, nil)
		if err != nil {
			return nil, previewError(apply.RefOf(obj), err)
		}
		out = append(out, changes...)
	}
	return out, nil
}

// previewError classifies a failed comparison: a denial stalls (the user lacks rights), a
// Secret's rejection is reduced to its name, anything else is reported as the dry-run's failure.
func previewError(ref apply.ObjectRef, err error) error {
	if apierrors.IsForbidden(err) {
		return stallErr(capstanv1.AccessDeniedReason, err)
	}
	if ref.Kind == "Secret" && ref.Group == "" {
		return stallf(capstanv1.DryRunFailedReason, "the server-side dry-run of %s was rejected (details withheld for Secrets)", ref)
	}
	return stallErr(capstanv1.DryRunFailedReason, fmt.Errorf("comparing with the cluster: %w", err))
}
