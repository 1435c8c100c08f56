package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parity is one row of the parity table TestCorpus logs.
type parity struct {
	chart, set          string
	objects, bytesEqual string
}

// TestCorpus renders every chart and value set of corpus.yaml with `capstan template` and
// compares the result with helm's golden output byte for byte, after masking generated
// certificates and keys (the only documented mask). A difference fails the test, reported as
// the objects that differ, else the document order, else the bytes. Error cases must fail with
// helm's exact output. A parity table is logged, and a golden file no render produces fails.
func TestCorpus(t *testing.T) {
	corpus, err := LoadCorpus(CorpusFile)
	if err != nil {
		t.Fatal(err)
	}
	var table []parity
	goldens := map[string]bool{}
	for _, c := range corpus.Charts {
		t.Run(c.Name, func(t *testing.T) {
			dir, err := c.ChartDir(t.Context())
			if err != nil {
				t.Fatalf("fetch %s: %v", c.Module, err)
			}
			renders, err := c.Renders(dir)
			if err != nil {
				t.Fatal(err)
			}
			if shipped, _ := filepath.Glob(filepath.Join(dir, "ci", "*.yaml")); len(shipped) > 0 && c.CI == nil {
				t.Errorf("the chart ships %d ci/*.yaml files: set ci in corpus.yaml so they are rendered", len(shipped))
			}
			if sets := countSets(renders); sets < 3 {
				t.Errorf("%d value sets: every chart needs a default and at least two more", sets)
			}
			for _, r := range renders {
				goldens[c.GoldenPath(r)] = true
				t.Run(r.Name, func(t *testing.T) {
					if r.Fails {
						table = append(table, compareFailure(t, c, r))
						return
					}
					table = append(table, compareWithGolden(t, c, r))
				})
			}
		})
	}
	t.Log("\n" + formatParity(table))
	if !t.Failed() {
		checkNoStaleGoldens(t, goldens)
	}
}

func countSets(renders []Render) int {
	n := 0
	for _, r := range renders {
		if !r.Fails {
			n++
		}
	}
	return n
}

// checkNoStaleGoldens fails on a file under golden/ (lint goldens aside) that no render wrote.
func checkNoStaleGoldens(t *testing.T, want map[string]bool) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("golden", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if filepath.Base(filepath.Dir(f)) != "lint" && !want[f] {
			t.Errorf("%s belongs to no render of corpus.yaml: remove it", f)
		}
	}
}

// compareFailure runs an error case: capstan must fail, and print what helm printed.
func compareFailure(t *testing.T, c CorpusChart, r Render) parity {
	t.Helper()
	row := parity{chart: c.Name, set: r.Name, objects: "error differs", bytesEqual: "no"}
	want, err := os.ReadFile(c.GoldenPath(r))
	if err != nil {
		t.Fatalf("golden missing (run `make golden`): %v", err)
	}
	run := runTemplate(t.Context(), r.Args)
	if run.err == nil {
		t.Errorf("capstan template %s/%s succeeded; helm fails with:\n%s", c.Name, r.Name, want)
		return row
	}
	if got := run.combined(); got != string(want) {
		t.Errorf("capstan template %s/%s fails otherwise than helm (-helm +capstan):\n%s",
			c.Name, r.Name, clip(cmp.Diff(lines(string(want)), lines(got))))
		return row
	}
	row.objects, row.bytesEqual = "same error", "yes"
	return row
}

func compareWithGolden(t *testing.T, c CorpusChart, r Render) parity {
	t.Helper()
	row := parity{chart: c.Name, set: r.Name, objects: "differ", bytesEqual: "no"}
	want, err := os.ReadFile(c.GoldenPath(r))
	if err != nil {
		t.Fatalf("golden missing (run `make golden`): %v", err)
	}
	run := runTemplate(t.Context(), r.Args)
	if run.err != nil {
		t.Errorf("capstan template %s/%s failed: %v\nstderr:\n%s", c.Name, r.Name, run.err, run.stderr)
		row.objects = "error"
		return row
	}
	if run.stderr != "" {
		t.Logf("stderr:\n%s", run.stderr)
	}
	switch {
	case run.stdout == string(want):
		row.bytesEqual = "yes"
	case maskText(run.stdout) == maskText(string(want)):
		row.bytesEqual = "yes (masked)"
	}
	if diffObjects(string(want), run.stdout) == "" {
		row.objects = "same"
	}
	if diff := compareOutput(string(want), run.stdout); diff != "" {
		t.Errorf("capstan template %s/%s is not helm's output: %s", c.Name, r.Name, clip(diff))
	}
	return row
}

// compareOutput returns "" when capstan's output equals helm's byte for byte once generated
// certificates and keys are masked, and otherwise says what differs, the most telling first:
// the objects, else their order, else the bytes (whitespace, quoting, comments).
func compareOutput(want, got string) string {
	maskedWant, maskedGot := maskText(want), maskText(got)
	if maskedWant == maskedGot {
		return ""
	}
	if diff := diffObjects(want, got); diff != "" {
		return "objects differ (-helm +capstan):\n" + diff
	}
	_, wantOrder, errWant := parseOutput(want)
	_, gotOrder, errGot := parseOutput(got)
	if errWant == nil && errGot == nil && !slices.Equal(wantOrder, gotOrder) {
		return "the same objects in another order (-helm +capstan):\n" + cmp.Diff(wantOrder, gotOrder)
	}
	return "the same objects in the same order, other bytes (-helm +capstan, masked):\n" +
		cmp.Diff(lines(maskedWant), lines(maskedGot))
}

// diffObjects compares two outputs object by object; "" means the same objects.
func diffObjects(want, got string) string {
	wantDocs, _, err := parseOutput(want)
	if err != nil {
		return "golden does not parse: " + err.Error()
	}
	gotDocs, _, err := parseOutput(got)
	if err != nil {
		return "output does not parse: " + err.Error()
	}
	return cmp.Diff(wantDocs, gotDocs)
}

func formatParity(rows []parity) string {
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].chart+"/"+rows[i].set < rows[j].chart+"/"+rows[j].set
	})
	var b strings.Builder
	b.WriteString("| chart | value set | objects | bytes equal |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.chart, r.set, r.objects, r.bytesEqual)
	}
	return b.String()
}
