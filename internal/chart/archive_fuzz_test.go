package chart

import (
	"bytes"
	"path"
	"strings"
	"testing"
)

// fuzzLimits keep each fuzz input cheap while still reaching every limit check.
var fuzzLimits = Limits{MaxArchiveSize: 1 << 20, MaxDecompressedSize: 4 << 20, MaxFileSize: 1 << 20, MaxEntries: 500}

// FuzzLoadArchive feeds arbitrary bytes to the archive loader. Input that is not gzip is taken
// as a tar stream and gzipped first, so the fuzzer can work on tar headers directly. Whatever the
// loader accepts must hold only clean relative paths, stay inside the limits and nesting depth,
// carry valid metadata, and survive a round trip through Archive.
func FuzzLoadArchive(f *testing.F) {
	valid := chartTgz(f, "demo", with(minimalChart("demo"), map[string]string{
		"crds/c.yaml":           "kind: CustomResourceDefinition\n",
		"charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
	}))
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(tgz(f, reg("demo/Chart.yaml", chartYAML), reg("demo/../../etc/passwd", "root")))
	f.Add(tgz(f, reg("demo/Chart.yaml", chartYAML), tarEntry{name: "demo/link", typ: '2', linkname: "/etc/passwd"}))
	f.Add(chartTgz(f, "p", with(minimalChart("p"), map[string]string{"charts/s.tgz": string(chartTgz(f, "s", minimalChart("s")))})))
	f.Add(tgz(f, reg(`demo\Chart.yaml`, chartYAML), reg(`demo\templates\a.yaml`, "a")))
	f.Add(tarBytes(f, reg("demo/Chart.yaml", chartYAML), reg("demo/values.yaml", "a: 1\n---\nb: 2\n"), reg("demo/charts/x/Chart.yaml", chartYAML)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			data = gz(t, data)
		}
		c, err := LoadBytes(data, fuzzLimits)
		if err != nil {
			return
		}
		var total int64
		entries := checkTree(t, c, 0, &total)
		if total > fuzzLimits.MaxDecompressedSize || entries > fuzzLimits.MaxEntries {
			t.Fatalf("loaded %d bytes in %d files, past the limits", total, entries)
		}
		var out bytes.Buffer
		if err := Archive(&out, c); err != nil {
			return
		}
		back, err := LoadBytes(out.Bytes(), Limits{MaxArchiveSize: 64 << 20, MaxDecompressedSize: 64 << 20})
		if err != nil {
			t.Fatalf("Archive wrote a chart that does not load back: %v", err)
		}
		if got, want := fileNames(back.Files), fileNames(c.Files); !equalStrings(got, want) {
			t.Fatalf("files after a round trip: %q, want %q", got, want)
		}
	})
}

// checkTree checks the loaded tree and returns its file count, adding its bytes to total.
func checkTree(t *testing.T, c *Chart, depth int, total *int64) int {
	t.Helper()
	if depth > MaxSubchartDepth {
		t.Fatalf("subcharts nested %d deep", depth)
	}
	if err := c.Metadata.Validate(); err != nil {
		t.Fatalf("loaded chart has invalid metadata: %v", err)
	}
	count := 0
	for _, f := range append(append([]*File{}, c.Files...), c.Templates...) {
		checkName(t, f.Name)
		if int64(len(f.Data)) > fuzzLimits.MaxFileSize {
			t.Fatalf("file %q has %d bytes", f.Name, len(f.Data))
		}
		*total += int64(len(f.Data))
		count++
	}
	*total += int64(len(c.RawValues) + len(c.Schema))
	for _, d := range c.Dependencies() {
		count += checkTree(t, d, depth+1, total)
	}
	return count
}

func checkName(t *testing.T, name string) {
	t.Helper()
	if name == "" || path.IsAbs(name) || path.Clean(name) != name || strings.HasPrefix(name, "..") ||
		strings.Contains(name, `\`) || drivePath.MatchString(name) {
		t.Fatalf("unsafe file name %q", name)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
