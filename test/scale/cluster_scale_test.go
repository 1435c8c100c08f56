package scale

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/capstan-dev/capstan/internal/testenv"
)

// The cluster benchmark (`make bench-scale`) measures the built bin/manager as its own process
// on a private local cluster with kwok nodes, against the floor: the same objects applied with
// kubectl and no manager. It is a benchmark, so `go test ./...` never starts it.
// Settings, all optional:
//
//	CAPSTAN_BENCH_N          comma-separated Release counts, one fresh cluster each (default 100)
//	CAPSTAN_BENCH_IDLE       how long the idle CPU is measured with all Ready (default 2m)
//	CAPSTAN_BENCH_NODES      kwok nodes (default: room for 3 pods per Release at 100 per node)
//	CAPSTAN_BENCH_TIMEOUT    the limit of one phase (default 10m + 1s per Release)
//	CAPSTAN_BENCH_FLOOR_PARALLEL  kubectl processes applying the floor at once (default 4)
//	CAPSTAN_BENCH_INTERVAL   the Releases' spec.interval (default: unset, the API's 10m)
//	CAPSTAN_MANAGER, CAPSTAN_CLI  the binaries (default bin/manager and bin/capstan)

// clusterBenchSettings are the benchmark's settings, read from the environment.
type clusterBenchSettings struct {
	counts        []int
	idle          time.Duration
	nodes         int
	timeout       time.Duration
	floorParallel int
	// interval is the Releases' spec.interval; 0 leaves it unset.
	interval time.Duration
	// installOnly skips both upgrade phases (CAPSTAN_BENCH_INSTALL_ONLY=1), for the largest N.
	installOnly bool
	managerBin  string
	cliBin      string
}

func readClusterBenchSettings(t testing.TB) clusterBenchSettings {
	t.Helper()
	s := clusterBenchSettings{idle: 2 * time.Minute, floorParallel: 4,
		managerBin: filepath.Join(testenv.RepoRoot(), "bin", "manager"),
		cliBin:     filepath.Join(testenv.RepoRoot(), "bin", "capstan")}
	for _, f := range strings.Split(envOr("CAPSTAN_BENCH_N", "100"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("CAPSTAN_BENCH_N: %q is not a positive number", f)
		}
		s.counts = append(s.counts, n)
	}
	var err error
	if v := os.Getenv("CAPSTAN_BENCH_IDLE"); v != "" {
		if s.idle, err = time.ParseDuration(v); err != nil {
			t.Fatalf("CAPSTAN_BENCH_IDLE: %v", err)
		}
	}
	if v := os.Getenv("CAPSTAN_BENCH_INTERVAL"); v != "" {
		if s.interval, err = time.ParseDuration(v); err != nil {
			t.Fatalf("CAPSTAN_BENCH_INTERVAL: %v", err)
		}
	}
	if v := os.Getenv("CAPSTAN_BENCH_TIMEOUT"); v != "" {
		if s.timeout, err = time.ParseDuration(v); err != nil {
			t.Fatalf("CAPSTAN_BENCH_TIMEOUT: %v", err)
		}
	}
	for name, into := range map[string]*int{"CAPSTAN_BENCH_NODES": &s.nodes, "CAPSTAN_BENCH_FLOOR_PARALLEL": &s.floorParallel} {
		if v := os.Getenv(name); v != "" {
			if *into, err = strconv.Atoi(v); err != nil || *into < 1 {
				t.Fatalf("%s: %q is not a positive number", name, v)
			}
		}
	}
	s.installOnly = os.Getenv("CAPSTAN_BENCH_INSTALL_ONLY") == "1"
	s.managerBin, s.cliBin = envOr("CAPSTAN_MANAGER", s.managerBin), envOr("CAPSTAN_CLI", s.cliBin)
	for _, bin := range []string{s.managerBin, s.cliBin} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%v: build the binaries first (make build), or name them with CAPSTAN_MANAGER and CAPSTAN_CLI", err)
		}
	}
	return s
}

// nodesFor is the number of kwok nodes for n Releases: each Release's pod, its replacement
// during the upgrade's rollout and the floor's pod, at 100 of the 110 pods a node takes.
func (s clusterBenchSettings) nodesFor(n int) int {
	if s.nodes > 0 {
		return s.nodes
	}
	return max(2, int(math.Ceil(3*float64(n)/100)))
}

// timeoutFor is the limit of one phase at n Releases.
func (s clusterBenchSettings) timeoutFor(n int) time.Duration {
	if s.timeout > 0 {
		return s.timeout
	}
	return 10*time.Minute + time.Duration(n)*time.Second
}

// loadAverage is the machine's 1, 5 and 15 minute load averages, for the conditions beside the
// figures: the benchmark shares the machine with whatever else runs.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if fields := strings.Fields(string(data)); err == nil && len(fields) >= 3 {
		return strings.Join(fields[:3], " ")
	}
	return "unknown"
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// benchRow is one line of the benchmark's table.
type benchRow struct {
	n        int
	system   string
	wall     time.Duration
	p50, p90 time.Duration
	peakRSS  int64         // bytes; 0 when not measured
	anonRSS  int64         // the phase's peak anonymous RSS, bytes; 0 when not measured
	cpu      time.Duration // -1 when not measured
	writes   string
	idleCPU  string
}

// BenchmarkClusterScale is `make bench-scale`: for each N it starts a fresh local cluster, installs
// N Releases with bin/manager, measures an idle window and an upgrade of all N, stops the
// manager, then applies the same objects with kubectl as the floor, and prints one table.
// It is a benchmark, so `go test` never starts it; it measures once whatever -benchtime says.
func BenchmarkClusterScale(b *testing.B) {
	var t testing.TB = b
	ctrl.SetLogger(logr.Discard())
	s := readClusterBenchSettings(t)
	var rows []benchRow
	for _, n := range s.counts {
		rows = append(rows, runClusterBench(t, s, n)...)
		printBenchTable(rows, s)
	}
}

func printBenchTable(rows []benchRow, s clusterBenchSettings) {
	fmt.Printf("\nCapstan cluster benchmark (idle window %s, %d CPUs, load average %s, %s)\n\n",
		s.idle, runtime.NumCPU(), loadAverage(), time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| N | system | wall | rel/s | p50 | p90 | RSS | CPU-s | writes (dry-run) of requests, per release | idle CPU |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|---|---:|")
	for _, r := range rows {
		fmt.Println(r)
	}
	fmt.Println()
}

// String is the row as a line of the Markdown table.
func (r benchRow) String() string {
	rss, cpu := "—", "—"
	if r.peakRSS > 0 {
		rss = fmt.Sprintf("%.0f MiB", float64(r.peakRSS)/(1<<20))
		if r.anonRSS > 0 {
			rss += fmt.Sprintf(" (%.0f anon)", float64(r.anonRSS)/(1<<20))
		}
	}
	if r.cpu >= 0 {
		cpu = fmt.Sprintf("%.1f", r.cpu.Seconds())
	}
	return fmt.Sprintf("| %d | %s | %.1f s | %.2f | %.1f s | %.1f s | %s | %s | %s | %s |",
		r.n, r.system, r.wall.Seconds(), float64(r.n)/r.wall.Seconds(), r.p50.Seconds(), r.p90.Seconds(),
		rss, cpu, r.writes, r.idleCPU)
}
