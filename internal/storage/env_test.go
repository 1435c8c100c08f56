package storage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The envtest control plane starts on the first test that needs it and is shared by all of them;
// each test works in its own namespace. Unit tests never start it.
var (
	envOnce sync.Once
	env     *envtest.Environment
	envCfg  *rest.Config
	envErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}
	os.Exit(code)
}

// assetsDir returns KUBEBUILDER_ASSETS, or the directory hack/controlplane.sh builds into.
func assetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		out, err := exec.Command("../../hack/controlplane.sh", "assets").Output()
		if err != nil {
			return "", fmt.Errorf("hack/controlplane.sh assets: %w", err)
		}
		dir = strings.TrimSpace(string(out))
	}
	for _, bin := range []string{"etcd", "kube-apiserver", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("envtest binary %s missing in %s (run hack/controlplane.sh build, or set KUBEBUILDER_ASSETS): %w", bin, dir, err)
		}
	}
	return dir, nil
}

// startEnv returns the shared control plane's config, starting it if needed.
func startEnv(t *testing.T) *rest.Config {
	t.Helper()
	envOnce.Do(func() {
		dir, err := assetsDir()
		if err != nil {
			envErr = err
			return
		}
		env = &envtest.Environment{BinaryAssetsDirectory: dir, ControlPlaneStartTimeout: 2 * time.Minute}
		envCfg, envErr = env.Start()
	})
	if envErr != nil {
		t.Fatalf("cannot start envtest: %v", envErr)
	}
	return envCfg
}

// newClient returns a plain (uncached) client for the shared control plane.
func newClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(startEnv(t), client.Options{})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return c
}

// newNamespace creates a namespace for one test and deletes it when the test ends.
func newNamespace(t *testing.T, c client.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "storage-"}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), ns) })
	return ns.Name
}
