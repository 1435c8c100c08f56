package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// Result is one benchmark line of `go test -bench` output: its name (without the -GOMAXPROCS
// suffix) and every value/unit pair it reported.
type Result struct {
	Name    string
	Metrics map[string]float64
	// Units keeps the order the benchmark reported its metrics in.
	Units []string
}

// benchLine matches "BenchmarkName-2   	 1	 123 ns/op	 4.5 unit ...".
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// ParseResults reads every benchmark line of r.
func ParseResults(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		fields := strings.Fields(m[3])
		if len(fields)%2 != 0 {
			continue // not a result line (a log line that happens to start with the name)
		}
		if res, ok := parseMetrics(m[1], fields); ok {
			out = append(out, res)
		}
	}
	return out, sc.Err()
}

// parseMetrics reads "value unit" pairs; a pair whose value is not a number means the line is not
// a result (a log line that starts with the benchmark's name), and it is skipped.
func parseMetrics(name string, fields []string) (Result, bool) {
	res := Result{Name: name, Metrics: map[string]float64{}}
	for i := 0; i < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return Result{}, false
		}
		res.Metrics[fields[i+1]] = v
		res.Units = append(res.Units, fields[i+1])
	}
	return res, true
}

// Thresholds are the recorded limits of test/scale/thresholds.yaml.
type Thresholds struct {
	// Benchmarks are the benchmarks with recorded figures.
	Benchmarks []BenchmarkThresholds `json:"benchmarks"`
}

// BenchmarkThresholds are the limits of one benchmark, for one value of its "releases" metric
// when Releases is set (the scale benchmark's figures depend on N).
type BenchmarkThresholds struct {
	// Name is the benchmark's name without the -GOMAXPROCS suffix.
	Name string `json:"name"`
	// Releases selects the results whose "releases" metric has this value; 0 matches any.
	Releases float64 `json:"releases,omitempty"`
	// Metrics maps a unit to its limit.
	Metrics map[string]Limit `json:"metrics"`
}

// Limit is a figure's threshold and what was measured when it was recorded.
type Limit struct {
	// Measured is the value measured when the threshold was recorded.
	Measured float64 `json:"measured"`
	// Max is the largest value that passes.
	Max float64 `json:"max"`
	// Quoted says where the figure is quoted, if anywhere (README.md, docs/...).
	Quoted string `json:"quoted,omitempty"`
}

func parseThresholds(data []byte) (*Thresholds, error) {
	th := &Thresholds{}
	if err := yaml.UnmarshalStrict(data, th); err != nil {
		return nil, err
	}
	for _, b := range th.Benchmarks {
		for unit, l := range b.Metrics {
			if l.Max <= 0 || l.Max < l.Measured {
				return nil, fmt.Errorf("%s %s: max %v must be positive and at least the measured %v", b.Name, unit, l.Max, l.Measured)
			}
		}
	}
	if len(th.Benchmarks) == 0 {
		return nil, errors.New("no benchmarks")
	}
	return th, nil
}

// Row is one figure of the table.
type Row struct {
	Benchmark string
	Unit      string
	Value     float64
	Limit     *Limit
	Verdict   string
}

// Compare turns results into table rows, one per figure, and counts the figures past their
// threshold. A threshold whose benchmark did not run is reported as "not run", not as a failure,
// so that a partial run (one package) can still be checked.
func Compare(results []Result, th *Thresholds) ([]Row, int) {
	var rows []Row
	failed := 0
	matched := map[int]bool{}
	for _, res := range results {
		limits, idx := limitsFor(res, th)
		if idx >= 0 {
			matched[idx] = true
		}
		name := res.Name
		if n, ok := res.Metrics["releases"]; ok {
			name = fmt.Sprintf("%s (releases=%g)", res.Name, n)
		}
		for _, unit := range res.Units {
			if unit == "releases" {
				continue // in the name
			}
			row := Row{Benchmark: name, Unit: unit, Value: res.Metrics[unit], Verdict: "-"}
			if l, ok := limits[unit]; ok {
				row.Limit = &l
				row.Verdict = "ok"
				if row.Value > l.Max {
					row.Verdict = "REGRESSED"
					failed++
				}
			}
			rows = append(rows, row)
		}
	}
	for i, b := range th.Benchmarks {
		if matched[i] {
			continue
		}
		units := make([]string, 0, len(b.Metrics))
		for u := range b.Metrics {
			units = append(units, u)
		}
		sort.Strings(units)
		for _, u := range units {
			l := b.Metrics[u]
			rows = append(rows, Row{Benchmark: nameWithReleases(b), Unit: u, Value: -1, Limit: &l, Verdict: "not run"})
		}
	}
	return rows, failed
}

// limitsFor finds the thresholds of a result and their index, or nil and -1.
func limitsFor(res Result, th *Thresholds) (map[string]Limit, int) {
	for i, b := range th.Benchmarks {
		if b.Name != res.Name {
			continue
		}
		if b.Releases != 0 && res.Metrics["releases"] != b.Releases {
			continue
		}
		return b.Metrics, i
	}
	return nil, -1
}

func nameWithReleases(b BenchmarkThresholds) string {
	if b.Releases == 0 {
		return b.Name
	}
	return fmt.Sprintf("%s (releases=%g)", b.Name, b.Releases)
}

// WriteTable prints the rows as one aligned table.
func WriteTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tUNIT\tVALUE\tMEASURED\tTHRESHOLD\tVERDICT\tQUOTED")
	for _, r := range rows {
		value, measured, limit, quoted := "-", "-", "-", "-"
		if r.Value >= 0 {
			value = strconv.FormatFloat(r.Value, 'g', 6, 64)
		}
		if r.Limit != nil {
			measured = strconv.FormatFloat(r.Limit.Measured, 'g', 6, 64)
			limit = strconv.FormatFloat(r.Limit.Max, 'g', 6, 64)
			if r.Limit.Quoted != "" {
				quoted = r.Limit.Quoted
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Benchmark, r.Unit, value, measured, limit, r.Verdict, quoted)
	}
	_ = tw.Flush()
}
