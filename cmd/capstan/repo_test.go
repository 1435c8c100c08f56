package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/repo"
)

func writeChartArchive(t *testing.T, path, name, version string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files := map[string]string{
		name + "/Chart.yaml":        "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n",
		name + "/templates/cm.yaml": "kind: ConfigMap\n",
	}
	for n, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func runRepoCommand(args ...string) error {
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	return cmd.Execute()
}

func TestRepoIndexCmd(t *testing.T) {
	cases := map[string]struct {
		args     func(dir, merge string) []string
		wantURL  string
		versions []string
		wantErr  string
	}{
		"relative URLs by default": {
			args:    func(dir, _ string) []string { return []string{"repo", "index", dir} },
			wantURL: "web-0.1.0.tgz", versions: []string{"0.1.0"},
		},
		"absolute URLs with --url": {
			args: func(dir, _ string) []string {
				return []string{"repo", "index", dir, "--url", "https://charts.example.com/x"}
			},
			wantURL: "https://charts.example.com/x/web-0.1.0.tgz", versions: []string{"0.1.0"},
		},
		"--merge keeps older entries": {
			args:    func(dir, merge string) []string { return []string{"repo", "index", dir, "--merge", merge} },
			wantURL: "web-0.1.0.tgz", versions: []string{"0.1.0", "0.0.1"},
		},
		"a missing directory fails": {
			args:    func(dir, _ string) []string { return []string{"repo", "index", filepath.Join(dir, "nope")} },
			wantErr: "is not a directory",
		},
		"the directory is required": {
			args:    func(string, string) []string { return []string{"repo", "index"} },
			wantErr: "accepts 1 arg(s)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			writeChartArchive(t, filepath.Join(dir, "web-0.1.0.tgz"), "web", "0.1.0")
			merge := filepath.Join(t.TempDir(), "old.yaml")
			g.Expect(os.WriteFile(merge, []byte("apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 0.0.1\n    urls: [old.tgz]\n"), 0o600)).To(Succeed())
			err := runRepoCommand(tc.args(dir, merge)...)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			f, err := os.Open(filepath.Join(dir, "index.yaml"))
			g.Expect(err).NotTo(HaveOccurred())
			defer f.Close()
			idx, _, err := repo.ParseIndex(f, 0)
			g.Expect(err).NotTo(HaveOccurred())
			var got []string
			for _, cv := range idx.Versions("web") {
				got = append(got, cv.Version)
			}
			g.Expect(got).To(Equal(tc.versions))
			cv, err := idx.Resolve("web", "0.1.0")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cv.URLs).To(Equal([]string{tc.wantURL}))
			leftovers, err := filepath.Glob(filepath.Join(dir, ".index-*"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(leftovers).To(BeEmpty())
		})
	}
}
