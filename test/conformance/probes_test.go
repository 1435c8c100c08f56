package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// probeCases are the command lines of probes/README.md, by golden name (the first argument
// after `helm template`, the chart and values paths are relative to the probes directory).
var probeCases = map[string][]string{
	"t1":               {"t1", "-f", "t1/user.yaml"},
	"t2":               {"t2"},
	"t2-user":          {"t2", "-f", "t2/user.yaml"},
	"t3":               {"myrel", "t3"},
	"t3-set":           {"myrel", "t3", "--set", "tags.back=true", "--set", "first.enabled=true", "--set", "other.enabled=false"},
	"t4":               {"t4", "--include-crds"},
	"t5-badcall":       {"t5", "--set", "mode=badcall"},
	"t5-badinclude":    {"t5", "--set", "mode=badinclude"},
	"t5-fail":          {"t5", "--set", "mode=fail"},
	"t5-nested":        {"t5", "--set", "mode=nested"},
	"t5-recursion":     {"t5", "--set", "mode=recursion"},
	"t5-required":      {"t5", "--set", "mode=required"},
	"t5-requiredempty": {"t5", "--set", "mode=requiredempty"},
	"t5-tplerr":        {"t5", "--set", "mode=tplerr"},
	"t5-tplparse":      {"t5", "--set", "mode=tplparse"},
	"t7":               {"t7", "-f", "t7/user.yaml", "--set", "global.set=s", "--set", "mid.leaf.own=setleaf"},
	"t7-midnull":       {"t7", "--set", "mid=null"},
	"t8":               {"t8"},
	"t8-schema":        {"t8", "--set", "replicas=0"},
	"t8-kube":          {"t8", "--kube-version", "v1.18.3"},
	"t9":               {"t9"},
}

// TestProbes runs every probe command line through `capstan template` and compares stdout,
// stderr and the error line, byte for byte, with helm v4.3.1's recorded output.
func TestProbes(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join(ProbesDir, "golden", "*.v4.3.1.out"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no probe goldens under %s (the shared reference must sit beside the repository): %v", ProbesDir, err)
	}
	if len(goldens) != len(probeCases) {
		t.Errorf("%d probe goldens but %d probe cases: every golden needs its command line", len(goldens), len(probeCases))
	}
	t.Chdir(ProbesDir)
	for name, args := range probeCases {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("golden", name+".v4.3.1.out"))
			if err != nil {
				t.Fatal(err)
			}
			got := runTemplate(t.Context(), args).combined()
			if got != string(want) {
				t.Errorf("capstan template %s differs from helm v4.3.1 (-helm +capstan):\n%s",
					strings.Join(args, " "), clip(cmp.Diff(lines(string(want)), lines(got))))
			}
		})
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
