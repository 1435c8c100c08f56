package controllers

import (
	"context"
	"errors"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/health"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/values"
)

// Field indexes of Releases, used to map a changed object to the Releases that use it.
const (
	indexRepository = "spec.chart.repositoryRef"
	indexDependsOn  = "spec.dependsOn"
	indexValuesFrom = "spec.valuesFrom"
	indexKubeConfig = "spec.kubeConfig.secretRef"
)

// ReleaseDeps are the Release controller's collaborators that other packages provide.
type ReleaseDeps struct {
	// Source resolves and fetches charts (required).
	Source reconcile.ChartSource
	// NewWaiter builds the health waiter; nil turns waiting off.
	NewWaiter func(c client.WithWatch) reconcile.Waiter
	// NewHookRunner builds the hook runner; nil turns hooks off.
	NewHookRunner func(c client.WithWatch, owner apply.Owner) reconcile.HookRunner
	// Clients overrides the per-Release clients (tests); nil impersonates from the manager's config.
	Clients reconcile.ClientFactory
	// Remote overrides the remote cluster clients (tests); nil builds them from kubeconfig
	// Secrets (reconcile.RemoteClients).
	Remote reconcile.RemoteClusters
}

// ErrNoChartSource is returned by SetupRelease without a chart source.
var ErrNoChartSource = errors.New("the Release controller needs a chart source")

// SetupRelease registers the Release controller with the manager. controllers.Setup calls it.
func SetupRelease(mgr ctrl.Manager, opts options.Options, deps ReleaseDeps) error {
	if deps.Source == nil {
		return ErrNoChartSource
	}
	// Applying a chart's CRDs waits for them through typed reads, so the scheme the Release
	// clients share with the manager must know CustomResourceDefinitions.
	if err := apiextensionsv1.AddToScheme(mgr.GetScheme()); err != nil {
		return fmt.Errorf("registering CRD types: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
	if err != nil {
		return fmt.Errorf("building the discovery client: %w", err)
	}
	caps := &reconcile.DiscoveryCapabilities{Discovery: dc}
	if err := invalidateOnCRDChange(mgr, caps); err != nil {
		return err
	}
	m, err := reconcile.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("registering release metrics: %w", err)
	}
	clients := deps.Clients
	if clients == nil {
		clients = NewReleaseClients(mgr, opts)
	}
	remote := deps.Remote
	if remote == nil {
		cfg := mgr.GetConfig()
		remote = &reconcile.RemoteClients{Scheme: mgr.GetScheme(), QPS: cfg.QPS, Burst: cfg.Burst, UserAgent: cfg.UserAgent}
	}
	budget := opts.RenderBudget(options.DetectMemoryLimit())
	mgr.GetLogger().WithName("setup").Info("render memory budget", "memoryLimit", budget.MemoryLimit,
		"source", budget.LimitSource, "releaseConcurrency", opts.ReleaseConcurrency, "perRender", budget.PerRender,
		"maxLiveBytes", budget.MaxLiveBytes, "maxOutputBytes", budget.MaxOutputBytes)
	templates, schemas := engine.NewTemplateCache(0), values.NewSchemaCache(0)
	engine := &reconcile.Reconciler{
		Client: shardClient(mgr.GetClient(), mgr.GetAPIReader(), opts), Clients: clients, Remote: remote, Source: deps.Source, Capabilities: caps,
		Events: mgr.GetEventRecorder("capstan"), NewWaiter: deps.NewWaiter, NewHookRunner: deps.NewHookRunner,
		Metrics: m,
		Options: reconcile.Options{AllowCrossNamespaceRefs: opts.AllowCrossNamespaceRefs, ChartLimits: chart.Limits{
			MaxArchiveSize: opts.Limits.MaxChartSize, MaxDecompressedSize: opts.Limits.MaxDecompressedSize,
			MaxFileSize: opts.Limits.MaxFileSize,
		}, RenderLimits: renderLimits(budget), Templates: templates, Schemas: schemas,
			ForeignPendingTimeout: opts.ForeignPendingTimeout, MaxWaiting: opts.MaxWaitingReleases},
	}
	r := &ReleaseReconciler{Client: mgr.GetClient(), Engine: engine, Concurrency: opts.ReleaseConcurrency,
		ShutdownGrace: reconcile.ShutdownGrace(opts.GracefulShutdownTimeout), Reader: mgr.GetAPIReader()}
	if err := r.SetupWithManager(mgr); err != nil {
		return err
	}
	watches := health.NewWatches(engine.ObjectChanged, 0)
	engine.Watches = watches
	return mgr.Add(waitRunnable{engine: engine, watches: watches})
}

// waitRunnable runs the health watches that wake waiting Releases while the manager runs (and
// leads), and on shutdown marks the revisions of the Releases still waiting as interrupted, so
// that a manager stopped gracefully leaves no pending record.
type waitRunnable struct {
	engine  *reconcile.Reconciler
	watches *health.Watches
}

func (w waitRunnable) Start(ctx context.Context) error {
	<-ctx.Done()
	w.watches.Stop()
	if n := w.engine.InterruptWaits(ctx); n > 0 {
		ctrl.LoggerFrom(ctx).Info("recorded the revisions of waiting Releases as interrupted", "releases", n)
	}
	return nil
}

// NeedLeaderElection is true: only the leader reconciles, so only it waits.
func (waitRunnable) NeedLeaderElection() bool { return true }

// renderLimits turns the render memory budget into the engine's limits.
func renderLimits(b options.RenderBudget) engine.Limits {
	return engine.Limits{MaxLiveBytes: b.MaxLiveBytes, MaxOutputBytes: b.MaxOutputBytes}
}

// invalidateOnCRDChange drops the cached capabilities whenever a CRD is added, changed or
// removed, through a metadata-only informer.
func invalidateOnCRDChange(mgr ctrl.Manager, caps *reconcile.DiscoveryCapabilities) error {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	inf, err := mgr.GetCache().GetInformer(context.Background(), crd)
	if err != nil {
		return fmt.Errorf("watching CRDs: %w", err)
	}
	invalidate := func(any) { caps.Invalidate() }
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: invalidate, DeleteFunc: invalidate,
		UpdateFunc: func(_, _ any) { caps.Invalidate() },
	})
	if err != nil {
		return fmt.Errorf("watching CRDs: %w", err)
	}
	return nil
}

