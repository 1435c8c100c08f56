package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-dev/capstan/internal/failpoint"
)

// randomKill is the table's name for kills at a random moment instead of at a failpoint.
const randomKill = "random"

// longModeKills is the least number of kills in long mode (CAPSTAN_CHAOS=long, make chaos).
const longModeKills = 200

// settleTimeout bounds the wait for a Release to settle after a restart.
const settleTimeout = 2 * time.Minute

// outcome is one cycle's result.
type outcome struct {
	point, op  string
	killed     bool
	recovery   time.Duration
	violations []string
}

// row is one line of the table: a failpoint's cycles.
type row struct {
	cycles, kills, violations int
	total, worst              time.Duration
}

func schemaGVK(group, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: "v1", Kind: kind}
}

// TestChaos kills the manager at every failpoint and at random moments while Releases install,
// upgrade, roll back and uninstall, and checks the invariants after every recovery.
func TestChaos(t *testing.T) {
	long := os.Getenv("CAPSTAN_CHAOS") == "long"
	switch os.Getenv("CAPSTAN_CHAOS") {
	case "faults":
		testFaultsOnly(t)
		return
	case "helm":
		testHelmOnly(t)
		return
	}
	if testing.Short() && !long {
		t.Skip("the chaos suite runs a local cluster; skipped in -short mode")
	}
	h := newHarness(t)
	ctx := context.Background()
	m := &model{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	points := append(slices.Clone(failpoint.Names), randomKill, randomKill)
	table := map[string]*row{}
	kills, cycles := 0, 0
	for round := 0; ; round++ {
		for i, point := range points {
			o := h.cycle(ctx, m, point, opFor(point, round+i, rng), rng)
			record(t, table, o, &cycles, &kills, h)
		}
		if !long || kills >= longModeKills || cycles > 3*longModeKills {
			break
		}
	}
	extra := max(2, cycles/20)
	for range extra {
		h.ensureInstalled(ctx, m)
		record(t, table, h.restartAPIServer(ctx, m, rng), &cycles, &kills, h)
		record(t, table, h.sigterm(ctx, m, rng), &cycles, &kills, h)
	}
	faultCycles := 1
	if long {
		faultCycles = extra
	}
	for range faultCycles {
		record(t, table, h.apiFaults(ctx, m, rng), &cycles, &kills, h)
		h.ensureInstalled(ctx, m)
		record(t, table, h.pauseEtcd(ctx, m, rng), &cycles, &kills, h)
	}
	points = append(points, apiServerRestart, gracefulStop, apiWriteFaults, etcdPaused)
	if helmBin != "" {
		helmCycles := 2
		if long {
			helmCycles = 10
		}
		for i := range helmCycles {
			h.ensureInstalled(ctx, m)
			o := h.concurrentHelm(ctx, m, i%2 == 1)
			record(t, table, o, &cycles, &kills, h)
		}
		points = append(points, "concurrent-helm-upgrade")
	}
	report := formatTable(table, points)
	t.Logf("%d cycles, %d kills\n%s", cycles, kills, report)
	if path := os.Getenv("CAPSTAN_CHAOS_REPORT"); path != "" {
		must(t, os.WriteFile(path, []byte(report), 0o600))
	}
	for _, p := range failpoint.Names {
		if table[p].kills == 0 {
			t.Errorf("failpoint %s never fired", p)
		}
	}
}

// testFaultsOnly runs only the API-fault cycle, faultsOnlyCycles times (CAPSTAN_CHAOS=faults): the
// quick way to chase a failure of that cycle.
func testFaultsOnly(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	m := &model{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	table := map[string]*row{}
	kills, cycles := 0, 0
	for range faultsOnlyCycles {
		h.ensureInstalled(ctx, m)
		record(t, table, h.apiFaults(ctx, m, rng), &cycles, &kills, h)
	}
	t.Logf("%d cycles\n%s", cycles, formatTable(table, []string{apiWriteFaults}))
}

// testHelmOnly runs only the concurrent-helm cycles (CAPSTAN_CHAOS=helm), to chase a race
// between helm and Capstan writing the same release.
func testHelmOnly(t *testing.T) {
	if helmBin == "" {
		t.Fatal("CAPSTAN_CHAOS=helm needs HELM, the reference helm binary")
	}
	h := newHarness(t)
	ctx := context.Background()
	m := &model{}
	table := map[string]*row{}
	kills, cycles := 0, 0
	for i := range helmOnlyCycles {
		h.ensureInstalled(ctx, m)
		record(t, table, h.concurrentHelm(ctx, m, i%2 == 1), &cycles, &kills, h)
	}
	t.Logf("%d cycles\n%s", cycles, formatTable(table, []string{"concurrent-helm-upgrade"}))
}

// helmOnlyCycles is how many cycles CAPSTAN_CHAOS=helm runs.
const helmOnlyCycles = 12

// faultsOnlyCycles is how many fault cycles CAPSTAN_CHAOS=faults runs.
const faultsOnlyCycles = 8

// ensureInstalled installs the model's Release if there is none, with a manager run of its own.
func (h *harness) ensureInstalled(ctx context.Context, m *model) {
	if m.exists {
		return
	}
	h.operate(ctx, m, opInstall)
	p := h.start("")
	if !h.waitSettled(ctx, m, settleTimeout) {
		h.t.Errorf("installing %s did not settle", m.name)
	}
	p.waitLog("Starting workers", 30*time.Second)
	_ = p.stop(20 * time.Second)
}

// record adds a cycle's outcome to the table and reports its violations.
func record(t *testing.T, table map[string]*row, o outcome, cycles, kills *int, h *harness) {
	t.Helper()
	*cycles++
	r := table[o.point]
	if r == nil {
		r = &row{}
		table[o.point] = r
	}
	r.cycles++
	if o.killed {
		r.kills++
		*kills++
	}
	r.violations += len(o.violations)
	r.total += o.recovery
	r.worst = max(r.worst, o.recovery)
	t.Logf("cycle %d: %s during %s: killed=%v, recovered in %s", *cycles, o.point, o.op, o.killed, o.recovery.Round(time.Millisecond))
	for _, v := range o.violations {
		t.Errorf("cycle %d (%s during %s): %s", *cycles, o.point, o.op, v)
	}
	if len(o.violations) > 0 {
		t.Log(h.logTails(2))
	}
}

// opFor picks the operation that passes a failpoint: an uninstall for mid-uninstall, a values
// change (which drops three objects) for mid-prune, otherwise values, chart version and rollback
// in turn (installs happen whenever no Release exists).
func opFor(point string, n int, rng *rand.Rand) string {
	switch point {
	case failpoint.MidUninstall:
		return opUninstall
	case failpoint.MidPrune:
		return opValues
	case randomKill:
		ops := []string{opValues, opVersion, opRollback, opUninstall}
		return ops[rng.IntN(len(ops))]
	}
	ops := []string{opValues, opVersion, opRollback}
	return ops[n%len(ops)]
}

// cycle runs one kill: a manager with the failpoint armed carries out the operation until it is
// killed (or, at a random moment, the suite kills it); a fresh manager then recovers, and the
// invariants are checked once the Release settles. The manager is stopped with SIGTERM at the
// end, and must exit cleanly.
func (h *harness) cycle(ctx context.Context, m *model, point, op string, rng *rand.Rand) outcome {
	armed := ""
	if point != randomKill {
		armed = point + "=kill"
	}
	p := h.start(armed)
	o := outcome{point: point}
	o.op = h.operate(ctx, m, op)
	if point == randomKill {
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Millisecond)
		p.kill()
		o.killed = true
	} else {
		o.killed = p.exited(60*time.Second) && p.killedBy(point)
		if !o.killed {
			if err := p.stop(20 * time.Second); err != nil {
				o.violations = append(o.violations, "graceful shutdown: "+err.Error())
			}
		}
	}
	if o.killed && m.exists && strings.HasPrefix(o.op, "upgrade") && rng.IntN(2) == 0 {
		// The spec changes again while the manager is down: what the interrupted revision wrote
		// and the new one does not have must still be pruned. (Not after a rollback request: an
		// interrupted one is carried out first and then holds until the next spec change.)
		o.op += ", then " + h.operate(ctx, m, opValues)
	}
	restart := time.Now()
	p = h.start("")
	if !h.waitSettled(ctx, m, settleTimeout) {
		o.violations = append(o.violations, fmt.Sprintf("did not settle within %s", settleTimeout))
	}
	o.recovery = time.Since(restart)
	o.violations = append(o.violations, h.violations(ctx, m)...)
	// A process stopped before it installed its signal handler dies of SIGTERM; that would be
	// the harness's doing, so stop only a manager that is running its controllers.
	p.waitLog("Starting workers", 30*time.Second)
	if err := p.stop(20 * time.Second); err != nil {
		o.violations = append(o.violations, "graceful shutdown: "+err.Error())
	}
	return o
}

// formatTable prints failpoint × kills × violations × recovery time.
func formatTable(table map[string]*row, points []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-34s %7s %6s %11s %14s %14s\n", "failpoint", "cycles", "kills", "violations", "recovery avg", "recovery max")
	seen := map[string]bool{}
	for _, p := range points {
		r := table[p]
		if r == nil || seen[p] {
			continue
		}
		seen[p] = true
		avg := time.Duration(0)
		if r.cycles > 0 {
			avg = r.total / time.Duration(r.cycles)
		}
		fmt.Fprintf(&b, "%-34s %7d %6d %11d %14s %14s\n", p, r.cycles, r.kills, r.violations,
			avg.Round(10*time.Millisecond), r.worst.Round(10*time.Millisecond))
	}
	return b.String()
}
