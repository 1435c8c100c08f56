package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
)

func writeChart(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"values.yaml":       "replicas: 1\n",
		"templates/cm.yaml": "kind: ConfigMap\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func runCapstan(args ...string) (string, error) {
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestPackageCmd(t *testing.T) {
	cases := map[string]struct {
		args        func(src, out string) []string
		epoch       string
		wantArchive string
		wantVersion string
		wantTime    time.Time
		wantErr     string
	}{
		"defaults": {
			args:        func(src, out string) []string { return []string{"package", src, "-d", out} },
			wantArchive: "web-0.1.0.tgz",
			wantVersion: "0.1.0",
			wantTime:    chart.DefaultModTime,
		},
		"version and app version overrides": {
			args: func(src, out string) []string {
				return []string{"package", src, "--destination", out, "--version", "1.2.3", "--app-version", "v7"}
			},
			wantArchive: "web-1.2.3.tgz",
			wantVersion: "1.2.3",
			wantTime:    chart.DefaultModTime,
		},
		"SOURCE_DATE_EPOCH is honoured": {
			args:        func(src, out string) []string { return []string{"package", src, "-d", out} },
			epoch:       "1700000000",
			wantArchive: "web-0.1.0.tgz",
			wantVersion: "0.1.0",
			wantTime:    time.Unix(1700000000, 0).UTC(),
		},
		"a bad SOURCE_DATE_EPOCH": {
			args:    func(src, out string) []string { return []string{"package", src, "-d", out} },
			epoch:   "yesterday",
			wantErr: `invalid SOURCE_DATE_EPOCH "yesterday"`,
		},
		"no chart path": {
			args:    func(string, string) []string { return []string{"package"} },
			wantErr: "requires at least 1 arg(s)",
		},
		"a path that is not a chart": {
			args:    func(_, out string) []string { return []string{"package", out, "-d", out} },
			wantErr: "unable to detect chart at",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			src, out := t.TempDir(), t.TempDir()
			writeChart(t, src)
			t.Setenv("SOURCE_DATE_EPOCH", tc.epoch)
			stdout, err := runCapstan(tc.args(src, out)...)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			archive := filepath.Join(out, tc.wantArchive)
			g.Expect(stdout).To(Equal("Successfully packaged chart and saved it to: " + archive + "\n"))
			c, err := chart.Load(archive, chart.DefaultLimits())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Metadata.Version).To(Equal(tc.wantVersion))
			g.Expect(firstModTime(g, archive)).To(Equal(tc.wantTime))
		})
	}
}

// firstModTime returns the modification time of the first entry of a chart archive.
func firstModTime(g Gomega, archive string) time.Time {
	f, err := os.Open(archive)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	zr, err := gzip.NewReader(f)
	g.Expect(err).NotTo(HaveOccurred())
	hd, err := tar.NewReader(zr).Next()
	g.Expect(err).NotTo(HaveOccurred())
	return hd.ModTime.UTC()
}
