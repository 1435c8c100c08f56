package engine

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrTimeout reports a render stopped by its deadline.
var ErrTimeout = errors.New("render timed out")

// ErrLimit reports a render stopped because it went past one of its Limits.
var ErrLimit = errors.New("render limit exceeded")

// Limits bound what one render may do. A zero field takes its default.
type Limits struct {
	// MaxOutputBytes caps the total rendered output and the size of any single value a function
	// builds. Default 100 MiB.
	MaxOutputBytes int64
	// MaxBuiltBytes caps the total bytes built by include, tpl and the checked string functions
	// during one render, whether still held or not: it bounds the work. Default 1 GiB.
	MaxBuiltBytes int64
	// MaxLiveBytes caps the bytes a render holds at any time: the strings its functions built
	// that are still reachable (from variables, lists, maps, .Values), the growth of maps by set,
	// and the rendered output. It is the render's memory budget. Default 512 MiB.
	MaxLiveBytes int64
	// MaxListLength caps the lists until, untilStep, seq, concat and the split functions build and
	// the length of random strings. Default 1,000,000.
	MaxListLength int
	// MaxTemplateDepth caps how deeply templates, includes and tpl calls nest. Default 3,000 (an
	// include level takes about 7 KiB of stack).
	MaxTemplateDepth int
	// MaxValueDepth caps how deeply nested a value may be when printed or encoded. Default 10,000.
	MaxValueDepth int
	// MaxSteps caps the range iterations plus template executions of one render. Default 10,000,000.
	MaxSteps int64
}

// Default limits.
const (
	defaultTimeout          = 30 * time.Second
	defaultMaxIncludeDepth  = 1000
	defaultMaxOutputBytes   = 100 << 20
	defaultMaxBuiltBytes    = 1 << 30
	defaultMaxLiveBytes     = 512 << 20
	defaultMaxListLength    = 1_000_000
	defaultMaxTemplateDepth = 3_000
	defaultMaxValueDepth    = 10_000
	defaultMaxSteps         = 10_000_000
)

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = defaultMaxOutputBytes
	}
	if l.MaxBuiltBytes <= 0 {
		l.MaxBuiltBytes = defaultMaxBuiltBytes
	}
	if l.MaxLiveBytes <= 0 {
		l.MaxLiveBytes = defaultMaxLiveBytes
	}
	if l.MaxListLength <= 0 {
		l.MaxListLength = defaultMaxListLength
	}
	if l.MaxTemplateDepth <= 0 {
		l.MaxTemplateDepth = defaultMaxTemplateDepth
	}
	if l.MaxValueDepth <= 0 {
		l.MaxValueDepth = defaultMaxValueDepth
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = defaultMaxSteps
	}
	return l
}

// budget is the state one render shares between its worker goroutine, which charges it, and the
// caller's goroutine, which may stop it. Only stopped and cause are touched by both.
type budget struct {
	limits Limits

	stopped atomic.Bool
	mu      sync.Mutex
	cause   error

	output int64
	built  int64
	live   liveSet
	steps  int64
	depth  int
}

func newBudget(l Limits) *budget {
	return &budget{limits: l.withDefaults()}
}

// stop makes every later check fail with err; the first cause wins.
func (b *budget) stop(err error) {
	b.mu.Lock()
	if b.cause == nil {
		b.cause = err
	}
	b.mu.Unlock()
	b.stopped.Store(true)
}

// err returns why the render was stopped, or nil.
func (b *budget) err() error {
	if !b.stopped.Load() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cause
}

// exceeded stops the render for going past a limit and returns the error to report.
func (b *budget) exceeded(format string, args ...any) error {
	err := fmt.Errorf("%w: %s", ErrLimit, fmt.Sprintf(format, args...))
	b.stop(err)
	return err
}

// step counts one range iteration or template execution.
func (b *budget) step() error {
	if err := b.err(); err != nil {
		return err
	}
	b.steps++
	if b.steps > b.limits.MaxSteps {
		return b.exceeded("more than %d range iterations and template calls (Limits.MaxSteps)", b.limits.MaxSteps)
	}
	return nil
}

// value checks the estimated size of a value a function is about to build.
func (b *budget) value(fn string, size int64) error {
	if err := b.err(); err != nil {
		return err
	}
	if size > b.limits.MaxOutputBytes || size < 0 {
		return b.exceeded("%s would build about %s, more than %d bytes (Limits.MaxOutputBytes)",
			fn, sizeText(size), b.limits.MaxOutputBytes)
	}
	return nil
}

// charge adds the size of a value a function built to the render's total.
func (b *budget) charge(fn string, size int) error {
	b.built += int64(size)
	if b.built > b.limits.MaxBuiltBytes {
		return b.exceeded("%s: the render built more than %d bytes in total (Limits.MaxBuiltBytes)", fn, b.limits.MaxBuiltBytes)
	}
	return nil
}

// list checks the length of a list a function is about to build.
func (b *budget) list(fn string, n uint64) error {
	if err := b.err(); err != nil {
		return err
	}
	if n > uint64(b.limits.MaxListLength) { //nolint:gosec // withDefaults makes MaxListLength positive.
		return b.exceeded("%s would build %d elements, more than %d (Limits.MaxListLength)", fn, n, b.limits.MaxListLength)
	}
	return nil
}

// sizeText prints a size estimate, which may have overflowed.
func sizeText(n int64) string {
	if n < 0 {
		return "more than 2^63 bytes"
	}
	return fmt.Sprintf("%d bytes", n)
}

// outputWriter collects one template's output and charges it to the render's output total.
type outputWriter struct {
	b   *budget
	buf strings.Builder
	max int64 // largest size of this buffer alone
	out bool  // whether writes count towards the rendered output total
}

// Write implements io.Writer.
func (w *outputWriter) Write(p []byte) (int, error) {
	if err := w.b.err(); err != nil {
		return 0, err
	}
	n := int64(len(p))
	if int64(w.buf.Len())+n > w.max {
		return 0, w.b.exceeded("a template or include produced more than %d bytes (Limits.MaxOutputBytes)", w.max)
	}
	if w.out {
		w.b.output += n
		if w.b.output > w.b.limits.MaxOutputBytes {
			return 0, w.b.exceeded("the rendered output is larger than %d bytes (Limits.MaxOutputBytes)", w.b.limits.MaxOutputBytes)
		}
		if err := w.b.checkHeld("output"); err != nil {
			return 0, err
		}
	}
	return w.buf.Write(p)
}
