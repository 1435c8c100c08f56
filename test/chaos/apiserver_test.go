package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// apiServerRestart is the table's name for cycles that restart the API server under the manager.
const apiServerRestart = "apiserver-restart"

// restartAPIServer restarts the API server while the manager upgrades the model's Release, at a
// random moment. The same manager process must live through it and finish the work.
func (h *harness) restartAPIServer(ctx context.Context, m *model, rng *rand.Rand) outcome {
	p := h.start("")
	p.waitLog("Starting workers", 30*time.Second)
	o := outcome{point: apiServerRestart}
	op := opValues
	if rng.IntN(2) == 0 {
		op = opVersion
	}
	o.op = h.operate(ctx, m, op)
	time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond) // while the upgrade runs
	if err := h.cluster.RestartAPIServer(); err != nil {
		p.kill()
		h.t.Fatalf("restarting the API server: %v", err)
	}
	h.settleAndStop(ctx, m, p, &o)
	return o
}

// settleAndStop waits for the model's Release to settle after a fault, records how long that took
// and the invariants it breaks in o, then stops the manager p gracefully.
func (h *harness) settleAndStop(ctx context.Context, m *model, p *process, o *outcome) {
	start := time.Now()
	if !h.waitSettled(ctx, m, settleTimeout) {
		o.violations = append(o.violations, fmt.Sprintf("did not settle within %s", settleTimeout))
	}
	o.recovery = time.Since(start)
	o.violations = append(o.violations, h.violations(ctx, m)...)
	if err := p.stop(20 * time.Second); err != nil {
		o.violations = append(o.violations, "graceful shutdown: "+err.Error())
	}
}
