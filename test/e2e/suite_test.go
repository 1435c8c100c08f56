package e2e

import (
	"context"
	"fmt"
	"github.com/capstan-dev/capstan/internal/testsupport"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/version"
)

// The suite's shared state, set up once by BeforeSuite.
var (
	// repoRoot is the repository's top directory.
	repoRoot = testenv.RepoRoot()
	// workDir holds the built binaries, the packaged charts, logs and kubectl's cache.
	workDir string
	// capstanBin is the bin/capstan CLI built for this run.
	capstanBin string
	// cluster is the private local control plane with kwok nodes.
	cluster *testenv.Cluster
	// k8sClient talks to the cluster as an administrator.
	k8sClient client.Client
	// chartRepoURL is where the chart server serves the packaged example charts over HTTP, and
	// ociRepoURL where it serves them as an OCI registry (oci://127.0.0.1:PORT/charts).
	chartRepoURL, ociRepoURL string
	// chartServer and manager are the processes the suite runs.
	chartServer, manager *testsupport.Process
	// managerProbeAddr is where the manager answers /healthz and /readyz.
	managerProbeAddr string
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	suiteConfig, reporterConfig := testsupport.SuiteConfig(t)
	RunSpecs(t, "Capstan end to end", suiteConfig, reporterConfig)
}

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	workDir, err = os.MkdirTemp("", "capstan-e2e-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, workDir)
	_, err = exec.LookPath("kubectl")
	Expect(err).NotTo(HaveOccurred(), "the end-to-end suite drives the cluster with kubectl; put it on PATH")

	By("building bin/manager, bin/capstan and the chart server while the cluster starts")
	binDir := filepath.Join(workDir, "bin")
	built := make(chan error, 1)
	go func() { built <- buildBinaries(ctx, binDir) }()

	By("starting a local cluster with kwok nodes")
	cluster, err = testenv.StartCluster()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cluster.Stop)
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(capstanv1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(cluster.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Eventually(built).WithContext(ctx).Should(Receive(BeNil()))
	capstanBin = filepath.Join(binDir, "capstan")

	By("installing the CRDs")
	installCRDs(ctx)
	By("packaging the example charts with bin/capstan and serving them")
	startChartServer(ctx, binDir)
	By("starting bin/manager against the cluster")
	startManager(ctx, binDir)
}, NodeTimeout(25*time.Minute))

// AfterEach prints the logs of the suite's processes for every failed spec.
var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() {
		return
	}
	for _, p := range []*testsupport.Process{manager, chartServer} {
		if p != nil {
			fmt.Fprintf(GinkgoWriter, "\n----- %s log (last 200 lines of %s) -----\n%s\n", p.Name, p.LogPath, p.LogTail(200))
		}
	}
})

// buildBinaries builds the manager, the CLI and the chart server into dir, as `make build` does.
func buildBinaries(ctx context.Context, dir string) error {
	for name, pkg := range map[string]string{"manager": ".", "capstan": "./cmd/capstan", "chartserver": "./hack/chartserver"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", version.BuildTags, "-o", filepath.Join(dir, name), pkg)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	}
	return nil
}

func installCRDs(ctx context.Context) {
	_, stderr, err := kubectl(ctx, "apply", "--server-side", "--field-manager=capstan-e2e",
		"-f", filepath.Join(repoRoot, "config", "crd", "bases"))
	Expect(err).NotTo(HaveOccurred(), stderr)
	_, stderr, err = kubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/releases.capstan.dev", "crd/chartrepositories.capstan.dev")
	Expect(err).NotTo(HaveOccurred(), stderr)
}

// startChartServer packages every chart of config/samples/charts with bin/capstan, indexes them,
// and serves them on a free loopback port.
func startChartServer(ctx context.Context, binDir string) {
	charts := filepath.Join(workDir, "charts")
	Expect(os.MkdirAll(charts, 0o755)).To(Succeed())
	dirs, err := filepath.Glob(filepath.Join(repoRoot, "config", "samples", "charts", "*", "Chart.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(dirs).NotTo(BeEmpty())
	for _, chartYAML := range dirs {
		out, err := exec.CommandContext(ctx, capstanBin, "package", "--destination", charts, filepath.Dir(chartYAML)).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "capstan package %s: %s", filepath.Dir(chartYAML), out)
	}
	out, err := exec.CommandContext(ctx, capstanBin, "repo", "index", charts).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "capstan repo index: %s", out)

	chartServer, err = testsupport.StartProcess("chartserver", filepath.Join(workDir, "chartserver.log"), os.Environ(),
		filepath.Join(binDir, "chartserver"), "--dir", charts, "--addr", "127.0.0.1:0", "--oci-addr", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(chartServer.Stop(10 * time.Second)).To(Succeed()) })
	chartRepoURL = announcedURL(" at http://")
	ociRepoURL = announcedURL(" at oci://")
}

// announcedURL returns the URL the chart server announced on the line containing marker.
func announcedURL(marker string) string {
	line, err := chartServer.WaitForLogLine(marker, 30*time.Second)
	Expect(err).NotTo(HaveOccurred(), chartServer.LogTail(50))
	_, url, _ := strings.Cut(line, " at ")
	Expect(url).To(ContainSubstring("://127.0.0.1:"))
	return url
}

// startManager runs bin/manager as its own process against the cluster and waits until it is
// ready.
func startManager(ctx context.Context, binDir string) {
	managerProbeAddr = freeLoopbackAddr()
	var err error
	manager, err = testsupport.StartProcess("manager", filepath.Join(workDir, "manager.log"),
		append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig), filepath.Join(binDir, "manager"),
		"--metrics-bind-address=0", "--health-probe-bind-address="+managerProbeAddr, "--log-format=console")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(manager.Stop(40*time.Second)).To(Succeed(), manager.LogTail(50)) })
	Eventually(func(g Gomega) {
		g.Expect(manager.Running()).To(BeTrue(), "the manager exited:\n%s", manager.LogTail(50))
		g.Expect(httpStatus(ctx, "http://"+managerProbeAddr+"/readyz")).To(Equal(http.StatusOK))
	}).WithContext(ctx).WithTimeout(60*time.Second).WithPolling(250*time.Millisecond).Should(Succeed(),
		"bin/manager did not become ready:\n%s", manager.LogTail(50))
}

// freeLoopbackAddr returns a loopback address with a port that was free a moment ago.
func freeLoopbackAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	return addr
}

// httpStatus GETs url and returns the response's status code.
func httpStatus(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
