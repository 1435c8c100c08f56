package api_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// repoRoot is the repository's top directory, seen from this package.
var repoRoot = filepath.Join("..", "..")

var (
	testEnv *envtest.Environment
	cfg     *rest.Config
	// k8sClient talks to the envtest apiserver as an administrator.
	k8sClient client.Client
	// kubeconfigPath is a kubeconfig file for the same administrator, for kubectl.
	kubeconfigPath string
	// kubectlPath is the real kubectl binary.
	kubectlPath string
	// kubectlCache is kubectl's discovery cache for this run only.
	kubectlCache string
)

func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	suiteConfig, reporterConfig := testsupport.SuiteConfig(t)
	RunSpecs(t, "capstan.dev/v1alpha1 API contract", suiteConfig, reporterConfig)
}

var _ = BeforeSuite(func() {
	assets, err := assetsDir()
	Expect(err).NotTo(HaveOccurred())
	kubectlPath, err = exec.LookPath("kubectl")
	Expect(err).NotTo(HaveOccurred(), "the kubectl specs need kubectl on PATH")

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(repoRoot, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(testEnv.Stop()).To(Succeed()) })

	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(capstanv1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	writeKubeconfig()
})

// assetsDir returns the directory holding etcd and kube-apiserver: $KUBEBUILDER_ASSETS (the
// Makefile exports it), else what hack/controlplane.sh reports. It fails with the command to
// run when the binaries are not built yet.
func assetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		out, err := exec.Command(filepath.Join(repoRoot, "hack", "controlplane.sh"), "assets").Output()
		if err != nil {
			return "", fmt.Errorf("hack/controlplane.sh assets: %w", err)
		}
		dir = strings.TrimSpace(string(out))
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("%s is missing from %s; build the control plane with `make controlplane`: %w", bin, dir, err)
		}
	}
	return dir, nil
}

// writeKubeconfig provisions an administrator in the envtest apiserver and writes its
// kubeconfig where kubectl can read it.
func writeKubeconfig() {
	user, err := testEnv.AddUser(envtest.User{Name: "capstan-api-test", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	data, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	dir, err := os.MkdirTemp("", "capstan-api-test-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	kubeconfigPath = filepath.Join(dir, "kubeconfig")
	kubectlCache = filepath.Join(dir, "kube-cache")
	Expect(os.WriteFile(kubeconfigPath, data, 0o600)).To(Succeed())
}

// kubectl runs the real kubectl against the envtest apiserver and returns its standard output.
func kubectl(ctx context.Context, args ...string) (string, error) {
	args = append([]string{"--kubeconfig", kubeconfigPath, "--cache-dir", kubectlCache}, args...)
	cmd := exec.CommandContext(ctx, kubectlPath, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args[4:], " "), err, stderr.String())
	}
	return string(out), nil
}

// newNamespace creates a namespace of its own for the current spec and returns its name.
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "api-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, ns))).To(Succeed())
	})
	return ns.Name
}
