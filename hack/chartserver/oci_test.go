package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// tgz builds a gzipped tar archive from name → content.
func tgz(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadChartInfo(t *testing.T) {
	cases := map[string]struct {
		archive []byte
		name    string
		version string
		wantErr string
	}{
		"a chart": {
			archive: tgz(t, map[string]string{"hello/Chart.yaml": "apiVersion: v2\nname: hello\nversion: 0.1.0+build.1\n", "hello/values.yaml": "a: 1\n"}),
			name:    "hello", version: "0.1.0+build.1",
		},
		"a subchart's Chart.yaml alone does not count": {
			archive: tgz(t, map[string]string{"app/charts/sub/Chart.yaml": "name: sub\nversion: 1.0.0\n"}),
			wantErr: "no Chart.yaml at the top of the chart",
		},
		"no Chart.yaml": {
			archive: tgz(t, map[string]string{"app/values.yaml": "a: 1\n"}),
			wantErr: "no Chart.yaml at the top of the chart",
		},
		"not gzip":   {archive: []byte("plain text"), wantErr: "not a gzip archive"},
		"no version": {archive: tgz(t, map[string]string{"x/Chart.yaml": "name: x\n"}), wantErr: "needs a plain name and a version"},
		"a name with a slash": {
			archive: tgz(t, map[string]string{"x/Chart.yaml": "name: ../evil\nversion: 1.0.0\n"}),
			wantErr: "needs a plain name and a version",
		},
		"a Chart.yaml that is not YAML": {
			archive: tgz(t, map[string]string{"x/Chart.yaml": "name: [\n"}),
			wantErr: "parsing Chart.yaml",
		},
		"an oversized Chart.yaml": {
			archive: tgz(t, map[string]string{"x/Chart.yaml": "name: x\nversion: 1.0.0\ndescription: " + strings.Repeat("a", maxChartYAMLSize) + "\n"}),
			wantErr: "larger than",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			info, err := readChartInfo(tc.archive)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(info.name).To(Equal(tc.name))
			g.Expect(info.version).To(Equal(tc.version))
			g.Expect(string(info.config)).To(ContainSubstring(`"name":"` + tc.name + `"`))
		})
	}
}

// FuzzReadChartInfo feeds arbitrary archives to the Chart.yaml reader: it must never panic, and
// what it accepts must name a chart that cannot leave its repository namespace.
func FuzzReadChartInfo(f *testing.F) {
	f.Add(tgz(f, map[string]string{"c/Chart.yaml": "name: c\nversion: 1.0.0\n"}))
	f.Add(tgz(f, map[string]string{"c/Chart.yaml": "name: ..\nversion: 1\n"}))
	f.Add(tgz(f, map[string]string{"Chart.yaml": "name: c\nversion: 1\n"}))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, archive []byte) {
		info, err := readChartInfo(archive)
		if err != nil {
			return
		}
		if info.name == "" || info.version == "" || strings.ContainsAny(info.name, "/\\:@") || info.name == ".." || info.name == "." {
			t.Fatalf("accepted chart name %q version %q", info.name, info.version)
		}
	})
}

// TestOCIRegistry packages both example charts with the reference Helm, stores them in the
// registry, and has Helm pull them back over OCI.
func TestOCIRegistry(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	for _, chart := range []string{"hello", "stack"} {
		out, err := helm(t, "package", "--destination", dir, filepath.Join(chartsDir, chart))
		g.Expect(err).NotTo(HaveOccurred(), out)
	}
	reg, refs, err := newOCIRegistry(t.Context(), dir, "team/charts", log.New(io.Discard, "", 0))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(refs).To(ConsistOf("team/charts/hello:0.1.0", "team/charts/stack:0.1.0"))
	srv := httptest.NewServer(logRequests(reg, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	out, err := helm(t, "show", "chart", "oci://"+host+"/team/charts/stack", "--version", "0.1.0", "--plain-http")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(ContainSubstring("name: stack"))
	pulled := t.TempDir()
	_, err = helm(t, "pull", "oci://"+host+"/team/charts/hello", "--version", "0.1.0", "--plain-http", "--destination", pulled)
	g.Expect(err).NotTo(HaveOccurred())
	original, err := os.ReadFile(filepath.Join(dir, "hello-0.1.0.tgz"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.ReadFile(filepath.Join(pulled, "hello-0.1.0.tgz"))).To(Equal(original))

	status := func(method, target string) int {
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+target, strings.NewReader("x"))
		g.Expect(err).NotTo(HaveOccurred())
		resp, err := http.DefaultClient.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	g.Expect(status(http.MethodPost, "/v2/team/charts/hello/blobs/uploads/")).To(Equal(http.StatusMethodNotAllowed), "pushes are refused")
	g.Expect(status(http.MethodDelete, "/v2/team/charts/hello/manifests/0.1.0")).To(Equal(http.StatusMethodNotAllowed), "deletes are refused")
	g.Expect(status(http.MethodGet, "/v2/team/charts/hello/tags/list")).To(Equal(http.StatusOK))
}

func TestNewOCIRegistry_badArchive(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.WriteFile(filepath.Join(dir, "broken-1.0.0.tgz"), []byte("not an archive"), 0o644)).To(Succeed())
	_, _, err := newOCIRegistry(t.Context(), dir, "charts", log.New(io.Discard, "", 0))
	g.Expect(err).To(MatchError(ContainSubstring("reading broken-1.0.0.tgz")))
}
