package conformance

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capstan-dev/capstan/internal/render/cli"
)

// runLint runs `capstan lint CHART` in process and returns what a terminal shows, as
// runTemplate does for template.
func runLint(ctx context.Context, chartPath string) string {
	cmd := cli.NewLintCommand()
	var stdout, stderr bytes.Buffer
	cmd.SetArgs([]string{chartPath})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetIn(strings.NewReader(""))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(ctx)
	return templateRun{stdout: stdout.String(), stderr: stderr.String(), err: err}.combined()
}

// TestLintGoldens compares `capstan lint` with `helm lint` v4.3.1, byte for byte, on every corpus
// chart (default values) and the probe charts (golden/lint, recorded by `make golden`).
func TestLintGoldens(t *testing.T) {
	corpus, err := LoadCorpus(CorpusFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus.Charts {
		t.Run(c.Name, func(t *testing.T) {
			dir, err := c.ChartDir(t.Context())
			if err != nil {
				t.Fatalf("fetch %s: %v", c.Module, err)
			}
			got := NormalizeLint(runLint(t.Context(), dir), dir, dir)
			if c.LintDiffers != "" {
				expectLintDifference(t, LintGoldenPath(c.Name), got, c.LintDiffers)
				return
			}
			compareLint(t, LintGoldenPath(c.Name), got)
		})
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(ProbesDir)
	for _, probe := range LintProbes {
		t.Run("probe-"+probe, func(t *testing.T) {
			golden := filepath.Join(wd, LintGoldenPath("probe-"+probe))
			abs, err := filepath.Abs(probe)
			if err != nil {
				t.Fatal(err)
			}
			compareLint(t, golden, NormalizeLint(runLint(t.Context(), probe), probe, abs))
		})
	}
}

// expectLintDifference checks a known difference: it must still be there (else the note in
// corpus.yaml is stale), and it is logged.
func expectLintDifference(t *testing.T, goldenPath, got, why string) {
	t.Helper()
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("golden missing (run `make golden`): %v", err)
	}
	if got == string(want) {
		t.Errorf("capstan lint now equals helm lint: remove lintDiffers from corpus.yaml")
		return
	}
	t.Logf("known difference (%s):\n%s", why, clip(cmp.Diff(lines(string(want)), lines(got))))
}

func compareLint(t *testing.T, goldenPath, got string) {
	t.Helper()
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("golden missing (run `make golden`): %v", err)
	}
	if got != string(want) {
		t.Errorf("capstan lint differs from helm lint (-helm +capstan):\n%s", clip(cmp.Diff(lines(string(want)), lines(got))))
	}
}
