package controllers_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// suiteMaxWaiting is the suite manager's --max-waiting-releases: more than the "Waiting for
// health" specs park at once, except the one that tests the limit.
const suiteMaxWaiting = 8

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    *runtime.Scheme
	// calls counts the API calls of the manager's client and of every Release's client.
	calls = newAPICalls()
	// charts is the local HTTP chart repository.
	charts *chartServer
	// source is the Release controller's chart source; it counts fetches.
	source *repoSource
	// hookCalls records the hook events the controller ran.
	hookCalls = newHookLog()
	// suiteCtx lives as long as the manager.
	suiteCtx context.Context
	// managerLog holds everything the manager logged, at V(1) and above.
	managerLog = &logCapture{}
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(45 * time.Second)
	// An Eventually given the spec's context still ends at the default timeout: the context has no
	// deadline, and without this a Release that never converged hung the suite until go test's
	// own timeout (the CI failure of stop 18).
	EnforceDefaultTimeoutsWhenUsingContexts()
	SetDefaultEventuallyPollingInterval(150 * time.Millisecond)
	suiteConfig, reporterConfig := testsupport.SuiteConfig(t)
	RunSpecs(t, "Release controller", suiteConfig, reporterConfig)
}

var _ = BeforeSuite(func() {
	// The manager's log is captured (the redaction specs search it for secrets) and, with
	// CAPSTAN_TEST_LOG set, also shown.
	if os.Getenv("CAPSTAN_TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, managerLog)), zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(zap.New(zap.WriteTo(managerLog), zap.Level(zapcore.DebugLevel)))
	}
	var err error
	testEnv, cfg, err = testenv.Start(filepath.Join("config", "crd", "bases"))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(testEnv.Stop()).To(Succeed()) })

	scheme = runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(capstanv1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	charts = newChartServer()
	DeferCleanup(charts.Close)
	charts.publish("demo", "1.0.0", "1.1.0", "2.0.0")
	charts.publish("widgets", "1.0.0", "1.1.0")
	charts.publish("vault", "1.0.0")
	charts.publish("gadgets", "1.0.0")
	charts.publish("scaled", "1.0.0", "2.0.0")

	startManager()
})

// startManager runs the manager with the Release controller, its clients wrapped to count calls.
func startManager() {
	cacheOpts, err := controllers.CacheOptions(options.Defaults())
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Cache:   cacheOpts,
		Metrics: metricsserver.Options{BindAddress: "0"},
		NewClient: func(c *rest.Config, o client.Options) (client.Client, error) {
			inner, err := client.New(c, o)
			if err != nil {
				return nil, err
			}
			return newCountingClient(inner, calls)
		},
	})
	Expect(err).NotTo(HaveOccurred())
	clients := &reconcile.ImpersonatingClients{Config: cfg, Scheme: scheme, Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader()}
	opts := options.Defaults()
	opts.RenderMemoryBudget = 64 << 20 // the allocating chart fails at 32 MiB held
	opts.MaxWaitingReleases = suiteMaxWaiting
	source = newRepoSource()
	err = controllers.SetupRelease(mgr, opts, controllers.ReleaseDeps{
		Source:        source,
		NewWaiter:     func(c client.WithWatch) reconcile.Waiter { return nameWaiter{c: c} },
		NewHookRunner: func(_ client.WithWatch, owner apply.Owner) reconcile.HookRunner { return hookCalls.runner(owner) },
		Clients:       &countingClients{inner: clients, calls: calls},
	})
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	suiteCtx = ctx
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	DeferCleanup(cancel)
}

// countingClients wraps every Release's client so its calls are counted and faults injected.
type countingClients struct {
	inner reconcile.ClientFactory
	calls *apiCalls
}

func (f *countingClients) ForRelease(ctx context.Context, rel *capstanv1.Release) (client.WithWatch, error) {
	c, err := f.inner.ForRelease(ctx, rel)
	if err != nil {
		return nil, err
	}
	return interceptor.NewClient(c, f.calls.funcs()), nil
}

// newCountingClient wraps the manager's client.
func newCountingClient(c client.Client, calls *apiCalls) (client.Client, error) {
	return interceptor.NewClient(noWatch{c}, calls.funcs()), nil
}

// noWatch lets the manager's client, which cannot watch, go through the interceptor.
type noWatch struct{ client.Client }

func (noWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("the manager's client does not watch")
}
