package engine

import (
	"math/rand/v2"
	"runtime"
	"unsafe"
	"weak"
)

// Accounting of the bytes a render still holds. Every string a function builds (include, tpl,
// printf, repeat, the encoders, …) is charged when it is built; text/template keeps such values
// in variables, and templates put them into lists, maps and .Values, where nothing tells us when
// they are dropped. So the budget keeps a weak pointer to each string it charged: once the
// template holds a string no more, the garbage collector clears the pointer, and the bytes stop
// counting. Between garbage collections the estimate also counts strings already dropped, so it
// only ever over-counts; when it goes past Limits.MaxLiveBytes, the budget runs a collection and
// counts again, and only what is really still reachable can fail the render.
const (
	// sampleBytes is the size from which every built string is tracked on its own. A shorter
	// string is tracked with probability len/sampleBytes and then stands for sampleBytes bytes,
	// so that many short strings are counted without a weak pointer each (as the heap profiler
	// samples). The tracking itself costs about 80 bytes per tracked string: under 8%.
	sampleBytes = 1024
	// setEntryCost is what one new key costs a map that set grows, besides the key's bytes.
	setEntryCost = 64
)

// liveEntry is one tracked string: a weak pointer to its bytes and the bytes it stands for.
type liveEntry struct {
	p weak.Pointer[byte]
	n int64
}

// liveSet is the part of a render's budget that counts held bytes. It is used by the render
// goroutine only.
type liveSet struct {
	entries []liveEntry
	// tracked is the sum of the entries' n: reachable at the last sweep, or built since.
	tracked int64
	// grown counts bytes set added to maps. Maps are not tracked, so this only grows.
	grown int64
	// sinceSweep counts bytes tracked since the last sweep; sweeps is how many ran.
	sinceSweep int64
	sweeps     int
	// peak is the largest held estimate a sweep confirmed.
	peak int64
}

// track returns s, or a copy of s whose bytes the set now tracks. The copy is a fresh heap
// object, which a weak pointer needs (s itself may share the bytes of a constant or of a larger
// string).
func (l *liveSet) track(s string) string {
	n := int64(len(s))
	if n == 0 {
		return s
	}
	if n < sampleBytes {
		if rand.Int64N(sampleBytes) >= n { //nolint:gosec // G404: sampling needs no cryptographic randomness.
			return s
		}
		n = sampleBytes
	}
	buf := make([]byte, len(s))
	copy(buf, s)
	l.entries = append(l.entries, liveEntry{p: weak.Make(&buf[0]), n: n})
	l.tracked += n
	l.sinceSweep += n
	return unsafe.String(&buf[0], len(buf)) //nolint:gosec // G103: buf is never written again; the string owns it.
}

// sweep collects garbage and drops the entries whose strings nobody holds any more, and returns
// what is still held.
func (l *liveSet) sweep() int64 {
	runtime.GC()
	kept := l.entries[:0]
	var total int64
	for _, e := range l.entries {
		if e.p.Value() != nil {
			kept = append(kept, e)
			total += e.n
		}
	}
	clear(l.entries[len(kept):])
	l.entries = kept
	l.tracked = total
	l.sinceSweep = 0
	l.sweeps++
	return total
}

// held is the estimate of the bytes the render holds: tracked strings (some perhaps dropped
// since the last sweep), the growth of maps, and the rendered output.
func (b *budget) held() int64 {
	return b.live.tracked + b.live.grown + b.output
}

// checkHeld fails the render once it holds more than MaxLiveBytes. A sweep (a full garbage
// collection) runs only when the estimate is over the limit and at least an eighth of the limit
// was built since the last sweep, so a render causes at most 8 collections per MaxLiveBytes it
// builds; in between, the estimate may pass the limit by that eighth.
func (b *budget) checkHeld(fn string) error {
	limit := b.limits.MaxLiveBytes
	if b.held() <= limit || b.live.sinceSweep < limit/8 {
		return nil
	}
	b.live.sweep()
	held := b.held()
	b.live.peak = max(b.live.peak, held)
	if held > limit {
		return b.exceeded("%s: the render holds about %d bytes in template variables, lists, maps and output, more than %d bytes (Limits.MaxLiveBytes, the render memory budget)",
			fn, held, limit)
	}
	return nil
}

// keep charges a string a function built, tracks it, and checks the bytes held.
func (b *budget) keep(fn, s string) (string, error) {
	if err := b.charge(fn, len(s)); err != nil {
		return "", err
	}
	s = b.live.track(s)
	if err := b.checkHeld(fn); err != nil {
		return "", err
	}
	return s, nil
}

// grow charges bytes added to a map.
func (b *budget) grow(fn string, n int64) error {
	b.live.grown += n
	b.live.sinceSweep += n
	return b.checkHeld(fn)
}
