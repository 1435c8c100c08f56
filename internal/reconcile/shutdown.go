package reconcile

import (
	"context"
	"errors"
	"time"
)

// recordTimeout bounds the writes that record an outcome after the reconcile's own context may be
// gone: a record's final status and the Release's status.
const recordTimeout = 5 * time.Second

// errShuttingDown stops a reconcile that the manager's shutdown interrupted between two steps.
var errShuttingDown = errors.New("the manager is shutting down")

type shutdownKey struct{}

// Graceful returns the context of one reconcile. It is not cancelled when parent is (the manager
// got SIGTERM and cancels every reconcile): the reconcile learns of it through ShuttingDown,
// starts no new step, finishes the one it is in and records the outcome; only grace after parent
// is cancelled is the returned context cancelled too. Choose grace so that grace plus the
// recording fits in the manager's --graceful-shutdown-timeout. Call the cancel function when the
// reconcile ends.
func Graceful(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(parent), shutdownKey{}, parent.Done()))
	stop := context.AfterFunc(parent, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-ctx.Done():
		}
	})
	return ctx, func() {
		stop()
		cancel()
	}
}

// ShuttingDown reports whether the manager is shutting down under a context from Graceful.
func ShuttingDown(ctx context.Context) bool {
	done, ok := ctx.Value(shutdownKey{}).(<-chan struct{})
	if !ok {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// Fresh returns a context for recording an outcome: ctx's values without its cancellation,
// bounded by recordTimeout.
func Fresh(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// ShutdownGrace is how long a reconcile may go on working after the manager began to shut down,
// given the manager's graceful shutdown timeout: what is left after recording the outcome.
func ShutdownGrace(timeout time.Duration) time.Duration {
	return max(timeout-2*recordTimeout, time.Second)
}
