package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

const chartYAML = "apiVersion: v2\nname: demo\nversion: 0.1.0\n"

func TestLoadArchive_rejectsBadArchives(t *testing.T) {
	cases := map[string]struct {
		archive func(t *testing.T) []byte
		wantErr string
		kind    error
	}{
		"a parent reference escapes the chart": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", chartYAML), reg("demo/../../etc/passwd", "x"))
			},
			wantErr: "unable to load chart archive: chart illegally references parent directory",
			kind:    ErrUnsafeArchive,
		},
		"an absolute path after the top folder": {
			archive: func(t *testing.T) []byte { return tgz(t, reg("demo//etc/passwd", "x")) },
			wantErr: "unable to load chart archive: chart illegally contains absolute paths",
			kind:    ErrUnsafeArchive,
		},
		"a long name carried in a PAX record that climbs out": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", chartYAML), reg("demo/"+strings.Repeat("d", 120)+"/../../../etc/cron.d/x", "x"))
			},
			wantErr: "chart illegally references parent directory",
			kind:    ErrUnsafeArchive,
		},
		"a drive letter": {
			archive: func(t *testing.T) []byte { return tgz(t, reg("demo/c:/windows/x", "x")) },
			wantErr: "chart contains illegally named files",
			kind:    ErrUnsafeArchive,
		},
		"backslash separators climbing out": {
			archive: func(t *testing.T) []byte { return tgz(t, reg(`a\..\..\x`, "x")) },
			wantErr: "chart illegally references parent directory",
			kind:    ErrUnsafeArchive,
		},
		"backslash and slash mixed in one name": {
			archive: func(t *testing.T) []byte { return tgz(t, reg(`demo/templates\x.yaml`, "x")) },
			wantErr: "chart contains illegally named files",
			kind:    ErrUnsafeArchive,
		},
		"a file at the archive root": {
			archive: func(t *testing.T) []byte { return tgz(t, reg("Chart.yaml", chartYAML)) },
			wantErr: `chart illegally contains content outside the base directory: "Chart.yaml"`,
			kind:    ErrUnsafeArchive,
		},
		"Chart.yaml used as the top folder": {
			archive: func(t *testing.T) []byte { return tgz(t, reg("Chart.yaml/values.yaml", "a: 1")) },
			wantErr: "chart yaml not in base directory",
			kind:    ErrUnsafeArchive,
		},
		"a symbolic link entry": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", chartYAML), tarEntry{name: "demo/templates/x.yaml", typ: tar.TypeSymlink, linkname: "/etc/passwd"})
			},
			wantErr: `chart illegally contains a symbolic link: "demo/templates/x.yaml"`,
			kind:    ErrUnsafeArchive,
		},
		"a hard link entry": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", chartYAML), tarEntry{name: "demo/x", typ: tar.TypeLink, linkname: "demo/Chart.yaml"})
			},
			wantErr: `chart illegally contains a hard link: "demo/x"`,
			kind:    ErrUnsafeArchive,
		},
		"a character device entry": {
			archive: func(t *testing.T) []byte { return tgz(t, tarEntry{name: "demo/zero", typ: tar.TypeChar}) },
			wantErr: `chart illegally contains a device: "demo/zero"`,
			kind:    ErrUnsafeArchive,
		},
		"a block device entry": {
			archive: func(t *testing.T) []byte { return tgz(t, tarEntry{name: "demo/sda", typ: tar.TypeBlock}) },
			wantErr: `chart illegally contains a device: "demo/sda"`,
			kind:    ErrUnsafeArchive,
		},
		"a FIFO entry": {
			archive: func(t *testing.T) []byte { return tgz(t, tarEntry{name: "demo/pipe", typ: tar.TypeFifo}) },
			wantErr: `chart illegally contains a FIFO: "demo/pipe"`,
			kind:    ErrUnsafeArchive,
		},
		"the same file twice": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", chartYAML), reg("demo/values.yaml", "a: 1"), reg("demo/./values.yaml", "a: 2"))
			},
			wantErr: `chart archive contains "values.yaml" more than once`,
			kind:    ErrUnsafeArchive,
		},
		"two top-level folders": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", chartYAML), reg("other/templates/x.yaml", "x"))
			},
			wantErr: `chart archive has more than one top-level folder: "demo" and "other"`,
			kind:    ErrUnsafeArchive,
		},
		"only directories": {
			archive: func(t *testing.T) []byte { return tgz(t, tarEntry{name: "demo/", typ: tar.TypeDir}) },
			wantErr: "unable to load chart archive: no files in chart archive",
		},
		"an empty stream": {
			archive: func(*testing.T) []byte { return nil },
			wantErr: "unable to load chart archive: EOF",
		},
		"not gzip at all": {
			archive: func(*testing.T) []byte { return []byte("apiVersion: v2\nname: demo\n") },
			wantErr: "stream does not appear to be a valid chart file (details: gzip: invalid header)",
		},
		"gzip but not tar": {
			archive: func(t *testing.T) []byte { return gz(t, bytes.Repeat([]byte("not a tar "), 100)) },
			wantErr: "unable to load chart archive: archive/tar: invalid tar header",
		},
		"a truncated archive": {
			archive: func(t *testing.T) []byte {
				b := chartTgz(t, "demo", minimalChart("demo"))
				return b[:len(b)/2]
			},
			wantErr: "unable to load chart archive: unexpected EOF",
		},
		"a header that promises more bytes than follow": {
			archive: func(t *testing.T) []byte {
				hd := rawHeader(t, &tar.Header{Name: "demo/values.yaml", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4096})
				return gz(t, append(hd, "a: 1\n"...))
			},
			wantErr: "unable to load chart archive: unexpected EOF",
		},
		"no Chart.yaml anywhere": {
			archive: func(t *testing.T) []byte { return tgz(t, reg("demo/values.yaml", "a: 1")) },
			wantErr: "unable to detect chart version, no Chart.yaml found",
		},
		"an apiVersion Helm v4 does not know": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", "apiVersion: v9\nname: demo\nversion: 1.0.0\n"))
			},
			wantErr: "unsupported chart version",
			kind:    ErrUnsupportedAPIVersion,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := LoadBytes(tc.archive(t), DefaultLimits())
			g.Expect(c).To(BeNil())
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			if tc.kind != nil {
				g.Expect(errors.Is(err, tc.kind)).To(BeTrue(), "error %q should be %v", err, tc.kind)
			}
		})
	}
}

