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
			compareLint(t, LintGoldenPath(c.Name), NormalizeLint(runLint(t.Context(), dir), dir, dir))
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
