package chart

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// Regression tests for the archive classes of hardening.md §3.3 (C1–C9) and its §4.2 list, run
// with the default limits. Each measures what the load allocated, so a bomb that is stopped too
// late fails the test even when it is stopped.

// measure runs load and reports the bytes it allocated, how long it took, and its error.
func measure(load func() error) (uint64, time.Duration, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	err := load()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, elapsed, err
}

// zeroFileBomb is a gzip stream of files, each fileSize zero bytes, count of them, built from
// gzip members so that it costs little to make: about 1 KiB per MiB.
func zeroFileBomb(t *testing.T, count int, fileSize int64) []byte {
	var b bytes.Buffer
	b.Write(gz(t, tarBytes(t, reg("bomb/Chart.yaml", chartYAML))[:1024]))
	body := gz(t, make([]byte, fileSize))
	for i := range count {
		hd := &tar.Header{Name: fmt.Sprintf("bomb/files/%04d", i), Typeflag: tar.TypeReg, Mode: 0o644, Size: fileSize}
		b.Write(gz(t, rawHeader(t, hd)))
		b.Write(body)
	}
	return b.Bytes()
}

func TestHardening_archiveBombs(t *testing.T) {
	const mib = 1 << 20
	cases := map[string]struct {
		archive  func(t *testing.T) []byte
		wantErr  string
		maxAlloc uint64
	}{
		"an 800x gzip bomb: 1.3 MiB of gzip, 1 GiB of 4 MiB files": {
			archive:  func(t *testing.T) []byte { return zeroFileBomb(t, 256, 4*mib) },
			wantErr:  "decompressed chart is larger than the maximum size 104857600",
			maxAlloc: 160 * mib,
		},
		"one entry claiming a gigabyte": {
			archive: func(t *testing.T) []byte {
				hd := &tar.Header{Name: "bomb/files/huge", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 30}
				return append(gz(t, rawHeader(t, hd)), zeroMembers(t, 1<<30)...)
			},
			wantErr:  `decompressed chart file "files/huge" is larger than the maximum file size 5242880`,
			maxAlloc: 8 * mib,
		},
		"a header saying one byte, followed by a gigabyte of data": {
			archive: func(t *testing.T) []byte {
				hd := rawHeader(t, &tar.Header{Name: "bomb/a", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
				junk := gz(t, bytes.Repeat([]byte("A"), 1<<20))
				return append(gz(t, append(hd, "a"...)), bytes.Repeat(junk, 1024)...)
			},
			wantErr:  "archive/tar: invalid tar header",
			maxAlloc: 8 * mib,
		},
		"a file of 5 MiB and one byte": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("bomb/Chart.yaml", chartYAML), reg("bomb/values.schema.json", strings.Repeat(" ", 5*mib+1)))
			},
			wantErr:  `decompressed chart file "values.schema.json" is larger than the maximum file size 5242880`,
			maxAlloc: 16 * mib,
		},
		"20,001 empty entries": {
			archive: func(t *testing.T) []byte {
				entries := []tarEntry{reg("bomb/Chart.yaml", chartYAML)}
				for i := range 20000 {
					entries = append(entries, reg(fmt.Sprintf("bomb/f/%d", i), ""))
				}
				return tgz(t, entries...)
			},
			wantErr:  "chart has more than the maximum of 20000 files and directories",
			maxAlloc: 64 * mib,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			archive := tc.archive(t)
			alloc, took, err := measure(func() error {
				_, err := LoadBytes(archive, DefaultLimits())
				return err
			})
			t.Logf("%d bytes of archive: failed after %v, %.1f MiB allocated", len(archive), took, float64(alloc)/mib)
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			g.Expect(alloc).To(BeNumerically("<", tc.maxAlloc))
		})
	}
}

func TestHardening_aFileOfExactlyTheLimitLoads(t *testing.T) {
	g := NewWithT(t)
	archive := tgz(t, reg("c/Chart.yaml", chartYAML), reg("c/values.schema.json", strings.Repeat(" ", 5<<20)))
	c, err := LoadBytes(archive, DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Schema).To(HaveLen(5 << 20))
}

func TestHardening_badChartNames(t *testing.T) {
	for _, name := range []string{".", "..", "../../x", "a/b", `a\b`, "/abs"} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := LoadBytes(chartTgz(t, "c", map[string]string{
				"Chart.yaml": fmt.Sprintf("apiVersion: v2\nname: %q\nversion: 1.0.0\n", name),
			}), DefaultLimits())
			var verr ValidationError
			g.Expect(errors.As(err, &verr)).To(BeTrue(), "got %v", err)
			g.Expect(err.Error()).To(ContainSubstring("chart.metadata.name"))
		})
	}
}