func TestLoadArchive_acceptsOddButValidArchives(t *testing.T) {
	cases := map[string]struct {
		archive   func(t *testing.T) []byte
		wantFiles []string
		check     func(g Gomega, c *Chart)
	}{
		"backslash separators from a Windows packager": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg(`demo\Chart.yaml`, chartYAML), reg(`demo\templates\cm.yaml`, "x"), reg(`demo\files\a.txt`, "a"))
			},
			wantFiles: []string{"files/a.txt"},
			check: func(g Gomega, c *Chart) {
				g.Expect(fileNames(c.Templates)).To(Equal([]string{"templates/cm.yaml"}))
			},
		},
		"a top folder that is not the chart name": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("whatever/Chart.yaml", chartYAML), reg("whatever/README.md", "hi"))
			},
			wantFiles: []string{"README.md"},
		},
		"directory, PAX and global headers are skipped": {
			archive: func(t *testing.T) []byte {
				long := "demo/files/" + string(bytes.Repeat([]byte("n"), 150)) + ".txt"
				return tgz(t,
					tarEntry{typ: tar.TypeXGlobalHeader, body: "made by a test"},
					tarEntry{name: "demo/", typ: tar.TypeDir},
					reg("demo/Chart.yaml", chartYAML),
					reg(long, "long name needs a PAX record"))
			},
			wantFiles: []string{"files/" + string(bytes.Repeat([]byte("n"), 150)) + ".txt"},
		},
		"a UTF-8 byte order mark is stripped from every file": {
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", "\uFEFF"+chartYAML), reg("demo/notes.txt", "\uFEFFhello"))
			},
			wantFiles: []string{"notes.txt"},
			check: func(g Gomega, c *Chart) {
				g.Expect(string(c.Files[0].Data)).To(Equal("hello"))
				g.Expect(c.Name()).To(Equal("demo"))
			},
		},
		"a header that says one byte and is followed by a gigabyte of zeros ends at the zero blocks": {
			archive: func(t *testing.T) []byte {
				var b bytes.Buffer
				b.Write(tarBytes(t, reg("demo/Chart.yaml", chartYAML))[:1024])
				b.Write(rawHeader(t, &tar.Header{Name: "demo/a.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1}))
				b.Write(append([]byte("a"), make([]byte, 511)...))
				return append(gz(t, b.Bytes()), zeroMembers(t, 1<<30)...)
			},
			wantFiles: []string{"a.txt"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := LoadBytes(tc.archive(t), DefaultLimits())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(fileNames(c.Files)).To(Equal(tc.wantFiles))
			if tc.check != nil {
				tc.check(g, c)
			}
		})
	}
}

// zeroMembers returns gzip members that together decompress to n zero bytes (n a multiple of
// 1 MiB). Gzip readers join members, so bombs are cheap to build this way.
func zeroMembers(t testing.TB, n int64) []byte {
	t.Helper()
	member := gz(t, make([]byte, 1<<20))
	return bytes.Repeat(member, int(n>>20))
}

func TestLoadArchive_readsThroughGzipMembers(t *testing.T) {
	g := NewWithT(t)
	stream := tarBytes(t, reg("demo/Chart.yaml", chartYAML), reg("demo/a.txt", "a"))
	joined := append(gz(t, stream[:700]), gz(t, stream[700:])...)
	c, err := LoadBytes(joined, DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fileNames(c.Files)).To(Equal([]string{"a.txt"}))
}

func TestLoadArchive_limits(t *testing.T) {
	small := Limits{MaxArchiveSize: 64 << 10, MaxDecompressedSize: 1 << 20, MaxFileSize: 256 << 10, MaxEntries: 50}
	roomy := small
	roomy.MaxArchiveSize = 100 << 20
	cases := map[string]struct {
		archive func(t *testing.T) []byte
		lim     Limits
		wantErr string
	}{
		"one file above the per-file limit": {
			lim: small,
			archive: func(t *testing.T) []byte {
				return tgz(t, reg("demo/Chart.yaml", chartYAML), reg("demo/big.json", string(make([]byte, 256<<10+1))))
			},
			wantErr: `decompressed chart file "big.json" is larger than the maximum file size 262144`,
		},
		"files that together pass the total": {
			lim: small,
			archive: func(t *testing.T) []byte {
				entries := []tarEntry{reg("demo/Chart.yaml", chartYAML)}
				for _, n := range []string{"a", "b", "c", "d", "e"} {
					entries = append(entries, reg("demo/files/"+n, string(make([]byte, 250<<10))))
				}
				return tgz(t, entries...)
			},
			wantErr: "decompressed chart is larger than the maximum size 1048576",
		},
		"more entries than allowed": {
			lim: small,
			archive: func(t *testing.T) []byte {
				entries := []tarEntry{reg("demo/Chart.yaml", chartYAML)}
				for i := range 60 {
					entries = append(entries, reg(fmt.Sprintf("demo/files/f%d", i), ""))
				}
				return tgz(t, entries...)
			},
			wantErr: "chart has more than the maximum of 50 files and directories",
		},
		"a compressed stream above the archive limit": {
			lim: small,
			archive: func(t *testing.T) []byte {
				noise := make([]byte, 100<<10)
				_, _ = rand.Read(noise)
				return tgz(t, reg("demo/Chart.yaml", chartYAML), reg("demo/noise", string(noise)))
			},
			wantErr: "chart archive is larger than the maximum archive size 65536",
		},
		"global headers carrying megabytes that never reach a file": {
			lim: roomy,
			archive: func(t *testing.T) []byte {
				global := gz(t, rawHeader(t, &tar.Header{Typeflag: tar.TypeXGlobalHeader,
					PAXRecords: map[string]string{"comment": strings.Repeat("x", 900<<10)}}))
				return append(gz(t, tarBytes(t, reg("demo/Chart.yaml", chartYAML))[:1024]), bytes.Repeat(global, 40)...)
			},
			wantErr: "decompressed chart is larger than the maximum size 1048576",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := LoadBytes(tc.archive(t), tc.lim)
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			g.Expect(errors.Is(err, ErrLimitExceeded)).To(BeTrue(), "error %q should be ErrLimitExceeded", err)
		})
	}
}

