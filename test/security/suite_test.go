package security

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/capstan-dev/capstan/internal/testsupport"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/version"
)

// The manager's identity in config/default.
const (
	managerNamespace = "capstan-system"
	managerAccount   = "capstan-manager"
)

// The suite's shared state, set up once by BeforeSuite.
var (
	// cluster is the private local control plane (RBAC on) with kwok nodes.
	cluster *testenv.Cluster
	// scheme knows core, Capstan and CRD types.
	scheme *runtime.Scheme
	// admin talks to the cluster as system:masters; it sets the stage and inspects, never attacks.
	admin client.WithWatch
	// managerConfig is the manager's own identity: its service account's token.
	managerConfig *rest.Config
	// manager is bin/manager, running as its service account.
	manager *managerProcess
	// charts serves testdata/charts as a Helm HTTP repository.
	charts *httptest.Server
	// canary is the value of the Secret every attack tries to reach; it must appear nowhere else.
	canary string
	// workDir holds the binaries, the kubeconfig, the charts and the logs.
	workDir string
	// deploymentArgs are the args of config/default's Deployment, for every run of the manager.
	deploymentArgs []string
	// launches counts the runs of the manager; each after the first logs to a file of its own.
	launches int
)

func TestSecurity(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(90 * time.Second)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	SetDefaultConsistentlyDuration(3 * time.Second)
	SetDefaultConsistentlyPollingInterval(500 * time.Millisecond)
	// Every wait below passes the spec's context; without this a context without a deadline
	// would let a wait run until the suite's timeout instead of the default above.
	EnforceDefaultTimeoutsWhenUsingContexts()
	suiteConfig, reporterConfig := testsupport.SuiteConfig(t)
	RunSpecs(t, "Capstan's trust boundary, as tenants on the default install", suiteConfig, reporterConfig)
}

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	workDir, err = os.MkdirTemp("", "capstan-security-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, workDir)
	canary = "capstan-canary-" + randomHex(12)

	By("building bin/manager while the cluster starts")
	built := make(chan error, 1)
	go func() { built <- goBuild(ctx, filepath.Join(workDir, "manager"), ".") }()

	By("starting a local cluster with RBAC on")
	cluster, err = testenv.StartCluster()
	if cluster != nil {
		DeferCleanup(cluster.Stop)
	}
	Expect(err).NotTo(HaveOccurred())
	scheme = runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(capstanv1.AddToScheme(scheme)).To(Succeed())
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	admin, err = client.NewWithWatch(cluster.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("installing config/default: CRDs, RBAC and namespace; the Deployment's args are kept for the process")
	args := installDefault(ctx)

	By("serving the probe charts")
	charts = serveCharts()
	DeferCleanup(charts.Close)

	By("running bin/manager as system:serviceaccount:capstan-system:capstan-manager")
	managerConfig = serviceAccountConfig(ctx, managerNamespace, managerAccount)
	Eventually(built).WithContext(ctx).WithTimeout(10 * time.Minute).Should(Receive(BeNil()))
	startManager(ctx, args)
}, NodeTimeout(20*time.Minute))

