package repo

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// generatedIndex writes a realistic index of charts*versions entries: descriptions,
// maintainers, keywords, annotations and dependencies included, as public repositories have.
func generatedIndex(charts, versions int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	for c := range charts {
		fmt.Fprintf(&b, "  chart-%03d:\n", c)
		for v := range versions {
			fmt.Fprintf(&b, `  - annotations:
      category: Infrastructure
      licenses: Apache-2.0
    apiVersion: v2
    appVersion: %d.%d.0
    created: "2024-01-%02dT10:00:00.000000000Z"
    dependencies:
    - name: common
      repository: oci://registry.example.com/charts
      tags: [bitnami-common]
      version: 2.x.x
    description: Chart number %d is a long description of what this chart deploys and why, as real ones are.
    digest: %064x
    home: https://example.com/charts/chart-%03d
    icon: https://example.com/icons/chart-%03d.svg
    keywords: [web, http, proxy, server]
    maintainers:
    - name: Example Maintainers
      url: https://github.com/example/charts
    name: chart-%03d
    sources: [https://github.com/example/charts/tree/main/chart-%03d]
    urls:
    - https://charts.example.com/chart-%03d-%d.%d.%d.tgz
    version: %d.%d.%d
`, v/10, v%10, v%28+1, c, c*1000+v, c, c, c, c, c, v/100, (v/10)%10, v%10, v/100, (v/10)%10, v%10)
		}
	}
	b.WriteString("generated: \"2024-01-01T00:00:00Z\"\n")
	return []byte(b.String())
}

// BenchmarkParseIndex parses an index of 10,000 chart versions. Besides time and allocations it
// reports heap-B: the heap still held by the parsed index once the parse's garbage is gone.
func BenchmarkParseIndex(b *testing.B) {
	data := generatedIndex(100, 100)
	held := heapHeldBy(b, data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, _, err := ParseIndex(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(data)), "index-B")
	b.ReportMetric(float64(held), "heap-B")
}

// cpuTime is the process's user and system CPU time. On a shared machine wall time says more
// about the neighbours than about the code; CPU time per operation does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapHeldBy(b *testing.B, data []byte) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	idx, _, err := ParseIndex(bytes.NewReader(data), 0)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if idx.Stats().Versions != 10000 {
		b.Fatalf("parsed %d versions", idx.Stats().Versions)
	}
	runtime.KeepAlive(idx)
	return after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
}

// BenchmarkHTTPRepository_Index compares fetching the same 10,000-version index from a loopback
// server: answered 304 from the cache, downloaded but found in the cache by digest, and
// downloaded and parsed every time.
func BenchmarkHTTPRepository_Index(b *testing.B) {
	data := generatedIndex(100, 100)
	cases := map[string]struct {
		validators bool
		freshCache bool
	}{
		"304 not modified":          {validators: true},
		"downloaded, cached digest": {},
		"downloaded and parsed":     {freshCache: true},
	}
	for name, tc := range cases {
		b.Run(name, func(b *testing.B) {
			srv := newRepoServer(b)
			srv.set(func(s *repoServer) { s.etag = tc.validators })
			if !tc.validators {
				srv.set(func(s *repoServer) { s.modTime = time.Time{} })
			}
			srv.put("/index.yaml", data)
			r, err := NewHTTPRepository(srv.URL, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Index(context.Background()); err != nil { // warm the cache.
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if tc.freshCache {
					r.cache = NewIndexCache(0)
				}
				if _, err := r.Index(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
