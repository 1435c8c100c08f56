package testenv

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Cluster is a whole local control plane — etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok with simulated nodes — started by hack/local-cluster.sh in a private
// directory and port range, for tests whose workloads must really become ready.
type Cluster struct {
	// Dir holds the cluster's state, certificates and logs.
	Dir string
	// Kubeconfig is the path of an admin kubeconfig.
	Kubeconfig string
	// Config is the admin REST config.
	Config *rest.Config
	env    []string
}

// StartCluster starts a private local cluster, trying another port block when one is taken. The
// caller stops it with Stop.
func StartCluster() (*Cluster, error) {
	var err error
	for range 3 {
		var c *Cluster
		if c, err = startCluster(); err == nil {
			return c, nil
		}
	}
	return nil, err
}

func startCluster() (*Cluster, error) {
	dir, err := os.MkdirTemp("", "capstan-cluster-")
	if err != nil {
		return nil, err
	}
	// A random port block keeps parallel test binaries apart; it stays below the kernel's
	// ephemeral range (32768 and up) so outgoing connections never hold one of its ports.
	base := 20000 + 10*rand.IntN(1270) //nolint:gosec // G404: spreading test ports needs no cryptographic randomness.
	c := &Cluster{Dir: dir, env: append(os.Environ(),
		"CAPSTAN_CLUSTER_DIR="+dir, fmt.Sprintf("CAPSTAN_CLUSTER_PORT_BASE=%d", base))}
	out, err := c.script("up")
	if err != nil {
		_, _ = c.script("down")
		logs := readLogs(dir)
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting the local cluster: %w%s", err, logs)
	}
	c.Kubeconfig = strings.TrimSpace(lastLine(out))
	c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Stop stops every process of the cluster and removes its directory.
func (c *Cluster) Stop() {
	_, _ = c.script("down")
	_ = os.RemoveAll(c.Dir)
}

func (c *Cluster) script(verb string) (string, error) {
	//nolint:gosec // G204: the script path is fixed inside this repository.
	cmd := exec.Command(filepath.Join(RepoRoot(), "hack", "local-cluster.sh"), verb)
	cmd.Env = c.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/local-cluster.sh %s: %w: %s", verb, err, stderr.String())
	}
	return string(out), nil
}

// readLogs returns the tail of each component's log, for an error message.
func readLogs(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		tail := string(data)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		fmt.Fprintf(&b, "\n--- %s ---\n%s", filepath.Base(f), tail)
	}
	return b.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// Shared is one Cluster for a whole test package, started on first use so that tests which need
// no cluster (and fuzz seeds) run without it. Stop it from TestMain after m.Run.
type Shared struct {
	once    sync.Once
	cluster *Cluster
	client  client.WithWatch
	err     error
}

// Client returns an admin client of the shared cluster, starting the cluster the first time.
func (s *Shared) Client(t testing.TB) client.WithWatch {
	t.Helper()
	s.once.Do(func() {
		if s.cluster, s.err = StartCluster(); s.err == nil {
			s.client, s.err = client.NewWithWatch(s.cluster.Config, client.Options{})
		}
	})
	if s.err != nil {
		t.Fatalf("the local control plane (hack/local-cluster.sh) did not start: %v", s.err)
	}
	return s.client
}

// Config returns a copy of the shared cluster's admin REST config, starting it if needed.
func (s *Shared) Config(t testing.TB) *rest.Config {
	s.Client(t)
	return rest.CopyConfig(s.cluster.Config)
}

// Stop stops the cluster if it was started.
func (s *Shared) Stop() {
	if s.cluster != nil {
		s.cluster.Stop()
	}
}

// RestartAPIServer kills the cluster's kube-apiserver (SIGKILL: its graceful shutdown takes
// longer than a test wants to wait) and starts it again, etcd keeping the state, for tests of
// clients that must live through an API server restart. It returns once the API server is ready.
func (c *Cluster) RestartAPIServer() error {
	data, err := os.ReadFile(filepath.Join(c.Dir, "run", "kube-apiserver.pid"))
	if err != nil {
		return fmt.Errorf("reading the kube-apiserver pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return fmt.Errorf("reading the kube-apiserver pid: %w", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	for i := 0; i < 300 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	_, err = c.script("up") // Starts what is not running, and waits until the API server is ready.
	return err
}
