package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// newTestRoot lays out a small repository: index.yaml, an archive, a file in a subdirectory, a
// dotfile, and a symbolic link that points outside the served directory.
func newTestRoot(t *testing.T) string {
	t.Helper()
	outside := t.TempDir()
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.yaml", "apiVersion: v1\nentries: {}\n")
	write("hello-0.1.0.tgz", "archive bytes")
	write("sub/stack-0.1.0.tgz", "nested archive")
	write(".secret", "not for clients")
	write("notes.bin", "raw")
	if err := os.WriteFile(filepath.Join(outside, "passwd"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(dir, "escape.tgz")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "outdir")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestHandler_ServeHTTP(t *testing.T) {
	root, err := os.OpenRoot(newTestRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = root.Close() })
	h := newHandler(root, slog.New(slog.DiscardHandler))

	cases := map[string]struct {
		method, target string
		header         map[string]string
		status         int
		body           string
		contentType    string
	}{
		"the index is served as YAML":                   {method: "GET", target: "/index.yaml", status: 200, body: "apiVersion: v1\nentries: {}\n", contentType: "application/yaml"},
		"an archive is served as gzip":                  {method: "GET", target: "/hello-0.1.0.tgz", status: 200, body: "archive bytes", contentType: "application/gzip"},
		"a file in a subdirectory is served":            {method: "GET", target: "/sub/stack-0.1.0.tgz", status: 200, body: "nested archive"},
		"an unknown extension is octet-stream":          {method: "GET", target: "/notes.bin", status: 200, body: "raw", contentType: "application/octet-stream"},
		"HEAD sends headers without a body":             {method: "HEAD", target: "/index.yaml", status: 200, body: "", contentType: "application/yaml"},
		"a range request gets part of the file":         {method: "GET", target: "/hello-0.1.0.tgz", header: map[string]string{"Range": "bytes=0-6"}, status: 206, body: "archive"},
		"uploads are refused":                           {method: "PUT", target: "/index.yaml", status: 405},
		"deletes are refused":                           {method: "DELETE", target: "/hello-0.1.0.tgz", status: 405},
		"the root is not listed":                        {method: "GET", target: "/", status: 404},
		"a directory is not listed":                     {method: "GET", target: "/sub/", status: 404},
		"a directory without a slash is refused":        {method: "GET", target: "/sub", status: 404},
		"a dotfile is hidden":                           {method: "GET", target: "/.secret", status: 404},
		"a missing file is not found":                   {method: "GET", target: "/nope-1.0.0.tgz", status: 404},
		"a symbolic link out of the root is refused":    {method: "GET", target: "/escape.tgz", status: 404},
		"a linked directory out of the root is refused": {method: "GET", target: "/outdir/passwd", status: 404},
		"dot-dot cannot climb out":                      {method: "GET", target: "/sub/../../etc/passwd", status: 404},
		"an encoded dot-dot cannot climb out":           {method: "GET", target: "/%2e%2e/%2e%2e/etc/passwd", status: 404},
		"a doubled slash is refused":                    {method: "GET", target: "//index.yaml", status: 404},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			req := httptest.NewRequest(tc.method, "http://repo.test"+tc.target, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			g.Expect(rec.Code).To(Equal(tc.status))
			if tc.status >= 400 {
				g.Expect(rec.Body.String()).NotTo(ContainSubstring("outside"))
				g.Expect(rec.Body.String()).NotTo(ContainSubstring("not for clients"))
				return
			}
			g.Expect(rec.Body.String()).To(Equal(tc.body))
			g.Expect(rec.Header().Get("X-Content-Type-Options")).To(Equal("nosniff"))
			if tc.contentType != "" {
				g.Expect(rec.Header().Get("Content-Type")).To(Equal(tc.contentType))
			}
		})
	}
}

func TestHandler_logsRequests(t *testing.T) {
	g := NewWithT(t)
	root, err := os.OpenRoot(newTestRoot(t))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = root.Close() }()
	var log bytes.Buffer
	h := newHandler(root, slog.New(slog.NewTextHandler(&log, nil)))

	for _, target := range []string{"/index.yaml", "/missing.tgz"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, target, nil))
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	g.Expect(lines).To(HaveLen(2))
	g.Expect(lines[0]).To(And(ContainSubstring("method=GET"), ContainSubstring("path=/index.yaml"),
		ContainSubstring("status=200"), ContainSubstring("bytes=27")))
	g.Expect(lines[1]).To(And(ContainSubstring("path=/missing.tgz"), ContainSubstring("status=404")))
}

func TestFileName(t *testing.T) {
	cases := map[string]struct {
		path string
		want string
		ok   bool
	}{
		"a top-level file":            {path: "/index.yaml", want: "index.yaml", ok: true},
		"a nested file":               {path: "/a/b.tgz", want: "a/b.tgz", ok: true},
		"the root":                    {path: "/", ok: false},
		"the empty path":              {path: "", ok: false},
		"a directory":                 {path: "/a/", ok: false},
		"a parent reference":          {path: "/a/../b", ok: false},
		"a dotfile":                   {path: "/.git/config", ok: false},
		"an empty element":            {path: "/a//b", ok: false},
		"a backslash":                 {path: `/a\..\b`, ok: false},
		"a current-directory element": {path: "/./index.yaml", ok: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, ok := fileName(tc.path)
			g.Expect(ok).To(Equal(tc.ok))
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// FuzzFileName checks that every name the handler accepts stays inside the served directory and
// names no hidden file.
func FuzzFileName(f *testing.F) {
	for _, seed := range []string{"/index.yaml", "/a/b.tgz", "/../x", "/a/./b", "//", `/a\b`, "/.hidden", "/a/..", "/\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		name, ok := fileName(p)
		if !ok {
			return
		}
		if !filepath.IsLocal(name) || strings.HasPrefix(name, "/") {
			t.Fatalf("fileName(%q) = %q escapes the root", p, name)
		}
		for _, elem := range strings.Split(name, "/") {
			if elem == "" || strings.HasPrefix(elem, ".") {
				t.Fatalf("fileName(%q) = %q has element %q", p, name, elem)
			}
		}
	})
}
