package chaos

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/failpoint"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testsupport"
	"github.com/capstan-dev/capstan/internal/version"
)

// namespace holds the suite's ChartRepository and Releases.
const namespace = "chaos"

// chartVersions are the versions of testdata/charts/chaos the chart server serves.
var chartVersions = []string{"1.0.0", "1.1.0"}

// harness is the suite's cluster, chart server and manager binary.
type harness struct {
	t       *testing.T
	dir     string
	bin     string
	cluster *testenv.Cluster
	c       client.Client
	charts  *httptest.Server
	runs    int
}

// newHarness builds the binaries, starts the cluster and the chart server, installs the CRDs and
// creates the ChartRepository.
func newHarness(t *testing.T) *harness {
	t.Helper()
	ctrl.SetLogger(logr.Discard())
	h := &harness{t: t, dir: t.TempDir()}
	if d := os.Getenv("CAPSTAN_CHAOS_DIR"); d != "" { // keep the manager logs for a post-mortem
		h.dir = d
	}
	built := make(chan error, 1)
	go func() { built <- h.build() }()
	// A short request timeout lets the etcd pause outlast it within a short-mode cycle.
	t.Setenv("CAPSTAN_APISERVER_REQUEST_TIMEOUT", apiserverRequestTimeout.String())
	var err error
	h.cluster, err = testenv.StartCluster()
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	t.Cleanup(h.cluster.Stop)
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	must(t, clientgoscheme.AddToScheme(scheme))
	must(t, capstanv1.AddToScheme(scheme))
	h.c, err = client.New(h.cluster.Config, client.Options{Scheme: scheme})
	must(t, err)
	_, err = envtest.InstallCRDs(h.cluster.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")}, ErrorIfPathMissing: true,
	})
	must(t, err)
	h.serveCharts()
	ctx := context.Background()
	must(t, h.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}))
	must(t, h.c.Create(ctx, testsupport.MakeChartRepository("charts", namespace, h.charts.URL).Obj()))
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// build compiles the manager with the failpoints tag, and the default build to prove it has none.
func (h *harness) build() error {
	h.bin = filepath.Join(h.dir, "manager-failpoints")
	plain := filepath.Join(h.dir, "manager")
	for out, tags := range map[string]string{h.bin: "failpoints," + version.BuildTags, plain: version.BuildTags} {
		args := []string{"build", "-trimpath", "-o", out, "-tags", tags}
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Dir = testenv.RepoRoot()
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build -tags %q: %w\n%s", tags, err, b)
		}
	}
	marker := []byte("capstan failpoint ")
	for out, want := range map[string]bool{h.bin: true, plain: false} {
		data, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		if bytes.Contains(data, marker) != want {
			return fmt.Errorf("%s: failpoint code present = %v, want %v", filepath.Base(out), !want, want)
		}
	}
	return nil
}

// serveCharts packages testdata/charts/chaos at every version, indexes and serves them.
func (h *harness) serveCharts() {
	dir := filepath.Join(h.dir, "charts")
	must(h.t, os.MkdirAll(dir, 0o755))
	for _, v := range chartVersions {
		_, err := chart.Package(filepath.Join("testdata", "charts", "chaos"), dir, chart.PackageOptions{Version: v, AppVersion: v})
		must(h.t, err)
	}
	index, err := repo.IndexDirectory(dir, "", "")
	must(h.t, err)
	must(h.t, os.WriteFile(filepath.Join(dir, "index.yaml"), index, 0o600))
	h.charts = httptest.NewServer(http.FileServer(http.Dir(dir)))
	h.t.Cleanup(h.charts.Close)
}

// start runs the manager with the given failpoints armed ("" for none).
func (h *harness) start(failpoints string) *process {
	return h.startWith(h.cluster.Kubeconfig, failpoints)
}

// startWith runs the manager against the API server of the given kubeconfig.
func (h *harness) startWith(kubeconfig, failpoints string) *process {
	h.runs++
	logPath := filepath.Join(h.dir, fmt.Sprintf("manager-%04d.log", h.runs))
	p, err := startProcess(logPath, []string{"KUBECONFIG=" + kubeconfig, failpoint.EnvVar + "=" + failpoints}, h.bin,
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--log-format=console",
		"--graceful-shutdown-timeout=15s", "--release-concurrency=2")
	must(h.t, err)
	return p
}

// release reads a Release, or nil when it does not exist.
func (h *harness) release(ctx context.Context, name string) (*capstanv1.Release, error) {
	rel := &capstanv1.Release{}
	err := h.c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, rel)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return rel, err
}

// update changes a Release, retrying on conflicts.
func (h *harness) update(ctx context.Context, name string, change func(*capstanv1.Release)) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		rel, err := h.release(ctx, name)
		if err == nil && rel != nil {
			change(rel)
			if err = h.c.Update(ctx, rel); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("updating Release %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logTails returns the last lines of the logs of the last n manager runs, for a failure.
func (h *harness) logTails(n int) string {
	var b strings.Builder
	for i := max(h.runs-n+1, 1); i <= h.runs; i++ {
		p := &process{logPath: filepath.Join(h.dir, fmt.Sprintf("manager-%04d.log", i))}
		fmt.Fprintf(&b, "\n----- manager run %d -----\n%s\n", i, p.tail(40))
	}
	return b.String()
}
