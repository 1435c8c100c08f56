package controllers

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/reconcile"
)

// Setup registers every reconciler with the manager. The ChartRepository and Release controllers
// share one set of chart sources, so an index or archive fetched for one is reused by the other.
func Setup(mgr ctrl.Manager, opts options.Options) error {
	sources := NewChartSources(opts)
	if err := SetupChartRepository(mgr, opts, ChartRepositoryDeps{Sources: sources}); err != nil {
		return err
	}
	return SetupRelease(mgr, opts, ReleaseDeps{
		Source:        reconcile.NewReleaseChartSource(sources, mgr.GetAPIReader()),
		NewWaiter:     NewHealthWaiter,
		NewHookRunner: NewHookRunner,
	})
}
