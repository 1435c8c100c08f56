package hooks

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/apply"
)

// DefaultInterval is how often the runner looks whether a deleted hook object is gone, when
// Options.Interval is zero.
const DefaultInterval = 500 * time.Millisecond

// Options tune a Runner.
type Options struct {
	// Interval is the pause between two looks while waiting for a deletion (default DefaultInterval).
	Interval time.Duration
	// Now is the clock for LastRun (default time.Now).
	Now func() time.Time
	// Logs reads hook Pods' logs for helm.sh/hook-output-log-policy; nil reports none.
	Logs PodLogs
}

// Runner runs the hooks of one release through one client. The client must be able to watch: Jobs and
// Pods are followed with a watch so that no change is missed, not even a Job that its
// ttlSecondsAfterFinished deletes right after it completes.
type Runner struct {
	client   client.WithWatch
	owner    apply.Owner
	applier  *apply.Applier
	interval time.Duration
	now      func() time.Time
	logs     PodLogs
}

// NewRunner returns a Runner that writes through c on behalf of owner. Hook objects that name no
// namespace go to owner.Namespace, as Helm does.
func NewRunner(c client.WithWatch, owner apply.Owner, opts Options) *Runner {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Runner{client: c, owner: owner, applier: apply.New(c, owner, apply.Options{}),
		interval: opts.Interval, now: opts.Now, logs: opts.Logs}
}

// Run runs the hooks that have event ev, one at a time in ForEvent order, and returns one Result per
// hook it started, in that order. For each hook it deletes the previous object when the
// before-hook-creation policy asks (and waits until it is gone), creates the object, and waits until a
// Job completes or a Pod succeeds; other kinds are done once created. Each hook gets timeout for all of
// that (timeout <= 0 leaves the bound to ctx), as each Helm hook gets the release timeout, unless
// its capstan.dev/hook-timeout annotation names its own; an invalid one fails the run, naming the
// hook, before any hook starts.
//
// The first hook that fails stops the run with an *Error naming it; its object is deleted if it has
// hook-failed, and the hooks that already succeeded are deleted if they have hook-succeeded. When every
// hook succeeds, those with hook-succeeded are deleted, last first. CRDs are never deleted. A deletion
// that fails is reported in a *CleanupError (joined to the hook's error, if any). When ctx is cancelled
// the run stops at once, records the running hook as Unknown and deletes nothing.
func (r *Runner) Run(ctx context.Context, ev Event, hooks []Hook, timeout time.Duration) ([]Result, error) {
	ordered := ForEvent(hooks, ev)
	timeouts, invalid := r.timeouts(ev, ordered, timeout)
	if invalid != nil {
		return []Result{invalid.res}, invalid.err
	}
	var runs []*hookRun
	var err error
	for i, h := range ordered {
		run := newHookRun(ev, h, timeouts[i])
		runs = append(runs, run)
		if err = r.runOne(ctx, run); err != nil {
			break
		}
	}
	if ctx.Err() == nil {
		err = errors.Join(err, r.cleanup(ctx, runs, timeout))
	}
	results := make([]Result, 0, len(runs))
	for _, run := range runs {
		results = append(results, run.res)
	}
	return results, err
}

// invalidRun is a hook whose annotations stop the run before any hook starts.
type invalidRun struct {
	res Result
	err error
}

// timeouts returns each hook's timeout: its capstan.dev/hook-timeout, else the Release's. The
// first hook whose annotation is invalid stops the run before any hook has started, so a typo in
// a later hook never leaves the earlier ones half done.
func (r *Runner) timeouts(ev Event, hooks []Hook, def time.Duration) ([]time.Duration, *invalidRun) {
	out := make([]time.Duration, len(hooks))
	for i, h := range hooks {
		d, err := h.Timeout(def)
		if err != nil {
			run := newHookRun(ev, h, def)
			if obj, perr := r.prepare(h); perr == nil {
				run.res.Ref = apply.RefOf(obj)
			}
			r.finish(run, PhaseFailed)
			return nil, &invalidRun{res: run.res, err: run.error(ReasonInvalid, err.Error(), err)}
		}
		out[i] = d
	}
	return out, nil
}

// hookRun is the state of one hook's run.
type hookRun struct {
	ev      Event
	hook    Hook
	timeout time.Duration
	res     Result
	// created says that the hook's object was created, so a delete policy has something to delete.
	created bool
	// uid is the created object's UID, which its Job's Pods name as their owner.
	uid string
	// stage is what the run was doing, and last the last state seen of the hook's object, for a
	// timeout's message.
	stage, last string
}

func newHookRun(ev Event, h Hook, timeout time.Duration) *hookRun {
	return &hookRun{ev: ev, hook: h, timeout: timeout,
		res: Result{Name: h.Name, Kind: h.Kind, Path: h.Path, Ref: refOfHook(h)}}
}

