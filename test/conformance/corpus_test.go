package conformance

import (
	"fmt"
	"os"
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
// the objects that differ, else the document order, else the bytes; a parity table is logged.
func TestCorpus(t *testing.T) {
	corpus, err := LoadCorpus(CorpusFile)
	if err != nil {
		t.Fatal(err)
	}
	var table []parity
	for _, c := range corpus.Charts {
		t.Run(c.Name, func(t *testing.T) {
			dir, err := c.ChartDir(t.Context())
			if err != nil {
				t.Fatalf("fetch %s: %v", c.Module, err)
			}
			for _, set := range c.SetNames() {
				t.Run(set, func(t *testing.T) {
					table = append(table, compareWithGolden(t, c, dir, set))
				})
			}
		})
	}
	t.Log("\n" + formatParity(table))
}

func compareWithGolden(t *testing.T, c CorpusChart, dir, set string) parity {
	t.Helper()
	row := parity{chart: c.Name, set: set, objects: "differ", bytesEqual: "no"}
	want, err := os.ReadFile(c.GoldenPath(set))
	if err != nil {
		t.Fatalf("golden missing (run `make golden`): %v", err)
	}
	run := runTemplate(t.Context(), c.TemplateArgs(dir, set))
	if run.err != nil {
		t.Errorf("capstan template %s/%s failed: %v\nstderr:\n%s", c.Name, set, run.err, run.stderr)
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
		t.Errorf("capstan template %s/%s is not helm's output: %s", c.Name, set, clip(diff))
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
