package helmchart

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/capstan-dev/capstan/internal/testenv"
)

// TestChart_filesMatchConfig checks that the chart's copies of generated files are current: the
// CRDs (crds/ equals config/crd/bases file for file), the manager's rules (files/manager-rules.yaml
// is the rules list of config/rbac/role.yaml), the alert rules and the dashboard (files/ holds
// config/monitoring's capstan-rules.yaml and capstan-dashboard.json). `make manifests` refreshes them.
func TestChart_filesMatchConfig(t *testing.T) {
	root := testenv.RepoRoot()
	t.Run("CRDs", func(t *testing.T) {
		want := dirFiles(t, filepath.Join(root, "config", "crd", "bases"))
		got := dirFiles(t, filepath.Join(chartDir, "crds"))
		if !slices.Equal(keys(want), keys(got)) {
			t.Fatalf("charts/capstan/crds holds %v, config/crd/bases %v; run make manifests", keys(got), keys(want))
		}
		for name, b := range want {
			if !bytes.Equal(b, got[name]) {
				t.Errorf("charts/capstan/crds/%s differs from config/crd/bases/%s; run make manifests", name, name)
			}
		}
	})
	t.Run("manager rules", func(t *testing.T) {
		role := readFile(t, filepath.Join(root, "config", "rbac", "role.yaml"))
		_, rules, ok := bytes.Cut(role, []byte("\nrules:\n"))
		if !ok {
			t.Fatal("config/rbac/role.yaml has no rules list")
		}
		if got := readFile(t, filepath.Join(chartDir, "files", "manager-rules.yaml")); !bytes.Equal(got, rules) {
			t.Errorf("charts/capstan/files/manager-rules.yaml is not the rules list of config/rbac/role.yaml; run make manifests")
		}
	})
	for _, name := range []string{"capstan-rules.yaml", "capstan-dashboard.json"} {
		t.Run(name, func(t *testing.T) {
			want := readFile(t, filepath.Join(root, "config", "monitoring", name))
			if got := readFile(t, filepath.Join(chartDir, "files", name)); !bytes.Equal(got, want) {
				t.Errorf("charts/capstan/files/%s differs from config/monitoring/%s; run make manifests", name, name)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirFiles reads every file of dir by name.
func dirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		files[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
	}
	return files
}

func keys(m map[string][]byte) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
