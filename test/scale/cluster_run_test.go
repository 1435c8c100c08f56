package scale

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testenv"
)

const (
	benchNamespace = "bench"
	floorNamespace = "floor"
	// benchWriters is how many goroutines create or patch the Releases, so that the benchmark's
	// own requests are never what the manager waits for.
	benchWriters = 8
)

// clusterBench is one run at one N: the cluster, its clients and the manager process.
type clusterBench struct {
	t          testing.TB
	s          clusterBenchSettings
	n          int
	cluster    *testenv.Cluster
	cfg        *rest.Config
	k          client.Client
	releases   *tracker
	floor      *tracker
	manager    *exec.Cmd
	managerLog string
	anon       anonPeak
	metricsURL string
	exited     chan struct{}
}

// runClusterBench measures Capstan and the floor at n Releases on a fresh cluster.
func runClusterBench(t testing.TB, s clusterBenchSettings, n int) []benchRow {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := &clusterBench{t: t, s: s, n: n}
	nodes := s.nodesFor(n)
	fmt.Printf("N=%d: starting a local cluster with %d kwok nodes\n", n, nodes)
	t.Setenv("CAPSTAN_CLUSTER_NODES", strconv.Itoa(nodes))
	var err error
	if b.cluster, err = testenv.StartCluster(); err != nil {
		t.Fatal(err)
	}
	defer b.cluster.Stop()
	b.setUp(ctx)
	url := serveBenchChart(t, writeBenchChart(t))
	b.startManager()
	defer b.stopManager()
	b.createRepository(ctx, url)

	// Each row is printed as soon as it is measured, so a long run that is stopped early keeps
	// what it measured.
	install := b.capstanPhase(ctx, "install", b.createReleases)
	install.idleCPU = b.idle(ctx)
	fmt.Println(install)
	if s.installOnly {
		b.stopManager()
		floorInstall, _ := b.floorPhases(ctx, false)
		return []benchRow{install, floorInstall}
	}
	upgrade := b.capstanPhase(ctx, "upgrade", b.upgradeReleases)
	fmt.Println(upgrade)
	b.stopManager()

	floorInstall, floorUpgrade := b.floorPhases(ctx, true)
	return []benchRow{install, upgrade, floorInstall, floorUpgrade}
}