// addReleaseIndexes registers the field indexes the map functions use.
func addReleaseIndexes(ctx context.Context, idx client.FieldIndexer) error {
	indexes := map[string]func(*capstanv1.Release) []string{
		indexRepository: func(rel *capstanv1.Release) []string { return []string{rel.GetRepositoryKey().String()} },
		indexDependsOn: func(rel *capstanv1.Release) []string {
			out := make([]string, 0, len(rel.Spec.DependsOn))
			for _, k := range rel.GetDependencyKeys() {
				out = append(out, k.String())
			}
			return out
		},
		reconcile.ReleaseNameIndex: func(rel *capstanv1.Release) []string { return []string{rel.GetReleaseName()} },
		indexKubeConfig: func(rel *capstanv1.Release) []string {
			if rel.Spec.KubeConfig == nil {
				return nil
			}
			return []string{rel.Namespace + "/" + capstanv1.ValuesKindSecret + "/" + rel.Spec.KubeConfig.SecretRef.Name}
		},
		indexValuesFrom: func(rel *capstanv1.Release) []string {
			out := make([]string, 0, len(rel.Spec.ValuesFrom))
			for _, v := range rel.Spec.ValuesFrom {
				out = append(out, rel.Namespace+"/"+v.Kind+"/"+v.Name)
			}
			return out
		},
	}
	for name, fn := range indexes {
		err := idx.IndexField(ctx, &capstanv1.Release{}, name, func(o client.Object) []string {
			rel, ok := o.(*capstanv1.Release)
			if !ok {
				return nil
			}
			return fn(rel)
		})
		if err != nil {
			return fmt.Errorf("indexing Releases by %s: %w", name, err)
		}
	}
	return nil
}

// namespacedKey is the index key of a ChartRepository or Release: namespace/name.
func namespacedKey(obj client.Object) string {
	return client.ObjectKeyFromObject(obj).String()
}

// valuesKey is the index key of a ConfigMap or Secret: namespace/kind/name.
func valuesKey(kind string) func(client.Object) string {
	return func(obj client.Object) string {
		return obj.GetNamespace() + "/" + kind + "/" + obj.GetName()
	}
}
