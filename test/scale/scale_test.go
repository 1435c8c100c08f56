// Package scale measures the controllers at many Releases: how long N Releases of one chart take
// to become Ready on a real API server, and what the manager's heap holds once they are. It runs
// under `make bench` (go test -bench); CAPSTAN_SCALE_RELEASES sets N (default 200 here, 1000 under
// make bench, which checks the figures against thresholds.yaml with cmd/benchcheck).
package scale

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testenv"
)

const chartYAML = "apiVersion: v2\nname: tiny\nversion: 1.0.0\n"

const configMapTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  color: {{ .Values.color | quote }}
`

// serveChart packages a one-ConfigMap chart and serves it with an index over loopback HTTP.
func serveChart(b *testing.B) string {
	src, out := b.TempDir(), b.TempDir()
	must(b, os.MkdirAll(filepath.Join(src, "templates"), 0o755))
	must(b, os.WriteFile(filepath.Join(src, "Chart.yaml"), []byte(chartYAML), 0o644))
	must(b, os.WriteFile(filepath.Join(src, "values.yaml"), []byte("color: blue\n"), 0o644))
	must(b, os.WriteFile(filepath.Join(src, "templates", "cm.yaml"), []byte(configMapTemplate), 0o644))
	_, err := chart.Package(src, out, chart.PackageOptions{})
	must(b, err)
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	b.Cleanup(srv.Close)
	index, err := repo.IndexDirectory(out, srv.URL, "")
	must(b, err)
	must(b, os.WriteFile(filepath.Join(out, "index.yaml"), index, 0o644))
	return srv.URL
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

func releaseCount() int {
	if n, err := strconv.Atoi(os.Getenv("CAPSTAN_SCALE_RELEASES")); err == nil && n > 0 {
		return n
	}
	return 200
}

// BenchmarkReleasesToReady installs N Releases in one namespace and reports seconds until all are
// Ready, per-Release seconds, and the manager process's heap once they are.
func BenchmarkReleasesToReady(b *testing.B) {
	ctrl.SetLogger(logr.Discard())
	env, cfg, err := testenv.Start(filepath.Join("config", "crd", "bases"))
	must(b, err)
	defer func() { _ = env.Stop() }()
	scheme := clientgoscheme.Scheme
	must(b, capstanv1.AddToScheme(scheme))
	k, err := client.New(cfg, client.Options{Scheme: scheme})
	must(b, err)

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	must(b, err)
	must(b, controllers.Setup(mgr, options.Defaults()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = mgr.Start(ctx) }()

	url := serveChart(b)
	n := releaseCount()
	for i := 0; i < b.N; i++ {
		ns := fmt.Sprintf("scale-%d", i)
		must(b, k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
		must(b, k.Create(ctx, &capstanv1.ChartRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "charts", Namespace: ns},
			Spec:       capstanv1.ChartRepositorySpec{URL: url},
		}))
		start := time.Now()
		for r := 0; r < n; r++ {
			must(b, k.Create(ctx, &capstanv1.Release{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%04d", r), Namespace: ns},
				Spec: capstanv1.ReleaseSpec{Chart: capstanv1.ChartTemplate{
					RepositoryRef: capstanv1.RepositoryReference{Name: "charts"}, Name: "tiny",
				}},
			}))
		}
		waitAllReady(ctx, b, k, ns, n, 20*time.Minute)
		elapsed := time.Since(start)
		b.ReportMetric(elapsed.Seconds(), "s-to-all-ready")
		b.ReportMetric(elapsed.Seconds()/float64(n), "s/release")
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(n), "releases")
}

func waitAllReady(ctx context.Context, b *testing.B, k client.Client, ns string, n int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var list capstanv1.ReleaseList
		must(b, k.List(ctx, &list, client.InNamespace(ns)))
		ready := 0
		for i := range list.Items {
			if apimeta.IsStatusConditionTrue(list.Items[i].Status.Conditions, "Ready") {
				ready++
			}
		}
		if ready == n {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.Fatalf("not all %d Releases in %s became Ready within %s", n, ns, limit)
}