// runOne runs one hook and records what happened to it in run.
func (r *Runner) runOne(ctx context.Context, run *hookRun) error {
	obj, err := r.prepare(run.hook)
	if err != nil {
		r.finish(run, PhaseFailed)
		return run.error(ReasonInvalid, err.Error(), err)
	}
	run.res.Ref = apply.RefOf(obj)
	hookCtx, cancel := withTimeout(ctx, run.timeout)
	defer cancel()
	err = r.execute(hookCtx, run, obj)
	switch {
	case err == nil:
		r.finish(run, PhaseSucceeded)
		if run.hook.HasOutputLogPolicy(LogOnSucceeded) {
			run.res.Logs = r.hookLogs(ctx, run)
		}
		return nil
	case ctx.Err() != nil:
		r.finish(run, PhaseUnknown)
		return run.error(ReasonCanceled, "the run was abandoned: "+ctx.Err().Error(), ctx.Err())
	case hookCtx.Err() != nil:
		r.finish(run, PhaseFailed)
		e := run.timedOut()
		e.Logs = r.hookLogs(ctx, run)
		return e
	}
	r.finish(run, PhaseFailed)
	var he *Error
	if errors.As(err, &he) && he.Reason == ReasonFailed {
		he.Logs = r.hookLogs(ctx, run)
	}
	return err
}

// execute deletes the previous object if the policy asks, creates the hook's object and waits until it
// has finished.
func (r *Runner) execute(ctx context.Context, run *hookRun, obj *unstructured.Unstructured) error {
	switch {
	case run.hook.isCRD():
	case run.hook.HasDeletePolicy(BeforeHookCreation):
		run.stage = "deleting the previous object"
		if err := r.deleteAndWait(ctx, run.res.Ref); err != nil {
			return run.error(ReasonDeleteFailed, "deleting the previous object: "+err.Error(), err)
		}
	default:
		run.stage = "deleting the leftover object of a previous run"
		if err := r.removeLeftover(ctx, run); err != nil {
			return run.error(ReasonDeleteFailed, "deleting the leftover object of a previous run: "+err.Error(), err)
		}
	}
	run.res.LastRun = LastRun{StartedAt: r.now(), Phase: PhaseRunning}
	run.stage = "creating the object"
	if err := r.create(ctx, run.hook, obj); err != nil {
		return run.error(ReasonCreateFailed, err.Error(), err)
	}
	run.created, run.uid = true, string(obj.GetUID())
	if !waits(obj.GroupVersionKind().GroupKind()) {
		return nil
	}
	run.stage = ""
	st, err := r.waitDone(ctx, obj, func(st state) { run.last = st.message })
	switch {
	case err != nil:
		return run.error(ReasonWaitFailed, err.Error(), err)
	case st.failed:
		return run.error(ReasonFailed, st.message, nil)
	}
	return nil
}

// prepare copies the hook's object and stamps it the way every object of the release is stamped:
// Helm's ownership metadata, and the release namespace when it names none.
func (r *Runner) prepare(h Hook) (*unstructured.Unstructured, error) {
	if h.Object == nil {
		return nil, errors.New("the hook has no object")
	}
	obj := h.Object.DeepCopy()
	if err := r.applier.Prepare([]*unstructured.Unstructured{obj}); err != nil {
		return nil, err
	}
	return obj, nil
}

// create writes the hook's object. It is a create, not an apply, as in Helm: a leftover object of a hook
// without before-hook-creation makes the hook fail instead of being silently reused. A CRD, which no
// policy ever deletes, is applied so that the hook can run again.
func (r *Runner) create(ctx context.Context, h Hook, obj *unstructured.Unstructured) error {
	if h.isCRD() {
		cfg := obj.DeepCopy()
		cfg.SetResourceVersion("")
		return r.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(cfg), client.FieldOwner(apply.FieldManager))
	}
	return r.client.Create(ctx, obj, client.FieldOwner(apply.FieldManager))
}

func (r *Runner) finish(run *hookRun, phase Phase) {
	now := r.now()
	if run.res.LastRun.StartedAt.IsZero() {
		run.res.LastRun.StartedAt = now
	}
	run.res.LastRun.CompletedAt = now
	run.res.LastRun.Phase = phase
}

func (run *hookRun) error(reason, message string, err error) *Error {
	return &Error{Event: run.ev, Hook: run.hook.Name, Ref: run.res.Ref, Reason: reason, Message: oneLine(message), Err: err}
}

func (run *hookRun) timedOut() *Error {
	msg := "did not finish within " + run.timeout.String()
	switch {
	case run.stage != "":
		msg += " (" + run.stage + ")"
	case run.last != "":
		msg += " (last seen: " + run.last + ")"
	}
	return run.error(ReasonTimeout, msg, context.DeadlineExceeded)
}

// withTimeout bounds ctx by timeout when timeout is positive.
func withTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}
