package repo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// chartDir lays out a directory of archives, plus files that are not charts.
func chartDir(t *testing.T) (string, map[string][]byte) {
	dir := t.TempDir()
	archives := map[string][]byte{
		"app-1.0.0.tgz":        makeChart(t, "app", "1.0.0"),
		"app-1.1.0.tgz":        makeChart(t, "app", "1.1.0"),
		"sub/other-0.1.0.tgz":  makeChart(t, "other", "0.1.0"),
		"sub/app-1.1.0-b.tgz":  makeChart(t, "app", "1.1.0"),
		"deep/er/deep-1.0.tgz": makeChart(t, "deep", "1.0.0"),
	}
	for rel, data := range archives {
		writeFile(t, filepath.Join(dir, rel), data)
	}
	writeFile(t, filepath.Join(dir, "broken.tgz"), []byte("not gzip at all"))
	writeFile(t, filepath.Join(dir, "escape.tgz"), makeTarGz(t, []chartFile{
		{"evil/Chart.yaml", "apiVersion: v2\nname: evil\nversion: 1.0.0\n"}, {"evil/../../etc/x", "x"}}))
	writeFile(t, filepath.Join(dir, "noname.tgz"), makeTarGz(t, []chartFile{{"x/Chart.yaml", "apiVersion: v2\nversion: 1.0.0\n"}}))
	writeFile(t, filepath.Join(dir, "README.md"), []byte("# charts"))
	return dir, archives
}

func TestIndexDirectory(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	cases := map[string]struct {
		baseURL  string
		wantURLs map[string]string
	}{
		"without a base URL the URLs are relative paths": {
			wantURLs: map[string]string{"app 1.1.0": "app-1.1.0.tgz", "app 1.0.0": "app-1.0.0.tgz", "other 0.1.0": "sub/other-0.1.0.tgz"}},
		"a base URL is joined onto each path": {baseURL: "https://charts.example.com/stable/",
			wantURLs: map[string]string{"app 1.1.0": "https://charts.example.com/stable/app-1.1.0.tgz",
				"app 1.0.0": "https://charts.example.com/stable/app-1.0.0.tgz", "other 0.1.0": "https://charts.example.com/stable/sub/other-0.1.0.tgz"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir, archives := chartDir(t)
			out, err := indexDirectory(dir, tc.baseURL, "", now)
			g.Expect(err).NotTo(HaveOccurred())
			idx, warnings, err := ParseIndex(bytes.NewReader(out), 0)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(warnings).To(BeEmpty())
			g.Expect(idx.Charts()).To(Equal([]string{"app", "other"}), "broken, escaping, nameless and too-deep archives are skipped")
			g.Expect(idx.Generated).To(Equal(now))
			got := map[string]string{}
			for _, c := range idx.Charts() {
				for _, cv := range idx.Versions(c) {
					got[c+" "+cv.Version] = cv.URLs[0]
					g.Expect(cv.Created).To(Equal(now))
					g.Expect(cv.APIVersion).To(Equal("v2"))
					g.Expect(cv.AppVersion).To(Equal("1.0"))
				}
			}
			g.Expect(got).To(Equal(tc.wantURLs), "app 1.1.0 appears once, from the first archive found")
			cv, err := idx.Resolve("app", "")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cv.Digest).To(Equal(sha256Hex(archives["app-1.1.0.tgz"])))
			g.Expect(string(out)).To(ContainSubstring("description: test chart"), "Chart.yaml metadata is written out")
			g.Expect(string(out)).To(HavePrefix("apiVersion: v1\nentries:\n"))
		})
	}
}

func TestIndexDirectory_merge(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	cases := map[string]struct {
		merge    string
		missing  bool
		versions []string
		err      string
	}{
		"old versions are kept and the directory wins on a clash": {
			merge: "apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 0.9.0\n    description: old one\n" +
				"    urls: [https://old.example.com/app-0.9.0.tgz]\n  - name: app\n    version: 1.0.0\n    digest: stale\n    urls: [stale.tgz]\n" +
				"  - name: app\n    version: bad\n",
			versions: []string{"1.1.0", "1.0.0", "0.9.0"},
		},
		"a missing merge file is an empty index": {missing: true, versions: []string{"1.1.0", "1.0.0"}},
		"a merge file without apiVersion fails":  {merge: "entries: {}\n", err: "merge failed"},
		"a merge file that does not parse fails": {merge: "apiVersion: [\n", err: "merge failed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir, archives := chartDir(t)
			mergeFile := filepath.Join(t.TempDir(), "old-index.yaml")
			if !tc.missing {
				writeFile(t, mergeFile, []byte(tc.merge))
			}
			out, err := indexDirectory(dir, "", mergeFile, now)
			if tc.err != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.err)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			idx, _, err := ParseIndex(bytes.NewReader(out), 0)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(versionsOf(idx.Versions("app"))).To(Equal(tc.versions))
			cv, err := idx.Resolve("app", "1.0.0")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cv.Digest).To(Equal(sha256Hex(archives["app-1.0.0.tgz"])))
			if !tc.missing {
				g.Expect(strings.Contains(string(out), "description: old one")).To(BeTrue(), "merged entries keep all their fields")
			}
		})
	}
}

func TestIndexDirectory_notADirectory(t *testing.T) {
	g := NewWithT(t)
	_, err := IndexDirectory(filepath.Join(t.TempDir(), "missing"), "", "")
	g.Expect(err).To(MatchError(ContainSubstring("is not a directory")))
}
