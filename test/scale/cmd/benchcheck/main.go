// Command benchcheck reads `go test -bench` output, prints every benchmark figure in one table,
// and fails when a figure named in a thresholds file is past its threshold. `make bench` runs it
// over the output of the rendering, repository and scale benchmarks with
// test/scale/thresholds.yaml.
//
//	benchcheck -thresholds test/scale/thresholds.yaml bench.txt
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	thresholds := flag.String("thresholds", "test/scale/thresholds.yaml", "YAML file of recorded thresholds")
	flag.Parse()
	if err := run(*thresholds, flag.Args(), os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "benchcheck: %v\n", err)
		os.Exit(1)
	}
}

// run checks the benchmark output files against the thresholds and writes the table to w.
func run(thresholdsPath string, outputs []string, w io.Writer) error {
	if len(outputs) == 0 {
		return fmt.Errorf("no benchmark output given")
	}
	spec, err := os.ReadFile(thresholdsPath)
	if err != nil {
		return err
	}
	th, err := parseThresholds(spec)
	if err != nil {
		return fmt.Errorf("%s: %w", thresholdsPath, err)
	}
	var results []Result
	for _, path := range outputs {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		rs, err := ParseResults(f)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		results = append(results, rs...)
	}
	rows, failed := Compare(results, th)
	WriteTable(w, rows)
	if failed > 0 {
		return fmt.Errorf("%d figure(s) regressed past their threshold in %s", failed, thresholdsPath)
	}
	return nil
}
