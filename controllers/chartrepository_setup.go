package controllers

import (
	"errors"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/reconcile"
)

// ChartRepositoryDeps are the ChartRepository controller's collaborators.
type ChartRepositoryDeps struct {
	// Sources gives the repository clients and caches, shared with the Release controller
	// (required).
	Sources *reconcile.ChartSources
	// Reader reads the Secrets repositories name; nil reads each as the default service account
	// of the repository's namespace (the manager itself when no default is configured).
	Reader client.Reader
	// SecretRequeue is the wait while a named Secret does not exist; the default when zero.
	SecretRequeue time.Duration
}

// ErrNoChartSources is returned by SetupChartRepository without ChartSources.
var ErrNoChartSources = errors.New("the ChartRepository controller needs chart sources")

// NewChartSources builds the one ChartSources a manager shares between the ChartRepository
// and Release controllers, with the manager's size limits and cache budgets.
func NewChartSources(opts options.Options) *reconcile.ChartSources {
	return reconcile.NewChartSources(reconcile.ChartSourcesOptions{
		MaxIndexSize: opts.Limits.MaxIndexSize,
		MaxChartSize: opts.Limits.MaxChartSize,
		// The caches are shared by every repository and Release of the manager.
		IndexCacheSize:   opts.Limits.IndexCacheSize,
		ArchiveCacheSize: opts.Limits.ArchiveCacheSize,
		// Link-local and metadata addresses are refused whatever these say.
		DenyPrivateNetworks: opts.DenyPrivateNetworks,
		AllowNetworks:       opts.AllowNetworks,
	})
}

// SetupChartRepository registers the ChartRepository controller with the manager.
// controllers.Setup calls it.
func SetupChartRepository(mgr ctrl.Manager, opts options.Options, deps ChartRepositoryDeps) error {
	if deps.Sources == nil {
		return ErrNoChartSources
	}
	reader := deps.Reader
	if reader == nil {
		reader = NewReleaseClients(mgr, opts).NamespaceReader()
	}
	m, err := reconcile.NewRepositoryMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("registering repository metrics: %w", err)
	}
	engine := &reconcile.RepositoryReconciler{
		Sources: deps.Sources, Reader: reader, Events: mgr.GetEventRecorder("capstan"),
		SecretRequeue: deps.SecretRequeue, Metrics: m,
	}
	r := &ChartRepositoryReconciler{Client: mgr.GetClient(), Engine: engine, Concurrency: opts.RepositoryConcurrency}
	return r.SetupWithManager(mgr)
}
