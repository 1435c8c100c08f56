package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

const output = `goos: linux
goarch: amd64
pkg: github.com/capstan-dev/capstan/test/scale
BenchmarkReleasesToReady-2   	       1	61234567890 ns/op	        25.10 heap-MiB	      1000 releases	        0.06123 s/release	        61.23 s-to-all-ready
BenchmarkRender-2            	     100	  1438000 ns/op	 1438000 B/op	   12843 allocs/op
BenchmarkTemplate/cert-manager/ci-values-2 	       5	 360000000 ns/op
BenchmarkRender-2 1 is not a result line
PASS
ok  	github.com/capstan-dev/capstan/test/scale	75.1s
`

const thresholds = `
benchmarks:
- name: BenchmarkReleasesToReady
  releases: 1000
  metrics:
    s-to-all-ready: {measured: 61, max: 92, quoted: README.md}
    heap-MiB: {measured: 25, max: 38, quoted: README.md}
- name: BenchmarkReleasesToReady
  releases: 100
  metrics:
    s-to-all-ready: {measured: 6, max: 9}
`

func TestParseResults(t *testing.T) {
	g := NewWithT(t)
	rs, err := ParseResults(strings.NewReader(output))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rs).To(HaveLen(3), "the line that is not a result is skipped")
	g.Expect(rs[0].Name).To(Equal("BenchmarkReleasesToReady"))
	g.Expect(rs[0].Metrics).To(HaveKeyWithValue("releases", 1000.0))
	g.Expect(rs[0].Metrics).To(HaveKeyWithValue("s-to-all-ready", 61.23))
	g.Expect(rs[0].Units).To(Equal([]string{"ns/op", "heap-MiB", "releases", "s/release", "s-to-all-ready"}))
	g.Expect(rs[1].Metrics).To(HaveKeyWithValue("allocs/op", 12843.0))
	g.Expect(rs[2].Name).To(Equal("BenchmarkTemplate/cert-manager/ci-values"))
}

func TestCompare(t *testing.T) {
	cases := map[string]struct {
		output     string
		wantFailed int
		wantRow    string
	}{
		"figures within their thresholds pass; the N=100 thresholds are reported as not run": {
			output: output, wantFailed: 0, wantRow: "BenchmarkReleasesToReady (releases=100)",
		},
		"a slower run past 1.5x fails": {
			output:     strings.Replace(output, "61.23 s-to-all-ready", "95.00 s-to-all-ready", 1),
			wantFailed: 1, wantRow: "REGRESSED",
		},
		"a bigger heap fails": {
			output:     strings.Replace(output, "25.10 heap-MiB", "40.00 heap-MiB", 1),
			wantFailed: 1, wantRow: "REGRESSED",
		},
		"a run at another N is checked against that N's thresholds": {
			output:     strings.Replace(strings.Replace(output, "1000 releases", "100 releases", 1), "61.23 s-to-all-ready", "9.5 s-to-all-ready", 1),
			wantFailed: 1, wantRow: "BenchmarkReleasesToReady (releases=1000)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			th, err := parseThresholds([]byte(thresholds))
			g.Expect(err).NotTo(HaveOccurred())
			rs, err := ParseResults(strings.NewReader(tc.output))
			g.Expect(err).NotTo(HaveOccurred())
			rows, failed := Compare(rs, th)
			g.Expect(failed).To(Equal(tc.wantFailed))
			var buf bytes.Buffer
			WriteTable(&buf, rows)
			g.Expect(buf.String()).To(ContainSubstring(tc.wantRow))
		})
	}
}

func TestParseThresholds_rejectsAThresholdBelowTheMeasurement(t *testing.T) {
	g := NewWithT(t)
	_, err := parseThresholds([]byte("benchmarks:\n- name: B\n  metrics:\n    s: {measured: 10, max: 5}\n"))
	g.Expect(err).To(MatchError(ContainSubstring("at least the measured")))
	_, err = parseThresholds([]byte("benchmarks:\n- name: B\n  metrics:\n    s: {measured: 10, maximum: 15}\n"))
	g.Expect(err).To(HaveOccurred(), "unknown fields are refused")
}

func TestRun_exitsWithAnErrorOnRegression(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	th, out := filepath.Join(dir, "t.yaml"), filepath.Join(dir, "bench.txt")
	g.Expect(os.WriteFile(th, []byte(thresholds), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(out, []byte(strings.Replace(output, "25.10 heap-MiB", "40.00 heap-MiB", 1)), 0o600)).To(Succeed())
	var buf bytes.Buffer
	g.Expect(run(th, []string{out}, &buf)).To(MatchError(ContainSubstring("1 figure(s) regressed")))
	g.Expect(buf.String()).To(ContainSubstring("heap-MiB"))
}

func TestThresholdsFile_parses(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "thresholds.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = parseThresholds(data)
	g.Expect(err).NotTo(HaveOccurred())
}