func TestLoadArchive_compressedLimitAlsoAppliesToStreams(t *testing.T) {
	g := NewWithT(t)
	archive := chartTgz(t, "demo", minimalChart("demo"))
	_, err := LoadArchive(io.MultiReader(bytes.NewReader(archive)), Limits{MaxArchiveSize: int64(len(archive) - 1)})
	g.Expect(errors.Is(err, ErrLimitExceeded)).To(BeTrue(), "got %v", err)
	_, err = LoadArchive(bytes.NewReader(archive), Limits{MaxArchiveSize: int64(len(archive))})
	g.Expect(err).NotTo(HaveOccurred())
}

func TestLoad_limitsAtTheirLargest(t *testing.T) {
	g := NewWithT(t)
	huge := Limits{MaxArchiveSize: math.MaxInt64, MaxDecompressedSize: math.MaxInt64, MaxFileSize: math.MaxInt64, MaxEntries: math.MaxInt32}
	c, err := LoadBytes(chartTgz(t, "demo", minimalChart("demo")), huge)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Values).To(Equal(map[string]any{"a": float64(1)}))
	dir := t.TempDir()
	writeTree(t, dir, minimalChart("demo"))
	c, err = LoadDir(dir, huge)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(c.RawValues)).To(Equal("a: 1\n"))
}

func TestCappedReader_Read(t *testing.T) {
	errCap := errors.New("capped")
	cases := map[string]struct {
		input   int
		max     int64
		wantErr error
	}{
		"shorter than the cap":   {input: 10, max: 11},
		"exactly the cap":        {input: 11, max: 11},
		"one byte over the cap":  {input: 12, max: 11, wantErr: errCap},
		"far over the cap":       {input: 1 << 20, max: 11, wantErr: errCap},
		"an empty input, no cap": {input: 0, max: 0},
		"the largest cap":        {input: 100, max: math.MaxInt64},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			r := &cappedReader{r: bytes.NewReader(make([]byte, tc.input)), max: tc.max, err: errCap}
			data, err := io.ReadAll(r)
			if tc.wantErr != nil {
				g.Expect(err).To(MatchError(tc.wantErr))
				g.Expect(int64(len(data))).To(BeNumerically("<=", tc.max))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(data).To(HaveLen(tc.input))
		})
	}
}

func TestLoadArchive_gzipHeaderErrorIsWrapped(t *testing.T) {
	g := NewWithT(t)
	_, err := LoadBytes([]byte("PK\x03\x04 a zip file"), DefaultLimits())
	g.Expect(errors.Is(err, gzip.ErrHeader)).To(BeTrue())
}