// AfterEach prints the manager's log lines about a failed spec's namespaces.
var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() || manager == nil {
		return
	}
	fmt.Fprintf(GinkgoWriter, "\n----- manager log (last 150 lines) -----\n%s\n", manager.LogTail(150))
})

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// goBuild builds pkg of this repository into out, with the build tags given.
func goBuild(ctx context.Context, out, pkg string, tags ...string) error {
	args := []string{"build", "-trimpath", "-o", out, "-tags", strings.Join(append(tags, version.BuildTags), ",")}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = testenv.RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// kubectl runs kubectl as the cluster's administrator with stdin and returns its output.
func kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	bin := "/usr/bin/kubectl"
	if _, err := os.Stat(bin); err != nil {
		bin = "kubectl"
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", cluster.Kubeconfig,
		"--cache-dir", filepath.Join(workDir, "kubectl-cache")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// installDefault applies what `kubectl apply -k config/default` would, except the manager's
// Deployment (the suite runs the binary itself), and returns the Deployment's container args.
func installDefault(ctx context.Context) []string {
	rendered, err := kubectl(ctx, "", "kustomize", filepath.Join(testenv.RepoRoot(), "config", "default"))
	Expect(err).NotTo(HaveOccurred())
	var keep []string
	var args []string
	for _, doc := range strings.Split(rendered, "\n---\n") {
		obj := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal([]byte(doc), &obj.Object)).To(Succeed())
		if obj.GetKind() != "Deployment" {
			keep = append(keep, doc)
			continue
		}
		containers, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		Expect(err).NotTo(HaveOccurred())
		raw, _, err := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
		Expect(err).NotTo(HaveOccurred())
		args = raw
	}
	Expect(args).NotTo(BeEmpty(), "config/default renders the manager's Deployment")
	_, err = kubectl(ctx, strings.Join(keep, "\n---\n"), "apply", "--server-side", "--field-manager=capstan-security", "-f", "-")
	Expect(err).NotTo(HaveOccurred())
	_, err = kubectl(ctx, "", "wait", "--for=condition=Established", "--timeout=60s",
		"crd/releases.capstan.dev", "crd/chartrepositories.capstan.dev")
	Expect(err).NotTo(HaveOccurred())
	return args
}

// serviceAccountConfig returns a REST config that authenticates with a fresh token of the
// service account namespace/name (TokenRequest), as a pod of that account would.
func serviceAccountConfig(ctx context.Context, namespace, name string) *rest.Config {
	cs, err := kubernetes.NewForConfig(cluster.Config)
	Expect(err).NotTo(HaveOccurred())
	expiry := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	cfg := rest.AnonymousClientConfig(cluster.Config)
	cfg.BearerToken = tr.Status.Token
	return cfg
}

// writeKubeconfig writes cfg (server, CA, token) as a kubeconfig file and returns its path.
func writeKubeconfig(cfg *rest.Config, path string) string {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cfg.CAFile,
		CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["manager"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["manager"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "manager", Namespace: managerNamespace}
	kc.CurrentContext = "manager"
	Expect(clientcmd.WriteToFile(*kc, path)).To(Succeed())
	return path
}

// managerArgs are the Deployment's args with the listeners moved to free loopback ports and
// the leader-election namespace named (a pod would take it from its service account). The
// probe charts are served on loopback, which config/default's --deny-private-networks refuses:
// the chart server's one address is allowed, as an operator allows an in-cluster chart server.
func managerArgs(deployment []string, probeAddr string) []string {
	var out []string
	for _, a := range deployment {
		if strings.HasPrefix(a, "--health-probe-bind-address") || strings.HasPrefix(a, "--metrics-bind-address") {
			continue
		}
		out = append(out, a)
	}
	return append(out, "--metrics-bind-address=0", "--health-probe-bind-address="+probeAddr,
		"--leader-election-namespace="+managerNamespace, "--allow-networks="+chartServerIP+"/32")
}

// chartServerIP is the address httptest serves the probe charts on.
const chartServerIP = "127.0.0.1"

// startManager runs bin/manager with the token kubeconfig and waits until it is ready; the suite
// stops whichever manager runs at its end.
func startManager(ctx context.Context, args []string) {
	deploymentArgs = args
	manager = launchManager(filepath.Join(workDir, "manager"), nil)
	DeferCleanup(func() { Expect(manager.Stop(40*time.Second)).To(Succeed(), manager.LogTail(50)) })
	expectReady(ctx, manager)
}

// launchManager runs bin as the manager's service account with the Deployment's args and
// extra environment, logging to a file of its own, without waiting for it to become ready.
func launchManager(bin string, extraEnv []string) *managerProcess {
	kubeconfig := writeKubeconfig(managerConfig, filepath.Join(workDir, "manager.kubeconfig"))
	probe := freeLoopbackAddr()
	env := []string{"KUBECONFIG=" + kubeconfig, "HOME=" + workDir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, extraEnv...)
	launches++
	logPath := filepath.Join(workDir, "manager.log")
	if launches > 1 {
		logPath = filepath.Join(workDir, fmt.Sprintf("manager-%d.log", launches))
	}
	p, err := testsupport.StartProcess("manager", logPath, env, bin, managerArgs(deploymentArgs, probe)...)
	Expect(err).NotTo(HaveOccurred())
	return &managerProcess{Process: p, probe: probe}
}

// managerProcess is a running manager and the address of its health probes.
type managerProcess struct {
	*testsupport.Process
	probe string
}

// expectReady waits until the manager p answers its readiness probe.
func expectReady(ctx context.Context, p *managerProcess) {
	Eventually(func(g Gomega) {
		g.Expect(p.Running()).To(BeTrue(), "the manager exited:\n%s", p.LogTail(50))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.probe+"/readyz", nil)
		g.Expect(err).NotTo(HaveOccurred())
		resp, err := http.DefaultClient.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	}).WithContext(ctx).WithTimeout(60*time.Second).Should(Succeed(), "the manager did not become ready")
}

// freeLoopbackAddr returns a loopback address with a port that was free a moment ago.
func freeLoopbackAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	return addr
}

// serveCharts packages every chart of testdata/charts, indexes them and serves the directory.
func serveCharts() *httptest.Server {
	dir := filepath.Join(workDir, "charts")
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	sources, err := filepath.Glob(filepath.Join("testdata", "charts", "*", "Chart.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(sources).NotTo(BeEmpty())
	for _, src := range sources {
		_, err := chart.Package(filepath.Dir(src), dir, chart.PackageOptions{})
		Expect(err).NotTo(HaveOccurred(), "packaging %s", src)
	}
	index, err := repo.IndexDirectory(dir, "", "")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(dir, "index.yaml"), index, 0o600)).To(Succeed())
	return httptest.NewServer(http.FileServer(http.Dir(dir)))
}
