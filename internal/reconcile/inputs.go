package reconcile

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/postrender"
	"github.com/capstan-dev/capstan/internal/repo"
)

// maxDependencyWalk bounds the Releases visited when looking for a dependency cycle.
const maxDependencyWalk = 256

// dependencyCycle reports whether following spec.dependsOn from start leads back to this Release.
func (s *session) dependencyCycle(ctx context.Context, start types.NamespacedName) (bool, error) {
	self := types.NamespacedName{Namespace: s.rel.Namespace, Name: s.rel.Name}
	seen := map[types.NamespacedName]bool{}
	queue := []types.NamespacedName{start}
	for len(queue) > 0 && len(seen) < maxDependencyWalk {
		key := queue[0]
		queue = queue[1:]
		if key == self {
			return true, nil
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		dep := &capstanv1.Release{}
		if err := s.r.Client.Get(ctx, key, dep); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return false, transientErr(capstanv1.DependencyNotReadyReason, fmt.Errorf("reading dependency %s: %w", key, err))
		}
		queue = append(queue, dep.GetDependencyKeys()...)
	}
	return false, nil
}

// resolveChart reads the ChartRepository and resolves the chart version the spec asks for.
func (s *session) resolveChart(ctx context.Context) error {
	key := s.rel.GetRepositoryKey()
	cr := &capstanv1.ChartRepository{}
	if err := s.r.Client.Get(ctx, key, cr); err != nil {
		if apierrors.IsNotFound(err) {
			return waitErr(capstanv1.DependencyNotReadyReason, s.r.dependencyRequeue(),
				fmt.Errorf("ChartRepository %s does not exist", key))
		}
		return transientErr(capstanv1.DependencyNotReadyReason, fmt.Errorf("reading ChartRepository %s: %w", key, err))
	}
	if !isReady(cr.Status.Conditions, cr.Generation, cr.Status.ObservedGeneration) {
		return waitErr(capstanv1.DependencyNotReadyReason, s.r.dependencyRequeue(),
			fmt.Errorf("ChartRepository %s is not ready", key))
	}
	s.repo = cr
	name := s.rel.Spec.Chart.Name
	version, digest, err := s.source().Resolve(ctx, cr, name, s.rel.GetChartVersion())
	if err != nil {
		return s.sourceError(err)
	}
	s.desired = Desired{Generation: s.rel.Generation, ChartName: name, ChartVersion: version,
		ChartDigest:      digestLabelValue(digest),
		PostRenderDigest: digestLabelValue(postrender.Digest(s.rel.Spec.PostRenderers, s.rel.Spec.CommonMetadata))}
	return nil
}

// source is the chart source, reading the repository's Secrets through the Release's client
// when it can.
func (s *session) source() ChartSource {
	if b, ok := s.r.Source.(IdentityChartSource); ok && s.c != nil {
		return b.WithReader(s.c)
	}
	return s.r.Source
}

// sourceError classifies a chart source error: a missing chart or version waits for the
// repository to change, a bad constraint stalls, anything else is retried.
func (s *session) sourceError(err error) error {
	switch {
	case errors.Is(err, repo.ErrChartNotFound):
		return waitErr(capstanv1.ChartNotFoundReason, s.r.dependencyRequeue(), err)
	case errors.Is(err, repo.ErrVersionNotFound):
		return waitErr(capstanv1.ChartVersionNotFoundReason, s.r.dependencyRequeue(), err)
	case errors.Is(err, repo.ErrAddressNotAllowed):
		return stallErr(capstanv1.AddressNotAllowedReason, err)
	case errors.Is(err, repo.ErrInvalidConstraint):
		return stallErr(capstanv1.ChartVersionNotFoundReason, err)
	case apierrors.IsForbidden(err):
		return stallErr(capstanv1.AccessDeniedReason, err)
	case errors.Is(err, repo.ErrDigestMismatch), errors.Is(err, repo.ErrTooLarge):
		return stallErr(capstanv1.ChartPullFailedReason, err)
	default:
		return transientErr(capstanv1.ChartPullFailedReason, err)
	}
}

// loadChart fetches the desired chart archive and loads it with the configured limits. Each
// call returns a fresh chart, since rendering modifies it.
func (s *session) loadChart(ctx context.Context) (*chart.Chart, error) {
	data, err := s.fetchChart(ctx)
	if err != nil {
		return nil, err
	}
	c, err := chart.LoadBytes(data, s.r.Options.ChartLimits)
	if err != nil {
		return nil, stallErr(capstanv1.ChartLoadFailedReason,
			fmt.Errorf("chart %s %s cannot be loaded: %w", s.desired.ChartName, s.desired.ChartVersion, err))
	}
	return c, nil
}
