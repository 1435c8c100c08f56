package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tarEntry describes one entry of a test archive. A zero typ means a regular file.
type tarEntry struct {
	name     string
	body     string
	typ      byte
	linkname string
}

// reg is a regular-file entry.
func reg(name, body string) tarEntry { return tarEntry{name: name, body: body} }

// tarBytes writes entries as a complete tar stream.
func tarBytes(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hd := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.linkname}
		if hd.Typeflag == tar.TypeXGlobalHeader {
			hd = &tar.Header{Typeflag: e.typ, PAXRecords: map[string]string{"comment": e.body}}
		}
		if hd.Typeflag == 0 {
			hd.Typeflag = tar.TypeReg
			hd.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hd); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if hd.Size == 0 {
			continue
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatalf("tar body %q: %v", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("tar close: %v", err)
	}
	return buf.Bytes()
}

// rawHeader returns the bytes of one tar header (with any PAX record), with nothing after it, so
// tests can follow it with as much or as little data as they like.
func rawHeader(t testing.TB, hd *tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(hd); err != nil {
		t.Fatalf("tar header %q: %v", hd.Name, err)
	}
	// Flush writes the padding of a header that carries its own data (PAX, global); for a file
	// header it refuses, since the file's bytes are missing, which is what the caller wants.
	_ = tw.Flush()
	return buf.Bytes()
}

// gz compresses b as one gzip member.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tgz builds a gzipped tar of the entries.
func tgz(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	return gz(t, tarBytes(t, entries...))
}

// chartTgz builds an archive of a chart whose files are given relative to its root, under the
// top folder top, in sorted order.
func chartTgz(t testing.TB, top string, files map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	entries := make([]tarEntry, 0, len(names))
	for _, n := range names {
		entries = append(entries, reg(top+"/"+n, files[n]))
	}
	return tgz(t, entries...)
}

// minimalChart returns the files of a valid chart named name.
func minimalChart(name string) map[string]string {
	return map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n",
		"values.yaml":         "a: 1\n",
		"templates/cm.yaml":   "kind: ConfigMap\n",
		"templates/_help.tpl": "{{ define \"x\" }}x{{ end }}\n",
	}
}

// with returns a copy of files with the extra files added or replaced.
func with(files map[string]string, extra map[string]string) map[string]string {
	out := make(map[string]string, len(files)+len(extra))
	maps.Copy(out, files)
	maps.Copy(out, extra)
	return out
}

// writeTree writes files (relative paths) below dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// fileNames lists the names of files.
func fileNames(files []*File) []string {
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, f.Name)
	}
	return names
}

// depNames lists the names of c's subcharts.
func depNames(c *Chart) []string {
	names := make([]string, 0, len(c.Dependencies()))
	for _, d := range c.Dependencies() {
		names = append(names, d.Name())
	}
	return names
}
