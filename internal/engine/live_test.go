package engine

import (
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// peakHeap runs f while sampling the bytes of live and not yet swept heap objects every
// millisecond, and returns the largest growth over the level before f.
func peakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	base := read()
	peak := base
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				peak = max(peak, read())
			}
		}
	}()
	f()
	close(done)
	<-stopped
	peak = max(peak, read())
	return peak - base
}

// TestRender_memoryBudget: templates that keep what they build fail once they hold more than
// Limits.MaxLiveBytes, within a bounded heap; templates that only churn (build and drop) pass,
// however much they build in total.
func TestRender_memoryBudget(t *testing.T) {
	const budget = 32 << 20
	cases := map[string]struct {
		tmpl    string
		wantErr bool
	}{
		"medium strings appended to a list in a variable": {
			tmpl: `{{ $l := list }}{{ range until 100000 }}{{ $l = append $l (repeat 1000000 "x") }}{{ end }}`, wantErr: true},
		"strings kept in a map by set": {
			tmpl: `{{ $d := dict }}{{ range $i := until 100000 }}{{ $_ := set $d (toString $i) (repeat 100000 "x") }}{{ end }}`, wantErr: true},
		"short strings kept in a map (sampled)": {
			tmpl: `{{ $d := dict }}{{ range $i := until 1000 }}{{ range $j := until 1000 }}{{ $_ := set $d (printf "%d-%d" $i $j) (repeat 500 "y") }}{{ end }}{{ end }}`, wantErr: true},
		"strings kept in .Values": {
			tmpl: `{{ range $i := until 100000 }}{{ $_ := set $.Values (printf "k%d" $i) (include "big" $) }}{{ end }}{{ define "big" }}{{ repeat 200000 "v" }}{{ end }}`, wantErr: true},
		"deep copies of the values kept in a list": {
			tmpl: `{{ $l := list }}{{ range until 100000 }}{{ $l = append $l (deepCopy $.Values) }}{{ end }}`, wantErr: true},
		"a string doubled in a variable": {
			tmpl: `{{ $x := "xxxxxxxx" }}{{ range until 64 }}{{ $x = print $x $x }}{{ end }}`, wantErr: true},
		"a variable replaced 3000 times holds one string": {
			tmpl: `{{ $x := "" }}{{ range until 3000 }}{{ $x = repeat 100000 "z" }}{{ end }}{{ len $x }}`},
		"lists built and dropped in a loop": {
			tmpl: `{{ range until 1000 }}{{ $l := list (repeat 100000 "a") (repeat 100000 "b") }}{{ $_ := join "," $l }}{{ end }}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			opts := templateOptions()
			opts.Timeout = 20 * time.Second
			opts.Limits = Limits{MaxLiveBytes: budget, MaxOutputBytes: budget / 4}
			var err error
			start := time.Now()
			peak := peakHeap(func() { _, err = renderTextWith(t, tc.tmpl, wideValues(), opts) })
			took := time.Since(start)
			t.Logf("budget %d MiB: peak heap growth %.1f MiB, %v, err: %v", budget>>20, float64(peak)/(1<<20), took.Round(time.Millisecond), err)
			g.Expect(peak).To(BeNumerically("<", 4*budget), "the heap stays within a few budgets")
			if !tc.wantErr {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ErrLimit))
			if !strings.Contains(err.Error(), "Limits.MaxOutputBytes") {
				g.Expect(err.Error()).To(ContainSubstring("more than 33554432 bytes (Limits.MaxLiveBytes, the render memory budget)"))
			}
		})
	}
}

// wideValues are 10,000 small entries: about 0.5 MiB once measured.
func wideValues() map[string]any {
	v := make(map[string]any, 10_000)
	for i := range 10_000 {
		v["key"+itoa(i)] = "value"
	}
	return v
}

func TestBudget_keepCountsOnlyHeldStrings(t *testing.T) {
	g := NewWithT(t)
	b := newBudget(Limits{MaxLiveBytes: 1 << 20})
	held := make([]string, 0, 8)
	for range 8 {
		s, err := b.keep("test", strings.Repeat("h", 64<<10))
		g.Expect(err).NotTo(HaveOccurred())
		held = append(held, s)
	}
	for range 100 {
		_, err := b.keep("test", strings.Repeat("d", 64<<10)) // dropped at once
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(b.live.sweeps).To(BeNumerically(">", 0))
	b.live.sweep()
	g.Expect(b.live.tracked).To(Equal(int64(8 * 64 << 10)))
	runtime.KeepAlive(held)

	held = held[:0]
	var err error
	for i := 0; err == nil && i < 100; i++ {
		var s string
		s, err = b.keep("test", strings.Repeat("k", 64<<10))
		held = append(held, s)
	}
	g.Expect(err).To(MatchError(ErrLimit))
	g.Expect(len(held)).To(BeNumerically("<=", 1<<20/(64<<10)+1+2), "fails within an eighth over the budget")
	runtime.KeepAlive(held)
}

func TestBudget_setChargesNewKeys(t *testing.T) {
	g := NewWithT(t)
	b := newBudget(Limits{})
	c := checked{b: b}
	d := map[string]any{}
	_, err := c.set(d, "key", 1)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.set(d, "key", 2)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(b.live.grown).To(Equal(int64(setEntryCost + 3)))
	g.Expect(d).To(HaveKeyWithValue("key", 2))
}
