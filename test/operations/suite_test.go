package operations

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// The suite's shared state, set up once by BeforeSuite.
var (
	// cluster is the private local control plane with kwok nodes.
	cluster *testenv.Cluster
	// k8sClient talks to the cluster as an administrator and can watch.
	k8sClient client.WithWatch
	// charts serves the packaged test charts and cert-manager's chart.
	charts *chartServer
	// managerLog is the file the in-process manager logs to.
	managerLog string
)

func TestOperations(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(90 * time.Second)
	// An Eventually given the spec's context ends at the default timeout too (the context has no
	// deadline): a Release that never converges fails its spec instead of holding the suite.
	EnforceDefaultTimeoutsWhenUsingContexts()
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	SetDefaultConsistentlyDuration(6 * time.Second)
	SetDefaultConsistentlyPollingInterval(500 * time.Millisecond)
	suiteConfig, reporterConfig := testsupport.SuiteConfig(t)
	RunSpecs(t, "Capstan operations on a kwok cluster", suiteConfig, reporterConfig)
}

var _ = BeforeSuite(func(ctx SpecContext) {
	workDir, err := os.MkdirTemp("", "capstan-operations-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, workDir)

	By("packaging and serving the charts while the cluster starts")
	packaged := make(chan error, 1)
	go func() {
		var err error
		charts, err = newChartServer(ctx, filepath.Join(workDir, "charts"))
		packaged <- err
	}()

	By("starting a local cluster with kwok nodes")
	cluster, err = testenv.StartCluster()
	if cluster != nil {
		DeferCleanup(cluster.Stop)
	}
	packErr := <-packaged
	if charts != nil {
		DeferCleanup(charts.Close)
	}
	Expect(err).NotTo(HaveOccurred())
	Expect(packErr).NotTo(HaveOccurred())

	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(capstanv1.AddToScheme(scheme)).To(Succeed())
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.NewWithWatch(cluster.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("installing the CRDs of config/crd/bases")
	_, err = envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")}, ErrorIfPathMissing: true,
	})
	Expect(err).NotTo(HaveOccurred())

	By("running the manager in process, as main.go sets it up")
	managerLog = filepath.Join(workDir, "manager.log")
	startManager(scheme)
}, NodeTimeout(10*time.Minute))

// startManager runs a manager with controllers.Setup and the default options, logging to
// managerLog (and to the test output with CAPSTAN_TEST_LOG set).
func startManager(scheme *runtime.Scheme) {
	logFile, err := os.Create(managerLog)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(logFile.Close)
	opts := []zap.Opts{zap.WriteTo(logFile), zap.UseDevMode(true)}
	if os.Getenv("CAPSTAN_TEST_LOG") != "" {
		opts = []zap.Opts{zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)}
	}
	ctrl.SetLogger(zap.New(opts...))

	// main.go reads its configuration with ctrl.GetConfigOrDie, which also turns client-side
	// rate limiting off; so does the manager here, from the cluster's kubeconfig.
	Expect(os.Setenv("KUBECONFIG", cluster.Kubeconfig)).To(Succeed())
	DeferCleanup(os.Unsetenv, "KUBECONFIG")
	cfg, err := ctrl.GetConfig()
	Expect(err).NotTo(HaveOccurred())
	cacheOpts, err := controllers.CacheOptions(options.Defaults())
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cacheOpts,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controllers.Setup(mgr, options.Defaults())).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		defer GinkgoRecover()
		done <- mgr.Start(ctx)
	}()
	DeferCleanup(func() {
		cancel()
		Eventually(done).WithTimeout(40 * time.Second).Should(Receive(BeNil()))
	})
}

// AfterEach prints the manager's log lines about the failed spec's namespace.
var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() || managerLog == "" {
		return
	}
	data, err := os.ReadFile(managerLog)
	if err != nil {
		return
	}
	ns := currentNamespace
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if ns == "" || strings.Contains(l, ns) {
			lines = append(lines, l)
		}
	}
	if len(lines) > 200 {
		lines = lines[len(lines)-200:]
	}
	fmt.Fprintf(GinkgoWriter, "\n----- manager log about %q (last %d lines) -----\n%s\n", ns, len(lines), strings.Join(lines, "\n"))
})

// ReportAfterSuite prints how long each scenario took.
var _ = ReportAfterSuite("scenario durations", func(r Report) {
	fmt.Printf("\nScenario durations (suite total %s):\n", r.RunTime.Round(100*time.Millisecond))
	for _, s := range r.SpecReports {
		text := s.FullText()
		switch {
		case s.LeafNodeType == types.NodeTypeBeforeSuite:
			text = "BeforeSuite: cluster start, charts, CRDs, manager"
		case s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped:
			continue
		}
		fmt.Printf("  %-8s %7s  %s\n", s.State, s.RunTime.Round(100*time.Millisecond), text)
	}
})
