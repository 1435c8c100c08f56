package version_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/version"
)

// TestBuild_ldflagsStampBothBinaries builds the CLI and the manager the way `make build` does and
// checks that `capstan version` and `manager --version` print the stamped values.
func TestBuild_ldflagsStampBothBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	const pkg = "github.com/capstan-dev/capstan/internal/version"
	ldflags := "-X " + pkg + ".version=v9.8.7-test -X " + pkg + ".commit=0123abc -X " + pkg + ".date=2026-12-07T06:00:00Z"
	dir := t.TempDir()
	for name, target := range map[string]string{"capstan": "./cmd/capstan", "manager": "."} {
		build := exec.Command("go", "build", "-trimpath", "-tags", version.BuildTags, "-ldflags", ldflags, "-o", filepath.Join(dir, name), target)
		build.Dir = testenv.RepoRoot()
		out, err := build.CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", target, err, out)
		}
	}
	cases := map[string]struct {
		args []string
		want []string
	}{
		"capstan version prints each value on its own line": {
			args: []string{"capstan", "version"},
			want: []string{"Version:    v9.8.7-test\n", "Commit:     0123abc\n", "Built:      2026-12-07T06:00:00Z\n"},
		},
		"capstan version -o json": {
			args: []string{"capstan", "version", "-o", "json"},
			want: []string{`"version":"v9.8.7-test"`, `"commit":"0123abc"`, `"date":"2026-12-07T06:00:00Z"`},
		},
		"manager --version prints one line": {
			args: []string{"manager", "--version"},
			want: []string{"capstan manager version v9.8.7-test, commit 0123abc, built 2026-12-07T06:00:00Z, go"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			// #nosec G204 -- the binaries this test just built.
			out, err := exec.Command(filepath.Join(dir, tc.args[0]), tc.args[1:]...).CombinedOutput()
			g.Expect(err).NotTo(HaveOccurred(), string(out))
			for _, w := range tc.want {
				g.Expect(string(out)).To(ContainSubstring(w))
			}
			g.Expect(strings.Count(string(out), "\n")).To(BeNumerically(">=", 1))
		})
	}
}

// TestBuildTags_noPluginPackage checks that with BuildTags the binaries import no "plugin"
// package: a dependency that brings it back makes them cgo-linked and larger again.
func TestBuildTags_noPluginPackage(t *testing.T) {
	list := exec.Command("go", "list", "-deps", "-tags", version.BuildTags, ".", "./cmd/capstan")
	list.Dir = testenv.RepoRoot()
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "plugin" {
			t.Fatalf("built with -tags %s, the binaries still import the plugin package", version.BuildTags)
		}
	}
}

// TestBuildTags_everyScriptUsesThem checks that the Makefile and the scripts under hack/ build
// Capstan's binaries with BuildTags. Builds of other modules (the control plane, the tools) and
// of hack/chartserver (a test server, not shipped) are left out.
func TestBuildTags_everyScriptUsesThem(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "hack", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(testenv.RepoRoot(), "Makefile"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			builds := strings.Contains(line, "go build") || strings.Contains(line, "$(GO) build")
			if !builds || strings.Contains(line, "k8s.io/kubernetes") || strings.Contains(line, "etcd") ||
				strings.Contains(line, "./hack/chartserver") {
				continue
			}
			if !strings.Contains(line, version.BuildTags) && !strings.Contains(line, "$(BUILD_TAGS)") {
				t.Errorf("%s:%d builds without -tags %s: %s", filepath.Base(file), i+1, version.BuildTags, strings.TrimSpace(line))
			}
		}
	}
	makefile, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(makefile), "BUILD_TAGS := "+version.BuildTags+"\n") {
		t.Errorf("the Makefile's BUILD_TAGS is not %s", version.BuildTags)
	}
}
