package options

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Inputs and floors of the render memory budget (docs/engine.md, "Render memory budget").
const (
	// assumedMemoryLimit stands in for the manager's memory limit when none is set or found.
	assumedMemoryLimit int64 = 1 << 30
	// otherMemory is kept, beside the index and archive caches (--index-cache-size,
	// --archive-cache-size), for informer caches, clients and the runtime.
	otherMemory int64 = 128 * mib
	// minRenderBudget is the smallest budget a render gets, whatever the arithmetic says.
	minRenderBudget int64 = 16 * mib
	// maxRenderOutput caps the output share of a budget at the engine's own default.
	maxRenderOutput int64 = 100 * mib
)

// RenderBudget is the memory one render may use, and how it was derived.
type RenderBudget struct {
	// MemoryLimit is the manager's memory limit the budget was derived from.
	MemoryLimit int64
	// LimitSource says where MemoryLimit came from: flag, GOMEMLIMIT, cgroup or assumed.
	LimitSource string
	// PerRender is the budget of one render: the memory left after the reserve, shared by the
	// Releases reconciled at once.
	PerRender int64
	// MaxLiveBytes is what a render's templates may hold (half the budget).
	MaxLiveBytes int64
	// MaxOutputBytes is the largest rendered output (an eighth of the budget, at most 100 MiB),
	// checked while rendering, before the output is parsed.
	MaxOutputBytes int64
}

// RenderBudget derives the render memory budget from the manager's memory limit (MemoryLimit,
// else the smaller of GOMEMLIMIT and the cgroup's limit, else 1 GiB) and ReleaseConcurrency:
//
//	per render = max(16 MiB, (limit − min(reserve, limit/2)) / release concurrency)
//	reserve    = index cache + archive cache + 128 MiB (512 MiB with the default cache sizes)
//
// unless RenderMemoryBudget sets it. detected is what DetectMemoryLimit found (0: nothing).
func (o *Options) RenderBudget(detected int64, detectedSource string) RenderBudget {
	b := RenderBudget{MemoryLimit: o.MemoryLimit, LimitSource: "flag"}
	switch {
	case o.MemoryLimit > 0:
	case detected > 0:
		b.MemoryLimit, b.LimitSource = detected, detectedSource
	default:
		b.MemoryLimit, b.LimitSource = assumedMemoryLimit, "assumed"
	}
	b.PerRender = o.RenderMemoryBudget
	if b.PerRender <= 0 {
		spare := b.MemoryLimit - min(o.reservedMemory(), b.MemoryLimit/2)
		b.PerRender = max(minRenderBudget, spare/int64(max(o.ReleaseConcurrency, 1)))
	}
	b.MaxLiveBytes = b.PerRender / 2
	b.MaxOutputBytes = min(maxRenderOutput, b.PerRender/8)
	return b
}

// reservedMemory is what the budget keeps for everything but rendering: the two caches at their
// configured sizes and otherMemory.
func (o *Options) reservedMemory() int64 {
	return max(o.Limits.IndexCacheSize, 0) + max(o.Limits.ArchiveCacheSize, 0) + otherMemory
}

// DetectMemoryLimit returns the manager's memory limit as the process sees it: the smaller of
// GOMEMLIMIT (the Go runtime's soft limit) and the cgroup's memory limit (v2 memory.max, v1
// memory.limit_in_bytes), with where it came from; 0 when neither is set.
func DetectMemoryLimit() (int64, string) {
	limit, source := int64(0), ""
	if soft := debug.SetMemoryLimit(-1); soft > 0 && soft < math.MaxInt64 {
		limit, source = soft, "GOMEMLIMIT"
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if v, ok := readCgroupLimit(f); ok {
			if limit == 0 || v < limit {
				limit, source = v, "cgroup "+f
			}
			break
		}
	}
	return limit, source
}

// readCgroupLimit reads a cgroup memory limit file; "max" and the v1 "unlimited" value (a page
// count near 2^63) mean no limit.
func readCgroupLimit(path string) (int64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return parseCgroupLimit(string(data))
}

func parseCgroupLimit(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v >= 1<<62 {
		return 0, false
	}
	return v, true
}
