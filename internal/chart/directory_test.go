//go:build unix

package chart

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	. "github.com/onsi/gomega"
)

func TestLoadDir_helmignore(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	writeTree(t, dir, with(minimalChart("demo"), map[string]string{
		".helmignore":           "# editor files\n*.swp\n/secret.txt\nbuild/\n",
		"secret.txt":            "s",
		"files/secret.txt":      "kept: only the root one is anchored",
		"files/a.txt.swp":       "swap",
		"build/out.bin":         "skipped with its folder",
		"templates/.hidden":     "built-in rule",
		"templates/z.yaml":      "kind: Secret\n",
		"charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
		"charts/sub/x.swp":      "the root's rules apply in subcharts too",
		"charts/sub/README.md":  "readme",
	}))
	c, err := LoadDir(dir, DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fileNames(c.Files)).To(Equal([]string{".helmignore", "files/secret.txt"}))
	g.Expect(fileNames(c.Templates)).To(Equal([]string{"templates/_help.tpl", "templates/cm.yaml", "templates/z.yaml"}))
	g.Expect(depNames(c)).To(Equal([]string{"sub"}))
	g.Expect(fileNames(c.Dependencies()[0].Files)).To(Equal([]string{"README.md"}))
}

func TestLoadDir_ignoringChartYAMLLeavesNoChart(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	writeTree(t, dir, with(minimalChart("demo"), map[string]string{".helmignore": "!values.yaml\n"}))
	_, err := LoadDir(dir, DefaultLimits())
	g.Expect(err).To(MatchError("Chart.yaml file is missing"))
}

func TestLoadDir_walkOrderMatchesArchives(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	writeTree(t, dir, with(minimalChart("demo"), map[string]string{
		"a.txt": "1", "a/b": "2", "B": "3", "a-b": "4",
	}))
	c, err := LoadDir(dir, DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fileNames(c.Files)).To(Equal([]string{"B", "a/b", "a-b", "a.txt"}))
}

func TestLoadDir_links(t *testing.T) {
	cases := map[string]struct {
		setup     func(t *testing.T, dir string)
		wantErr   string
		kind      error
		wantFiles []string
	}{
		"a link to a file inside the chart is followed": {
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"files/real.txt": "real"})
				symlink(t, "files/real.txt", filepath.Join(dir, "alias.txt"))
			},
			wantFiles: []string{"alias.txt", "files/real.txt"},
		},
		"a link to a folder inside the chart is walked under its own name": {
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"shared/x.txt": "x"})
				if err := os.Remove(filepath.Join(dir, "files")); err != nil {
					t.Fatal(err)
				}
				symlink(t, "shared", filepath.Join(dir, "files"))
			},
			wantFiles: []string{"files/x.txt", "shared/x.txt"},
		},
		"a link to a file outside the chart": {
			setup: func(t *testing.T, dir string) {
				outside := filepath.Join(t.TempDir(), "passwd")
				writeTree(t, filepath.Dir(outside), map[string]string{"passwd": "root:x:0:0"})
				symlink(t, outside, filepath.Join(dir, "files", "passwd"))
			},
			wantErr: "points outside the chart directory",
			kind:    ErrUnsafePath,
		},
		"a relative link climbing out of the chart": {
			setup: func(t *testing.T, dir string) {
				symlink(t, "../../..", filepath.Join(dir, "files", "up"))
			},
			wantErr: "points outside the chart directory",
			kind:    ErrUnsafePath,
		},
		"a link escaping the chart that .helmignore skips is never followed": {
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{".helmignore": "up\n"})
				symlink(t, "/", filepath.Join(dir, "files", "up"))
			},
			wantFiles: []string{".helmignore"},
		},
		"a link cycle": {
			setup: func(t *testing.T, dir string) {
				symlink(t, "..", filepath.Join(dir, "files", "loop"))
			},
			wantErr: "makes a cycle",
			kind:    ErrUnsafePath,
		},
		"a dangling link": {
			setup: func(t *testing.T, dir string) {
				symlink(t, "nowhere", filepath.Join(dir, "files", "gone"))
			},
			wantErr: "error evaluating symlink",
		},
		"a FIFO": {
			setup: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "cannot load irregular file " + "{dir}/pipe as it has file mode type bits set",
			kind:    ErrUnsafePath,
		},
		"a link to a FIFO": {
			setup: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
					t.Fatal(err)
				}
				writeTree(t, dir, map[string]string{".helmignore": "/pipe\n"})
				symlink(t, "../pipe", filepath.Join(dir, "files", "p"))
			},
			wantErr: "as it has file mode type bits set",
			kind:    ErrUnsafePath,
		},
		"Chart.yaml linked from outside": {
			setup: func(t *testing.T, dir string) {
				outside := t.TempDir()
				writeTree(t, outside, map[string]string{"Chart.yaml": chartYAML})
				_ = os.Remove(filepath.Join(dir, "Chart.yaml"))
				symlink(t, filepath.Join(outside, "Chart.yaml"), filepath.Join(dir, "Chart.yaml"))
			},
			wantErr: "unable to detect chart at",
			kind:    ErrUnsafePath,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"Chart.yaml": chartYAML})
			g.Expect(os.MkdirAll(filepath.Join(dir, "files"), 0o755)).To(Succeed())
			tc.setup(t, dir)
			c, err := LoadDir(dir, DefaultLimits())
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(strings.ReplaceAll(tc.wantErr, "{dir}", dir))))
				if tc.kind != nil {
					g.Expect(errors.Is(err, tc.kind)).To(BeTrue(), "error %q should be %v", err, tc.kind)
				}
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(fileNames(c.Files)).To(Equal(tc.wantFiles))
		})
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

