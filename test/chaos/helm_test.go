package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// helmBin is the reference helm binary (HELM, set by make), or "" to skip what needs it.
var helmBin = os.Getenv("HELM")

// helm runs the helm binary against the suite's cluster.
func (h *harness) helm(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, helmBin, append(args, "--kubeconfig", h.cluster.Kubeconfig, "-n", namespace)...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(h.dir, "helm"), "HELM_CONFIG_HOME="+filepath.Join(h.dir, "helm"))
	return cmd.CombinedOutput()
}

// helmHistoryViolations checks that `helm history` shows the records as the suite reads them.
func (h *harness) helmHistoryViolations(ctx context.Context, m *model) []string {
	if helmBin == "" || !m.exists {
		return nil
	}
	out, err := h.helm(ctx, "history", m.name, "-o", "json", "--max", "100")
	if err != nil {
		return []string{fmt.Sprintf("helm history: %v: %s", err, out)}
	}
	var history []struct {
		Revision int    `json:"revision"`
		Status   string `json:"status"`
	}
	if err := json.Unmarshal(out, &history); err != nil {
		return []string{fmt.Sprintf("helm history output: %v", err)}
	}
	recs, err := storage.NewStore(h.c).List(ctx, namespace, m.name)
	if err != nil {
		return []string{err.Error()}
	}
	got, want := make([]string, 0, len(history)), make([]string, 0, len(recs))
	for _, e := range history {
		got = append(got, fmt.Sprintf("v%d=%s", e.Revision, e.Status))
	}
	for _, r := range recs {
		want = append(want, fmt.Sprintf("v%d=%s", r.Version, r.Info.Status))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return []string{fmt.Sprintf("helm history shows %v, the records are %v", got, want)}
	}
	return nil
}

// concurrentHelm runs `helm upgrade` on the model's release while Capstan upgrades it to a new
// spec, then lets Capstan settle: Capstan waits for helm's pending revision, takes the release over
// and deploys its own spec; the invariants must hold as after any cycle. With whilePending, the
// manager is running and Capstan's upgrade is asked for once helm's revision is pending, so that
// Capstan reads the records in the middle of helm's upgrade (helm copies the labels of the newest
// record, Capstan's, into its own); otherwise helm and the manager start together.
func (h *harness) concurrentHelm(ctx context.Context, m *model, whilePending bool) outcome {
	o := outcome{point: "concurrent-helm-upgrade", op: "helm upgrade while Capstan upgrades " + m.name}
	p := h.start("")
	if whilePending {
		p.waitLog("Starting workers", 30*time.Second)
		o.op = "Capstan upgrades " + m.name + " while helm's upgrade is pending"
	}
	tgz := filepath.Join(h.dir, "charts", "chaos-"+m.spec.version+".tgz")
	done := make(chan error, 1)
	args := []string{"upgrade", m.name, tgz, "--reuse-values", "--set", "color=from-helm", "--force-conflicts"}
	if whilePending {
		// helm's revision stays pending until the Deployment rolled out.
		args = append(args, "--wait=watcher", "--timeout=60s")
	}
	go func() {
		out, err := h.helm(ctx, args...)
		if err != nil {
			err = fmt.Errorf("%w: %s", err, out)
		}
		done <- err
	}()
	sawPending := whilePending && h.awaitPending(ctx, m, done)
	if whilePending && !sawPending {
		o.op += " (helm finished before its revision was seen pending)"
	}
	h.operate(ctx, m, opValues)
	// helm may lose the race (Capstan created the revision first, or its pending record makes
	// helm refuse); that is not a violation: the invariants below are. Once helm's revision is
	// pending, though, Capstan must wait for it and leave helm's upgrade alone.
	if err := <-done; err != nil {
		o.op += " (helm lost the race: " + lastLine(err.Error()) + ")"
		if sawPending {
			o.violations = append(o.violations, "helm's upgrade, pending when Capstan's began, failed: "+lastLine(err.Error()))
		}
	} else {
		o.op += " (helm's revision written)"
	}
	// A revision helm writes does not trigger the Release; ask for a reconcile, as a user would.
	start := time.Now()
	request := start.Format(time.RFC3339Nano)
	h.update(ctx, m.name, func(r *capstanv1.Release) {
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		r.Annotations[capstanv1.ReconcileRequestAnnotation] = request
	})
	for time.Since(start) < settleTimeout {
		if rel, err := h.release(ctx, m.name); err == nil && rel != nil && rel.Status.LastHandledReconcileAt == request {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !h.waitSettled(ctx, m, settleTimeout) {
		o.violations = append(o.violations, fmt.Sprintf("did not settle within %s", settleTimeout))
	}
	o.recovery = time.Since(start)
	// No attempt of Capstan's was interrupted in this cycle: a pending revision it recovered
	// was helm's, still running.
	if p.logged("recovered a revision left pending") {
		o.violations = append(o.violations, "Capstan marked failed a pending revision of helm's upgrade, still running")
	}
	o.violations = append(o.violations, h.violations(ctx, m)...)
	p.waitLog("Starting workers", 30*time.Second)
	if err := p.stop(20 * time.Second); err != nil {
		o.violations = append(o.violations, "graceful shutdown: "+err.Error())
	}
	return o
}

// awaitPending polls the records until one is pending, or helm is done (its result is put back).
func (h *harness) awaitPending(ctx context.Context, m *model, done chan error) bool {
	store := storage.NewStore(h.c)
	for {
		select {
		case err := <-done:
			done <- err
			return false
		default:
		}
		recs, err := store.List(ctx, namespace, m.name)
		if err == nil && len(recs) > 0 && recs[len(recs)-1].Info.Status.IsPending() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
