package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// Check reads a Release and says whether the awaited outcome is there: done false keeps waiting;
// a non-nil error ends the wait as a failure.
type Check func(rel *capstanv1.Release) (done bool, err error)

// CheckActionable returns an error wrapping ErrNotActionable when the controller would not act on
// a request for the Release: it is suspended or being deleted.
func CheckActionable(rel *capstanv1.Release) error {
	switch {
	case rel.DeletionTimestamp != nil:
		return fmt.Errorf("%w: Release %s/%s is being deleted", ErrNotActionable, rel.Namespace, rel.Name)
	case rel.Spec.Suspend:
		return fmt.Errorf("%w: Release %s/%s is suspended (spec.suspend: true); resume it first",
			ErrNotActionable, rel.Namespace, rel.Name)
	}
	return nil
}

// Annotate sets one annotation on the Release with a JSON merge patch, which leaves every other
// field alone and needs no resourceVersion. The Release is updated from the apiserver's answer.
func (t *Target) Annotate(ctx context.Context, key, value string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}})
	if err != nil {
		return fmt.Errorf("encoding the patch: %w", err)
	}
	rel := t.Release.DeepCopy()
	if err := t.conn.Client.Patch(ctx, rel, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("setting annotation %s on Release %s/%s: %w", key, rel.Namespace, rel.Name, err)
	}
	t.Release = rel
	return nil
}

// Wait reads the Release every poll interval until check is done, the timeout passes or ctx
// ends. what names the awaited outcome in the timeout error, which also says where the Release
// stood. Errors reading the Release are retried, except that it no longer exists.
func (t *Target) Wait(ctx context.Context, timeout time.Duration, what string, check Check) error {
	interval := t.conn.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	var checkErr error
	name := t.Release.Name
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		if err := t.refresh(ctx, name); err != nil {
			if errors.Is(err, ErrReleaseNotFound) {
				return false, err
			}
			return false, nil
		}
		done, err := check(t.Release)
		checkErr = err
		return done || err != nil, nil
	})
	switch {
	case checkErr != nil:
		return checkErr
	case errors.Is(err, ErrReleaseNotFound):
		return err
	case err != nil && ctx.Err() == nil:
		return fmt.Errorf("%w after %s waiting for %s; the Release stands at %s", ErrTimeout, timeout, what, Summary(t.Release))
	case err != nil:
		return fmt.Errorf("stopped waiting for %s (%w); the Release stands at %s", what, ctx.Err(), Summary(t.Release))
	}
	return nil
}

// Summary describes where a Release stands in one line: its Ready condition, and Reconciling
// when work is under way.
func Summary(rel *capstanv1.Release) string {
	ready := meta.FindStatusCondition(rel.Status.Conditions, capstanv1.ReadyCondition)
	if ready == nil {
		return "Ready unknown (the controller has not reported yet)"
	}
	s := fmt.Sprintf("Ready=%s (%s): %s", ready.Status, ready.Reason, ready.Message)
	if r := meta.FindStatusCondition(rel.Status.Conditions, capstanv1.ReconcilingCondition); r != nil && r.Status == "True" {
		s += fmt.Sprintf("; Reconciling: %s", r.Message)
	}
	return s
}

// DefaultWaitTimeout is how long rollback and test wait for the outcome by default.
const DefaultWaitTimeout = 5 * time.Minute

// WaitFlags are the flags of a command that asks the controller for an action and waits for it.
type WaitFlags struct {
	wait, noWait bool
	// Timeout bounds the wait.
	Timeout time.Duration
}

// AddFlags registers --wait (default true), --no-wait and --timeout on fs.
func (f *WaitFlags) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.wait, "wait", true, "wait until the controller reports the outcome")
	fs.BoolVar(&f.noWait, "no-wait", false, "only make the request; do not wait for the outcome")
	fs.DurationVar(&f.Timeout, "timeout", DefaultWaitTimeout, "how long to wait for the outcome")
}

// Enabled reports whether the command waits: --wait and not --no-wait.
func (f *WaitFlags) Enabled() bool { return f.wait && !f.noWait }

// CheckTimeout refuses a timeout that is not positive when waiting.
func (f *WaitFlags) CheckTimeout() error {
	if f.Enabled() && f.Timeout <= 0 {
		return fmt.Errorf("%w: --timeout %s: want a positive duration", ErrInvalidArgument, f.Timeout)
	}
	return nil
}
