package openset

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testenv/oracle"
	"github.com/capstan-dev/capstan/test/conformance"
)

// openChart is one chart of the open set: where its module ships it, the version it is
// published at, and the values it is installed with.
type openChart struct {
	// name is the chart's name, and the release and namespace names.
	name string
	// version and appVersion, when set, replace the placeholders of a chart taken from a source
	// tree, as the project's release tooling does when it publishes the chart.
	version, appVersion string
	// values are the install values, given to the Release and to helm template alike.
	values map[string]any
}

// The open set. Where each chart comes from (module@version and path) is read from
// test/conformance/corpus.yaml, so the two suites pin the same charts. cert-manager's source tree
// carries the placeholder version v0.0.0; its release tooling stamps the real one on publishing,
// and so do we.
var (
	certManager = openChart{name: "cert-manager", version: "1.21.2", appVersion: "v1.21.2",
		values: map[string]any{"crds": map[string]any{"enabled": true}}}
	metalLB    = openChart{name: "metallb", values: map[string]any{}}
	gatekeeper = openChart{name: "gatekeeper", values: map[string]any{}}
)

// suite is what every scenario shares: one API server, one manager, one chart repository.
type suite struct {
	cfg    *rest.Config
	client client.Client
	calls  *apiCalls
	// archives maps a chart name to its packaged .tgz, which both Capstan and helm use.
	archives map[string]string
	repoURL  string
	helm     string
	// workDir holds helm's values files and homes; its path has no comma, which helm's -f
	// would take as a list separator.
	workDir string
}

// startSuite starts envtest with Capstan's CRDs, packages and serves the open-set charts, and
// runs the manager as controllers.Setup wires it, with its client and every Release's client
// wrapped to count calls.
func startSuite(t *testing.T, charts ...openChart) *suite {
	g := NewWithT(t)
	if os.Getenv("CAPSTAN_TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	helm, err := oracle.Helm()
	g.Expect(err).NotTo(HaveOccurred(), "the reference helm binary is needed as the oracle")
	s := &suite{calls: newAPICalls(), archives: map[string]string{}, helm: helm, workDir: t.TempDir()}

	packaged := make(chan error, 1)
	dir := t.TempDir()
	go func() { packaged <- s.packageCharts(dir, charts) }()

	env, cfg, err := testenv.Start(filepath.Join("config", "crd", "bases"))
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	s.cfg = cfg
	g.Expect(<-packaged).To(Succeed())
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	s.repoURL = srv.URL

	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(capstanv1.AddToScheme(scheme)).To(Succeed())
	g.Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	s.client, err = client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.startManager(t, scheme)).To(Succeed())
	return s
}

// packageCharts packages every chart from the module cache into dir and writes the index.
func (s *suite) packageCharts(dir string, charts []openChart) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	corpus, err := conformance.LoadCorpus(filepath.Join("..", "conformance", conformance.CorpusFile))
	if err != nil {
		return err
	}
	for _, c := range charts {
		src, err := chartDir(ctx, corpus, c.name)
		if err != nil {
			return err
		}
		archive, err := chart.Package(src, dir,
			chart.PackageOptions{Version: c.version, AppVersion: c.appVersion})
		if err != nil {
			return fmt.Errorf("packaging %s: %w", c.name, err)
		}
		s.archives[c.name] = archive
	}
	index, err := repo.IndexDirectory(dir, "", "")
	if err != nil {
		return fmt.Errorf("indexing %s: %w", dir, err)
	}
	return os.WriteFile(filepath.Join(dir, "index.yaml"), index, 0o600)
}

// chartDir finds a chart of the corpus by name and returns its directory in the module cache.
func chartDir(ctx context.Context, corpus *conformance.Corpus, name string) (string, error) {
	for _, c := range corpus.Charts {
		if c.Name == name {
			return c.ChartDir(ctx)
		}
	}
	return "", fmt.Errorf("chart %q is not in the conformance corpus", name)
}

// startManager runs the production wiring of controllers.Setup; only the clients are wrapped.
func (s *suite) startManager(t *testing.T, scheme *runtime.Scheme) error {
	mgr, err := ctrl.NewManager(s.cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		NewClient: func(c *rest.Config, o client.Options) (client.Client, error) {
			inner, err := client.New(c, o)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(noWatch{inner}, s.calls.funcs()), nil
		},
	})
	if err != nil {
		return err
	}
	opts := options.Defaults()
	sources := controllers.NewChartSources(opts)
	if err := controllers.SetupChartRepository(mgr, opts, controllers.ChartRepositoryDeps{Sources: sources}); err != nil {
		return err
	}
	clients := &reconcile.ImpersonatingClients{Config: mgr.GetConfig(), Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader(), DefaultServiceAccount: opts.DefaultServiceAccount}
	err = controllers.SetupRelease(mgr, opts, controllers.ReleaseDeps{
		Source:        reconcile.NewReleaseChartSource(sources, mgr.GetAPIReader()),
		NewWaiter:     controllers.NewHealthWaiter,
		NewHookRunner: controllers.NewHookRunner,
		Clients:       &countingClients{inner: clients, calls: s.calls},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("the manager did not stop within 40s")
		}
	})
	return nil
}
