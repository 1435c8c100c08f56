package controllers

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/reconcile"
)

// Setup registers every reconciler with the manager. The ChartRepository and Release controllers
// share one set of chart sources, so an index or archive fetched for one is reused by the other,
// and one set of impersonating clients: a Release acts as its service account (or the
// --default-service-account), a ChartRepository reads its Secrets as its namespace's default
// service account, and only without a default does either act as the manager (single-tenant).
func Setup(mgr ctrl.Manager, opts options.Options) error {
	sources := NewChartSources(opts)
	clients := NewReleaseClients(mgr, opts)
	err := SetupChartRepository(mgr, opts, ChartRepositoryDeps{Sources: sources, Reader: clients.NamespaceReader()})
	if err != nil {
		return err
	}
	return SetupRelease(mgr, opts, ReleaseDeps{
		Source:        reconcile.NewReleaseChartSource(sources, clients.NamespaceReader()),
		NewWaiter:     NewHealthWaiter,
		NewHookRunner: NewHookRunner,
		Clients:       clients,
	})
}

// NewReleaseClients returns the impersonating clients built from the manager's configuration.
func NewReleaseClients(mgr ctrl.Manager, opts options.Options) *reconcile.ImpersonatingClients {
	return &reconcile.ImpersonatingClients{Config: mgr.GetConfig(), Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader(), DefaultServiceAccount: opts.DefaultServiceAccount}
}
