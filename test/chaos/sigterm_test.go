package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/capstan-dev/capstan/internal/storage"
)

// gracefulStop is the table's name for cycles that send SIGTERM while an upgrade runs.
const gracefulStop = "sigterm-mid-upgrade"

// sigterm stops the manager with SIGTERM while it upgrades the model's Release. The manager must
// exit cleanly within its grace and leave no pending record behind (it finishes its step and
// records the outcome); a fresh manager then finishes the work.
func (h *harness) sigterm(ctx context.Context, m *model, rng *rand.Rand) outcome {
	p := h.start("")
	p.waitLog("Starting workers", 30*time.Second)
	o := outcome{point: gracefulStop}
	op := opValues
	if rng.IntN(2) == 0 {
		op = opVersion
	}
	o.op = h.operate(ctx, m, op)
	time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
	if err := p.stop(20 * time.Second); err != nil {
		o.violations = append(o.violations, "graceful shutdown: "+err.Error())
	}
	recs, err := storage.NewStore(h.c).List(ctx, namespace, m.name)
	if err != nil {
		o.violations = append(o.violations, err.Error())
	}
	for _, r := range recs {
		if r.Info.Status.IsPending() {
			o.violations = append(o.violations, fmt.Sprintf("revision %d left %s by a graceful shutdown", r.Version, r.Info.Status))
		}
	}
	restart := time.Now()
	p = h.start("")
	if !h.waitSettled(ctx, m, settleTimeout) {
		o.violations = append(o.violations, fmt.Sprintf("did not settle within %s", settleTimeout))
	}
	o.recovery = time.Since(restart)
	o.violations = append(o.violations, h.violations(ctx, m)...)
	p.waitLog("Starting workers", 30*time.Second)
	if err := p.stop(20 * time.Second); err != nil {
		o.violations = append(o.violations, "graceful shutdown: "+err.Error())
	}
	return o
}
