package repositories_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// suiteMaxIndexSize is the manager's index size limit in this suite, small enough that an
// oversized index is cheap to serve.
const suiteMaxIndexSize = 64 << 10

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    *runtime.Scheme
	// sources are the chart sources the manager's controller uses, shared with the specs that
	// play the Release side.
	sources *reconcile.ChartSources
)

func TestRepositories(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	suiteConfig, reporterConfig := testsupport.SuiteConfig(t)
	RunSpecs(t, "ChartRepository controller", suiteConfig, reporterConfig)
}

var _ = BeforeSuite(func() {
	if os.Getenv("CAPSTAN_TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
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

	startManager()
})

// startManager runs the ChartRepository controller as the lead's controllers.Setup does, with
// quick retries and a small index limit.
func startManager() {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	Expect(err).NotTo(HaveOccurred())
	sources = reconcile.NewChartSources(reconcile.ChartSourcesOptions{
		MaxIndexSize: suiteMaxIndexSize,
		Retry:        repo.RetryPolicy{MaxAttempts: 2, InitialBackoff: 20 * time.Millisecond},
	})
	err = controllers.SetupChartRepository(mgr, options.Defaults(), controllers.ChartRepositoryDeps{
		Sources: sources, SecretRequeue: 2 * time.Second,
	})
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	DeferCleanup(cancel)
}