// setUp makes the clients, installs the CRDs and the namespaces, and starts the trackers.
func (b *clusterBench) setUp(ctx context.Context) {
	b.cfg = rest.CopyConfig(b.cluster.Config)
	b.cfg.QPS = -1 // no client-side rate limit, as the manager runs
	scheme := runtime.NewScheme()
	b.must(clientgoscheme.AddToScheme(scheme))
	b.must(capstanv1.AddToScheme(scheme))
	var err error
	b.k, err = client.New(b.cfg, client.Options{Scheme: scheme})
	b.must(err)
	b.kubectl(ctx, "apply", "--server-side", "--field-manager=capstan-bench", "-f",
		filepath.Join(testenv.RepoRoot(), "config", "crd", "bases"))
	b.kubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/releases.capstan.dev", "crd/chartrepositories.capstan.dev")
	for _, ns := range []string{benchNamespace, floorNamespace} {
		b.must(b.k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	c, err := cache.New(b.cfg, cache.Options{Scheme: scheme,
		DefaultNamespaces: map[string]cache.Config{benchNamespace: {}, floorNamespace: {}}})
	b.must(err)
	b.releases, err = startTracker(ctx, c, &capstanv1.Release{}, benchNamespace, releaseReady)
	b.must(err)
	b.floor, err = startTracker(ctx, c, &appsv1.Deployment{}, floorNamespace, deploymentAvailable)
	b.must(err)
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		b.t.Fatal("the benchmark's cache did not sync")
	}
}

// startManager runs bin/manager against the cluster with its default flags, as
// config/manager/manager.yaml does, except: no leader election (one replica), loopback
// addresses, and no --deny-private-networks (the chart repository is on loopback).
func (b *clusterBench) startManager() {
	metricsAddr, probeAddr := freeAddr(b.t), freeAddr(b.t)
	b.metricsURL = "http://" + metricsAddr + "/metrics"
	b.managerLog = filepath.Join(b.t.TempDir(), "manager.log")
	logFile, err := os.Create(b.managerLog)
	b.must(err)
	args := []string{"--metrics-bind-address=" + metricsAddr,
		"--health-probe-bind-address=" + probeAddr, "--log-format=json", "--graceful-shutdown-timeout=30s"}
	profiles := os.Getenv("CAPSTAN_BENCH_PROFILE")
	pprofAddr := ""
	if profiles != "" {
		pprofAddr = freeAddr(b.t)
		args = append(args, "--pprof-bind-address="+pprofAddr)
	}
	cmd := exec.Command(b.s.managerBin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+b.cluster.Kubeconfig)
	// CAPSTAN_BENCH_MANAGER_ENV adds variables to the manager's environment only (say
	// "GOGC=75 GOMEMLIMIT=64MiB"), not to the cluster's processes.
	cmd.Env = append(cmd.Env, strings.Fields(os.Getenv("CAPSTAN_BENCH_MANAGER_ENV"))...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	b.must(cmd.Start())
	b.manager, b.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(b.exited) }()
	go b.anon.follow(cmd.Process.Pid, b.exited)
	if profiles != "" {
		go b.snapshotHeaps(pprofAddr, profiles)
	}
	b.t.Cleanup(func() {
		if b.t.Failed() {
			fmt.Printf("--- manager log (last 40 lines of %s) ---\n%s\n", b.managerLog, b.logTail(40))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + probeAddr + "/readyz"); err == nil { //nolint:noctx // a loopback probe
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-b.exited:
			b.t.Fatalf("bin/manager exited:\n%s", b.logTail(40))
		case <-time.After(250 * time.Millisecond):
		}
	}
	b.t.Fatalf("bin/manager was not ready within 60s:\n%s", b.logTail(40))
}

// snapshotHeaps saves the manager's heap profile every heapSnapshotEvery into dir (named
// heap-N<n>-<seconds since start>.pb.gz) until it exits: CAPSTAN_BENCH_PROFILE=dir, to find
// what the peak RSS holds with go tool pprof.
func (b *clusterBench) snapshotHeaps(addr, dir string) {
	start := time.Now()
	tick := time.NewTicker(heapSnapshotEvery)
	defer tick.Stop()
	for {
		select {
		case <-b.exited:
			return
		case <-tick.C:
		}
		resp, err := http.Get("http://" + addr + "/debug/pprof/heap")
		if err != nil {
			continue
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		name := fmt.Sprintf("heap-N%d-%04d.pb.gz", b.n, int(time.Since(start).Seconds()))
		_ = os.WriteFile(filepath.Join(dir, name), body, 0o600)
	}
}

// heapSnapshotEvery is how often snapshotHeaps saves a profile.
const heapSnapshotEvery = 15 * time.Second

// stopManager sends SIGTERM and waits for the manager to exit; it is safe to call twice.
func (b *clusterBench) stopManager() {
	if b.manager == nil {
		return
	}
	_ = b.manager.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(40 * time.Second):
		_ = b.manager.Process.Kill()
		<-b.exited
	}
	b.manager = nil
}

func (b *clusterBench) logTail(n int) string {
	data, _ := os.ReadFile(b.managerLog)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// createRepository creates the ChartRepository and waits until the manager has fetched its
// index, so the clock of the install starts with the chart available.
func (b *clusterBench) createRepository(ctx context.Context, url string) {
	repo := &capstanv1.ChartRepository{ObjectMeta: metav1.ObjectMeta{Name: "charts", Namespace: benchNamespace},
		Spec: capstanv1.ChartRepositorySpec{URL: url}}
	b.must(b.k.Create(ctx, repo))
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		b.must(b.k.Get(ctx, client.ObjectKeyFromObject(repo), repo))
		if apimeta.IsStatusConditionTrue(repo.Status.Conditions, "Ready") {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	b.t.Fatalf("the ChartRepository did not become Ready: %+v\n%s", repo.Status.Conditions, b.logTail(40))
}

// phaseSample is the manager's and the API server's counters at one moment.
type phaseSample struct {
	at     time.Time
	proc   procSample
	client clientWrites
	server serverWrites
}

func (b *clusterBench) sample(ctx context.Context) phaseSample {
	p := phaseSample{at: time.Now()}
	var err error
	p.proc, err = readProc(b.manager.Process.Pid)
	b.must(err)
	p.client, err = scrapeClientWrites(ctx, b.metricsURL)
	b.must(err)
	p.server, err = scrapeServerWrites(ctx, b.cfg)
	b.must(err)
	return p
}

// capstanPhase runs act (which sets the tracker's expectations and writes the Releases), waits
// until every Release is Ready, and reports the phase.
func (b *clusterBench) capstanPhase(ctx context.Context, name string, act func(context.Context)) benchRow {
	before := b.sample(ctx)
	b.anon.take()
	act(ctx)
	took, err := b.releases.wait(ctx, fmt.Sprintf("N=%d capstan %s", b.n, name), b.s.timeoutFor(b.n))
	b.must(err)
	after := b.sample(ctx)
	wall := after.at.Sub(before.at)
	cw, sw := after.client.minus(before.client), after.server.minus(before.server)
	dry := sw.sum(isDryRun)
	fmt.Printf("N=%d capstan %s: %.1f s (load average %s); manager requests per Release: %s (%.2f in all, %.2f writes); of them dry runs %.2f\n",
		b.n, name, wall.Seconds(), loadAverage(), cw.perRelease(b.n), cw.requests()/float64(b.n), cw.total()/float64(b.n), dry/float64(b.n))
	fmt.Printf("  API server requests (writes, GETs and LISTs) from every client (controller-manager, scheduler and kwok included):\n    %s\n",
		strings.Join(sw.lines(b.n), "\n    "))
	return benchRow{n: b.n, system: "Capstan " + name, wall: wall,
		p50: percentile(took, 50), p90: percentile(took, 90), peakRSS: after.proc.peakRSS, anonRSS: b.anon.take(),
		cpu: after.proc.cpu - before.proc.cpu,
		writes: fmt.Sprintf("%.1f (%.1f dry-run) of %.1f", cw.total()/float64(b.n), dry/float64(b.n),
			cw.requests()/float64(b.n)),
		idleCPU: "—"}
}

// idle measures the manager over the idle window with every Release Ready.
func (b *clusterBench) idle(ctx context.Context) string {
	before := b.sample(ctx)
	fmt.Printf("N=%d capstan idle: measuring for %s\n", b.n, b.s.idle)
	select {
	case <-time.After(b.s.idle):
	case <-ctx.Done():
	}
	after := b.sample(ctx)
	window := after.at.Sub(before.at)
	cw := after.client.minus(before.client)
	share := (after.proc.cpu - before.proc.cpu).Seconds() / window.Seconds()
	fmt.Printf("N=%d capstan idle: %.2f%% of one core, %.0f writes, %.0f requests (%s) in %s\n",
		b.n, 100*share, cw.total(), cw.requests(), cw.perRelease(1), window.Round(time.Second))
	return fmt.Sprintf("%.2f %%", 100*share)
}

// releaseName is the name of the i-th Release (and of its objects).
func releaseName(i int) string { return fmt.Sprintf("app-%05d", i) }

// createReleases creates the N Releases, starting each one's clock just before its create.
func (b *clusterBench) createReleases(ctx context.Context) {
	b.releases.reset()
	b.parallel(func(i int) error {
		name := releaseName(i)
		b.releases.expect(name, 1, time.Now())
		rel := &capstanv1.Release{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace},
			Spec: capstanv1.ReleaseSpec{Chart: capstanv1.ChartTemplate{
				RepositoryRef: capstanv1.RepositoryReference{Name: "charts"}, Name: "bench",
			}},
		}
		if b.s.interval > 0 {
			rel.Spec.Interval = &metav1.Duration{Duration: b.s.interval}
		}
		return b.k.Create(ctx, rel)
	})
}

// upgradeReleases changes every Release's values, which changes the ConfigMap and rolls the
// Deployment's pod.
func (b *clusterBench) upgradeReleases(ctx context.Context) {
	gens, err := b.releases.generations(ctx, &capstanv1.ReleaseList{})
	b.must(err)
	b.releases.reset()
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"values":{"message":"upgraded"}}}`))
	b.parallel(func(i int) error {
		name := releaseName(i)
		b.releases.expect(name, gens[name]+1, time.Now())
		rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace}}
		return b.k.Patch(ctx, rel, patch)
	})
}

// parallel runs do(0..n-1) on benchWriters goroutines and fails the test on the first error.
func (b *clusterBench) parallel(do func(i int) error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	next := make(chan int)
	for range benchWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := do(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range b.n {
		next <- i
	}
	close(next)
	wg.Wait()
	b.must(errors.Join(errs...))
}

// kubectl runs kubectl against the cluster and fails the test if it fails.
func (b *clusterBench) kubectl(ctx context.Context, args ...string) string {
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", b.cluster.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (b *clusterBench) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}