func TestLoad_aFIFOIsNotOpened(t *testing.T) {
	g := NewWithT(t)
	pipe := filepath.Join(t.TempDir(), "chart.tgz")
	g.Expect(syscall.Mkfifo(pipe, 0o600)).To(Succeed())
	_, err := Load(pipe, DefaultLimits())
	g.Expect(errors.Is(err, ErrUnsafePath)).To(BeTrue(), "got %v", err)
}

func TestLoadDir_chartDirectoryThroughALink(t *testing.T) {
	g := NewWithT(t)
	target := t.TempDir()
	writeTree(t, target, minimalChart("demo"))
	link := filepath.Join(t.TempDir(), "link")
	symlink(t, target, link)
	c, err := LoadDir(link, DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Name()).To(Equal("demo"))
}

func TestLoadDir_limits(t *testing.T) {
	lim := Limits{MaxFileSize: 1000, MaxDecompressedSize: 2500, MaxEntries: 12}
	cases := map[string]struct {
		files   map[string]string
		wantErr string
	}{
		"one file above the per-file limit": {
			files:   map[string]string{"files/big": strings.Repeat("x", 1001)},
			wantErr: `chart file "files/big" is larger than the maximum file size 1000`,
		},
		"files that together pass the total": {
			files:   map[string]string{"files/a": strings.Repeat("x", 900), "files/b": strings.Repeat("x", 900), "files/c": strings.Repeat("x", 900)},
			wantErr: "error reading files/c: chart exceeds maximum decompressed size of 2500 bytes",
		},
		"a huge Chart.yaml": {
			files:   map[string]string{"Chart.yaml": chartYAML + "description: " + strings.Repeat("x", 1000) + "\n"},
			wantErr: `chart file "Chart.yaml" is larger than the maximum file size 1000`,
		},
		"more entries than allowed": {
			files:   map[string]string{"a/1": "", "a/2": "", "a/3": "", "a/4": "", "b/1": "", "b/2": "", "b/3": "", "b/4": "", "c/1": "", "c/2": ""},
			wantErr: "chart has more than the maximum of 12 files and directories",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			writeTree(t, dir, with(map[string]string{"Chart.yaml": chartYAML}, tc.files))
			_, err := LoadDir(dir, lim)
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			g.Expect(errors.Is(err, ErrLimitExceeded)).To(BeTrue(), "error %q should be ErrLimitExceeded", err)
		})
	}
}

func TestLoadDir_linkFanOutIsBounded(t *testing.T) {
	g := NewWithT(t)
	// Each level links twice to the next, so the walk would see 2^30 paths without the entry cap.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Chart.yaml": chartYAML, "files/l30/leaf.txt": "x"})
	for i := 29; i >= 0; i-- {
		next := filepath.Join("..", "l"+strconv.Itoa(i+1))
		symlink(t, next, filepath.Join(dir, "files", "l"+strconv.Itoa(i), "a"))
		symlink(t, next, filepath.Join(dir, "files", "l"+strconv.Itoa(i), "b"))
	}
	_, err := LoadDir(dir, DefaultLimits())
	g.Expect(errors.Is(err, ErrLimitExceeded)).To(BeTrue(), "got %v", err)
}

func TestLoadDir_missingChart(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	_, err := LoadDir(dir, DefaultLimits())
	g.Expect(err).To(MatchError(ContainSubstring("unable to detect chart at " + filepath.Join(dir, "Chart.yaml"))))
	_, err = Load(filepath.Join(dir, "absent"), DefaultLimits())
	g.Expect(errors.Is(err, os.ErrNotExist)).To(BeTrue())
}

func TestLoadDir_unsupportedAPIVersion(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Chart.yaml": "apiVersion: v3\nname: x\nversion: 1.0.0\n"})
	_, err := LoadDir(dir, DefaultLimits())
	g.Expect(err).To(MatchError("unsupported chart version"))
	g.Expect(errors.Is(err, ErrUnsupportedAPIVersion)).To(BeTrue())
}
