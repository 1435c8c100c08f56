package options

import (
	"runtime/debug"
	"testing"

	. "github.com/onsi/gomega"
)

func TestOptions_RenderBudget(t *testing.T) {
	const gib = 1 << 30
	cases := map[string]struct {
		mutate   func(*Options)
		detected int64
		want     RenderBudget
	}{
		"config/default: 1 GiB cgroup limit, 4 Releases at once": {
			detected: gib,
			want: RenderBudget{MemoryLimit: gib, LimitSource: "cgroup", PerRender: 128 * mib,
				MaxLiveBytes: 64 * mib, MaxOutputBytes: 16 * mib},
		},
		"nothing detected: 1 GiB is assumed": {
			want: RenderBudget{MemoryLimit: gib, LimitSource: "assumed", PerRender: 128 * mib,
				MaxLiveBytes: 64 * mib, MaxOutputBytes: 16 * mib},
		},
		"the flag wins over detection": {
			mutate: func(o *Options) { o.MemoryLimit = 4 * gib; o.ReleaseConcurrency = 8 }, detected: gib,
			want: RenderBudget{MemoryLimit: 4 * gib, LimitSource: "flag", PerRender: 448 * mib,
				MaxLiveBytes: 224 * mib, MaxOutputBytes: 56 * mib},
		},
		"a small limit keeps half for the rest": {
			mutate: func(o *Options) { o.ReleaseConcurrency = 2 }, detected: 256 * mib,
			want: RenderBudget{MemoryLimit: 256 * mib, LimitSource: "cgroup", PerRender: 64 * mib,
				MaxLiveBytes: 32 * mib, MaxOutputBytes: 8 * mib},
		},
		"a floor of 16 MiB": {
			mutate: func(o *Options) { o.ReleaseConcurrency = 64 }, detected: 256 * mib,
			want: RenderBudget{MemoryLimit: 256 * mib, LimitSource: "cgroup", PerRender: 16 * mib,
				MaxLiveBytes: 8 * mib, MaxOutputBytes: 2 * mib},
		},
		"smaller caches leave more to rendering": {
			mutate: func(o *Options) { o.Limits.IndexCacheSize, o.Limits.ArchiveCacheSize = 32*mib, 96*mib }, detected: gib,
			want: RenderBudget{MemoryLimit: gib, LimitSource: "cgroup", PerRender: 192 * mib,
				MaxLiveBytes: 96 * mib, MaxOutputBytes: 24 * mib},
		},
		"bigger caches leave less, down to half the limit": {
			mutate: func(o *Options) { o.Limits.ArchiveCacheSize = 2 * gib }, detected: 4 * gib,
			want: RenderBudget{MemoryLimit: 4 * gib, LimitSource: "cgroup", PerRender: 512 * mib,
				MaxLiveBytes: 256 * mib, MaxOutputBytes: 64 * mib},
		},
		"an explicit budget; output capped at 100 MiB": {
			mutate: func(o *Options) { o.RenderMemoryBudget = 2 * gib }, detected: gib,
			want: RenderBudget{MemoryLimit: gib, LimitSource: "cgroup", PerRender: 2 * gib,
				MaxLiveBytes: gib, MaxOutputBytes: 100 * mib},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			o := Defaults()
			if tc.mutate != nil {
				tc.mutate(&o)
			}
			g.Expect(o.RenderBudget(tc.detected, "cgroup")).To(Equal(tc.want))
		})
	}
}

func TestParseCgroupLimit(t *testing.T) {
	g := NewWithT(t)
	for in, want := range map[string]int64{"1073741824\n": 1 << 30, "max\n": 0, "9223372036854771712": 0, "": 0, "-1": 0} {
		v, ok := parseCgroupLimit(in)
		g.Expect(v).To(Equal(want), "%q", in)
		g.Expect(ok).To(Equal(want > 0), "%q", in)
	}
}

func TestDetectMemoryLimit(t *testing.T) {
	g := NewWithT(t)
	old := debug.SetMemoryLimit(300 * mib)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	limit, source := DetectMemoryLimit()
	g.Expect(limit).To(BeNumerically("<=", 300*mib), "GOMEMLIMIT, or a smaller cgroup limit")
	g.Expect(limit).To(BeNumerically(">", 0))
	if limit == 300*mib {
		g.Expect(source).To(Equal("GOMEMLIMIT"))
	} else {
		g.Expect(source).To(HavePrefix("cgroup "))
	}
}
