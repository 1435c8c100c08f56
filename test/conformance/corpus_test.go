package conformance

import (
	"fmt"
	"os"
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
// compares the result with helm's golden output object by object (generated certificates
// masked). Byte equality is reported in a parity table but does not fail the test.
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
	if diff := diffObjects(string(want), run.stdout); diff != "" {
		t.Errorf("objects differ from helm's (-helm +capstan):\n%s", clip(diff))
		return row
	}
	row.objects = "same"
	return row
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
