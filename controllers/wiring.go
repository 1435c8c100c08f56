package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/health"
	"github.com/capstan-dev/capstan/internal/hooks"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/storage"
)

// NewHealthWaiter adapts internal/health to the Release reconciler's Waiter: it looks through the
// Release's own client, so health reads carry the Release's identity.
func NewHealthWaiter(c client.WithWatch) reconcile.Waiter {
	return health.New(c, health.Options{})
}

// NewHookRunner adapts internal/hooks to the Release reconciler's HookRunner: it turns the
// revision's stored hooks into runnable ones and writes each run back into the record's hooks.
// When the Release's client can also read pod logs (hooks.PodLogs, as the clients of
// reconcile.ImpersonatingClients can), a failed hook's error carries the end of its pod's log and
// the hook-succeeded output-log policy is honoured with it.
func NewHookRunner(c client.WithWatch, owner apply.Owner) reconcile.HookRunner {
	opts := hooks.Options{}
	if logs, ok := c.(hooks.PodLogs); ok {
		opts.Logs = logs
	}
	return hookRunner{runner: hooks.NewRunner(c, owner, opts)}
}

type hookRunner struct{ runner *hooks.Runner }

func (h hookRunner) Run(ctx context.Context, event string, stored []*storage.Hook, timeout time.Duration) error {
	runnable := make([]hooks.Hook, 0, len(stored))
	for _, s := range stored {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(s.Manifest), &obj.Object); err != nil {
			return fmt.Errorf("hook %s in %s is not valid YAML: %w", s.Name, s.Path, err)
		}
		hk, isHook, err := hooks.FromObject(s.Path, obj)
		if err != nil || !isHook {
			continue // Helm drops documents whose hook annotation it cannot use; so did rendering.
		}
		runnable = append(runnable, hk)
	}
	results, err := h.runner.Run(ctx, hooks.Event(event), runnable, timeout)
	recordRuns(stored, results)
	for _, r := range results {
		if r.Logs != "" { // helm.sh/hook-output-log-policy: hook-succeeded
			ctrl.LoggerFrom(ctx).Info("hook output", "event", event, "hook", r.Ref.String(), "log", r.Logs)
		}
	}
	return err
}

// recordRuns copies each hook's last run into the stored hook it came from.
func recordRuns(stored []*storage.Hook, results []hooks.Result) {
	for _, r := range results {
		for _, s := range stored {
			if s.Path == r.Path && s.Name == r.Name && s.Kind == r.Kind {
				s.LastRun = storage.HookExecution{
					StartedAt: r.LastRun.StartedAt, CompletedAt: r.LastRun.CompletedAt,
					Phase: storage.HookPhase(r.LastRun.Phase),
				}
			}
		}
	}
}
