package sharding_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    *runtime.Scheme
	chartURL  string
)

func TestSharding(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	suiteConfig, reporterConfig := testsupport.SuiteConfig(t)
	RunSpecs(t, "Sharding", suiteConfig, reporterConfig)
}

var _ = BeforeSuite(func() {
	if os.Getenv("CAPSTAN_TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
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
	chartURL = serveChart()
})

// serveChart packages a one-ConfigMap chart and serves it with its index from a local HTTP
// repository; it returns the repository's URL.
func serveChart() string {
	src, out := GinkgoT().TempDir(), GinkgoT().TempDir()
	files := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: note\nversion: 1.0.0\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n" +
			"data:\n  shard: {{ .Values.shard | default \"none\" | quote }}\n",
	}
	for name, text := range files {
		p := filepath.Join(src, name)
		Expect(os.MkdirAll(filepath.Dir(p), 0o755)).To(Succeed())
		Expect(os.WriteFile(p, []byte(text), 0o600)).To(Succeed())
	}
	_, err := chart.Package(src, out, chart.PackageOptions{})
	Expect(err).NotTo(HaveOccurred())
	index, err := repo.IndexDirectory(out, "", "")
	Expect(err).NotTo(HaveOccurred())
	archive, err := os.ReadFile(filepath.Join(out, "note-1.0.0.tgz"))
	Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/index.yaml":
			_, _ = w.Write(index)
		case "/note-1.0.0.tgz":
			_, _ = w.Write(archive)
		default:
			http.NotFound(w, r)
		}
	}))
	DeferCleanup(srv.Close)
	return srv.URL
}

// shard is one manager of the test, started the way main.go starts the binary, with a client
// that records which Releases and ChartRepositories it wrote.
type shard struct {
	name    string
	opts    options.Options
	written *writeLog
}

// startShard runs a manager with --watch-label-selector=selector and leader election on, until
// the spec ends.
func startShard(selector string) *shard {
	opts := options.Defaults()
	opts.WatchLabelSelector = selector
	opts.LeaderElection = true
	opts.LeaderElectionNamespace = "default"
	Expect(opts.Validate()).To(Succeed())
	cacheOpts, err := controllers.CacheOptions(opts)
	Expect(err).NotTo(HaveOccurred())
	s := &shard{name: selector, opts: opts, written: &writeLog{objects: map[string]bool{}}}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOpts,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                true,
		LeaderElectionID:              opts.ShardLeaderElectionID(),
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		// Two managers in one process register controllers of the same names.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		NewClient: func(c *rest.Config, o client.Options) (client.Client, error) {
			inner, err := client.New(c, o)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(noWatch{inner}, s.written.funcs()), nil
		},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controllers.Setup(mgr, opts)).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	DeferCleanup(func() { cancel(); <-done })
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	return s
}

// writeLog records the Releases and ChartRepositories a manager's client wrote ("Kind ns/name").
type writeLog struct {
	mu      sync.Mutex
	objects map[string]bool
}

func (l *writeLog) record(obj client.Object) {
	var kind string
	switch obj.(type) {
	case *capstanv1.Release:
		kind = "Release"
	case *capstanv1.ChartRepository:
		kind = "ChartRepository"
	default:
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.objects[kind+" "+obj.GetNamespace()+"/"+obj.GetName()] = true
}

// Objects returns what was written, sorted.
func (l *writeLog) Objects() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.objects))
	for k := range l.objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (l *writeLog) funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			l.record(obj)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			l.record(obj)
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			l.record(obj)
			return c.Patch(ctx, obj, patch, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			l.record(obj)
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			l.record(obj)
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}
}

// noWatch lets the manager's client, which cannot watch, go through the interceptor.
type noWatch struct{ client.Client }

func (noWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("the manager's client does not watch")
}
