package repo

import (
	"context"
	"sync"
)

// flightGroup makes concurrent calls for the same key share one execution. Unlike a plain
// singleflight it respects each caller's context: a waiter stops waiting when its context ends,
// and when the leader's context ends first, a waiter whose context is still live runs fn itself.
type flightGroup[T any] struct {
	mu    sync.Mutex
	calls map[string]*flightCall[T]
}

type flightCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func (g *flightGroup[T]) do(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	for {
		c, leader := g.join(key)
		if leader {
			return g.lead(ctx, key, c, fn)
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		if c.err == nil || !isContextError(c.err) || ctx.Err() != nil {
			return c.val, c.err
		}
	}
}

func (g *flightGroup[T]) join(key string) (*flightCall[T], bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c, false
	}
	if g.calls == nil {
		g.calls = make(map[string]*flightCall[T])
	}
	c := &flightCall[T]{done: make(chan struct{})}
	g.calls[key] = c
	return c, true
}

func (g *flightGroup[T]) lead(ctx context.Context, key string, c *flightCall[T], fn func(context.Context) (T, error)) (T, error) {
	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
	return c.val, c.err
}
