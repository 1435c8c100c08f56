package hygiene

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// outsidePath matches a reference to something outside the checkout: the sibling directory the
// project's reference material once lived in, or an absolute path of a developer's machine.
// Absolute paths count only where a path starts (after a quote, a space, "=", ":" …), so a URL
// such as https://example.com/root/x is not one.
var outsidePath = regexp.MustCompile(`\.\./shared\b|(^|[^\w.~/-])/(work|root|home)/`)

// renderedManifest matches the corpus goldens that hold helm template's output for third-party
// charts. Their absolute paths are paths inside containers (a mountPath of /root/.kwok), so
// they are checked only for this machine's own paths: the checkout and the module cache, which
// would mean a golden recorded where the chart happened to live.
var renderedManifest = regexp.MustCompile(`^test/conformance/golden/[^/]+/[^/]+\.yaml$`)

// machinePaths matches the checkout's and the Go module cache's absolute paths.
func machinePaths(t *testing.T, root string) *regexp.Regexp {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	modcache := strings.TrimSpace(string(out))
	return regexp.MustCompile(regexp.QuoteMeta(root) + "|" + regexp.QuoteMeta(modcache))
}

// thisFile names the patterns on purpose.
const thisFile = "test/hygiene/selfcontained_test.go"

func TestOutsidePath_matches(t *testing.T) {
	cases := map[string]struct {
		line string
		want bool
	}{
		"a sibling reference directory":        {"var dir = \"../../.." + "/shared/reference/probes\"", true},
		"an absolute checkout path":            {"const probeDir = \"/wo" + "rk/data/reference/probes\"", true},
		"root's home in a script":              {`GOMODCACHE=/root/go/pkg/mod`, true},
		"a user's home at the start of a line": {`/home/dev/capstan/bin`, true},
		"a path relative to the repository":    {`filepath.Join(RepoRoot(), "test", "conformance")`, false},
		"a URL whose path has a root segment":  {`https://example.com/root/x`, false},
		"a relative work directory":            {"cd hack/wo" + "rk/ && make", false},
		"a container path in a chart":          {`mountPath: /var/run/cilium`, false},
		"root's home inside a container":       {`mountPath: /root/.kwok/kwok.yaml`, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(outsidePath.MatchString(tc.line)).To(Equal(tc.want))
		})
	}
}

func TestRenderedManifest_onlyCorpusRenders(t *testing.T) {
	g := NewWithT(t)
	g.Expect(renderedManifest.MatchString("test/conformance/golden/kwok/default.yaml")).To(BeTrue())
	g.Expect(renderedManifest.MatchString("test/conformance/golden/lint/kwok.txt")).To(BeFalse(), "lint goldens carry chart paths")
	g.Expect(renderedManifest.MatchString("test/conformance/golden/trust-manager/kube-too-old.txt")).To(BeFalse())
	g.Expect(renderedManifest.MatchString("test/conformance/testdata/probes/golden/t4.txt")).To(BeFalse())
	g.Expect(renderedManifest.MatchString("config/samples/release.yaml")).To(BeFalse())
}

// TestRepository_selfContained fails when a tracked file other than Markdown prose refers to a
// path outside the checkout: a clone on another machine must build and test on its own, with
// only the binary cache (~/.cache/capstan) and the Go module cache outside it.
func TestRepository_selfContained(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	files := trackedFiles(t, root)
	if len(files) < 100 {
		t.Fatalf("found only %d files under %s: is this the repository?", len(files), root)
	}
	leaks := machinePaths(t, root)
	var hits []string
	for _, rel := range files {
		if strings.HasSuffix(rel, ".md") || rel == thisFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree but not yet in the index
		}
		if err != nil {
			t.Fatal(err)
		}
		match := outsidePath.Match
		if renderedManifest.MatchString(rel) {
			match = leaks.Match
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			if match(line) {
				hits = append(hits, rel+":"+strconv.Itoa(i+1)+": "+clipLine(string(line)))
			}
		}
	}
	if len(hits) > 0 {
		t.Errorf("%d lines refer to paths outside the checkout; use paths relative to the repository "+
			"(testenv.RepoRoot, internal/testenv/probes) instead:\n%s", len(hits), strings.Join(hits, "\n"))
	}
}

// trackedFiles lists the files git tracks, or, outside a git checkout (a source archive), every
// regular file below root except .git and build output.
func trackedFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		return strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func clipLine(s string) string {
	const maxLen = 160
	if len(s) > maxLen {
		return s[:maxLen] + "…"
	}
	return s
}
