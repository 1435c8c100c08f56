package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/testenv/probes"
)

// TestProbes runs every probe command line through `capstan template` and compares stdout,
// stderr and the error line, byte for byte, with the reference helm v4.3.1's recorded output:
// once reporting the reference binary's version, once at Capstan's production default.
func TestProbes(t *testing.T) {
	goldens, err := filepath.Glob(probes.Golden("*"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no probe goldens under %s (run `make golden`): %v", probes.GoldenDir(), err)
	}
	if len(goldens) != len(ProbeCases) {
		t.Errorf("%d probe goldens but %d probe cases: every golden needs its command line", len(goldens), len(ProbeCases))
	}
	t.Chdir(ProbesDir)
	for name, args := range ProbeCases {
		want, err := os.ReadFile(probes.Golden(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name+"/oracle-version", func(t *testing.T) {
			compareProbe(t, args, string(want), runTemplate(t.Context(), args))
		})
		t.Run(name+"/production-version", func(t *testing.T) {
			compareProbe(t, args, atProductionVersion(t, name, string(want)), runTemplateAs(t.Context(), args))
		})
	}
}

// productionVersionLines are the golden lines that print .Capabilities.HelmVersion.Version, by
// probe case: the reference helm's "v4.3" there becomes engine.HelmCompatVersion when Capstan
// runs at its production default. This is the only mask the probes have.
var productionVersionLines = map[string]string{
	"t4": "  helm: %s\n",
}

// atProductionVersion returns the golden as helm's official v4.3.1 release binary prints it.
func atProductionVersion(t *testing.T, name, golden string) string {
	t.Helper()
	line, ok := productionVersionLines[name]
	if !ok {
		return golden
	}
	from, to := fmt.Sprintf(line, oracleHelmVersion), fmt.Sprintf(line, engine.HelmCompatVersion)
	if n := strings.Count(golden, from); n != 1 {
		t.Fatalf("golden %s: want the version line %q once, found it %d times", name, from, n)
	}
	return strings.Replace(golden, from, to, 1)
}

func compareProbe(t *testing.T, args []string, want string, run templateRun) {
	t.Helper()
	if got := run.combined(); got != want {
		t.Errorf("capstan template %s differs from helm v4.3.1 (-helm +capstan):\n%s",
			strings.Join(args, " "), clip(cmp.Diff(lines(want), lines(got))))
	}
}

func lines(s string) []string { return strings.SplitAfter(s, "\n") }

// clip keeps failure messages readable when a golden holds a very long line.
func clip(s string) string {
	const maxLen = 6000
	if len(s) <= maxLen {
		return s
	}
	return s[:maxLen] + "\n…(diff clipped)"
}
