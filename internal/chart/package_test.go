package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// packagedChart is a chart directory with a bit of everything Package has to carry over.
func packagedChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	writeTree(t, dir, with(minimalChart("demo"), map[string]string{
		"Chart.yaml": "# a comment Helm drops too\napiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: \"1.0\"\n" +
			"dependencies:\n- name: sub\n  version: 1.0.0\n- name: packed\n  version: \"~2\"\n  alias: other\n",
		"Chart.lock":         "generated: \"2024-01-01T00:00:00Z\"\ndigest: sha256:abc\ndependencies:\n- name: sub\n  version: 1.0.0\n  repository: \"\"\n",
		".helmignore":        "*.swp\n",
		"notes.swp":          "ignored",
		"values.yaml":        "# kept verbatim\na: 1\n---\nb: 2\n",
		"values.schema.json": `{"type": "object"}`,
		"crds/crd.yaml":      "kind: CustomResourceDefinition\n",
		"files/a/b.txt":      "b",
		"files/a.txt":        "a",
		"templates/a/b.yaml": "kind: ConfigMap\n",
	}))
	writeTree(t, dir, prefixed("charts/sub/", minimalChart("sub")))
	writeTree(t, dir, map[string]string{"charts/packed-2.0.0.tgz": string(chartTgz(t, "packed", minimalChart("packed")))})
	return dir
}

// tarNames lists the entries of a gzipped tar file and checks their headers on the way.
func tarNames(g Gomega, archive []byte) []string {
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	g.Expect(err).NotTo(HaveOccurred())
	tr := tar.NewReader(zr)
	var names []string
	for {
		hd, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(hd.Typeflag).To(Equal(byte(tar.TypeReg)))
		g.Expect(hd.ModTime.UTC()).To(Equal(DefaultModTime))
		g.Expect(hd.Mode).To(Equal(int64(0o644)))
		names = append(names, hd.Name)
	}
}

func TestPackage(t *testing.T) {
	g := NewWithT(t)
	dir := packagedChart(t)
	out := filepath.Join(t.TempDir(), "new", "dist")

	p, err := Package(dir, out, PackageOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p).To(Equal(filepath.Join(out, "demo-0.1.0.tgz")))
	archive, err := os.ReadFile(p)
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(tarNames(g, archive)).To(Equal([]string{
		"demo/.helmignore", "demo/Chart.lock", "demo/Chart.yaml",
		"demo/charts/packed/Chart.yaml", "demo/charts/packed/templates/_help.tpl", "demo/charts/packed/templates/cm.yaml", "demo/charts/packed/values.yaml",
		"demo/charts/sub/Chart.yaml", "demo/charts/sub/templates/_help.tpl", "demo/charts/sub/templates/cm.yaml", "demo/charts/sub/values.yaml",
		"demo/crds/crd.yaml", "demo/files/a/b.txt", "demo/files/a.txt",
		"demo/templates/_help.tpl", "demo/templates/a/b.yaml", "demo/templates/cm.yaml",
		"demo/values.schema.json", "demo/values.yaml",
	}), "sorted as a directory walk lists them, .helmignore applied, archived subcharts unpacked")

	src, err := LoadDir(dir, DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	got, err := LoadBytes(archive, DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Metadata).To(Equal(src.Metadata))
	g.Expect(got.Lock).To(Equal(src.Lock))
	g.Expect(got.Templates).To(Equal(src.Templates))
	g.Expect(got.Files).To(Equal(src.Files))
	g.Expect(got.Values).To(Equal(src.Values))
	g.Expect(got.RawValues).To(Equal(src.RawValues), "values.yaml is carried byte for byte")
	g.Expect(got.Schema).To(Equal(src.Schema))
	g.Expect(depNames(got)).To(Equal(depNames(src)))
	for i, d := range got.Dependencies() {
		g.Expect(d.Templates).To(Equal(src.Dependencies()[i].Templates))
	}
}

func TestPackage_isReproducible(t *testing.T) {
	g := NewWithT(t)
	dir := packagedChart(t)
	first, err := Package(dir, filepath.Join(t.TempDir(), "1"), PackageOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	second, err := Package(dir, filepath.Join(t.TempDir(), "2"), PackageOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	a, err := os.ReadFile(first)
	g.Expect(err).NotTo(HaveOccurred())
	b, err := os.ReadFile(second)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a).To(Equal(b))

	stamped, err := Package(dir, filepath.Join(t.TempDir(), "3"), PackageOptions{ModTime: time.Unix(1700000000, 0)})
	g.Expect(err).NotTo(HaveOccurred())
	c, err := os.ReadFile(stamped)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c).NotTo(Equal(a), "ModTime is written into the entries")
}

func TestPackage_options(t *testing.T) {
	cases := map[string]struct {
		opts     PackageOptions
		files    map[string]string
		wantFile string
		wantErr  string
		check    func(g Gomega, c *Chart)
	}{
		"version and appVersion overrides rewrite Chart.yaml": {
			opts:     PackageOptions{Version: "2.0.0-rc.1", AppVersion: "v9"},
			wantFile: "demo-2.0.0-rc.1.tgz",
			check: func(g Gomega, c *Chart) {
				g.Expect(c.Metadata.Version).To(Equal("2.0.0-rc.1"))
				g.Expect(c.Metadata.AppVersion).To(Equal("v9"))
			},
		},
		"a version that is not semver": {
			opts:    PackageOptions{Version: "next"},
			wantErr: `invalid version "next"`,
		},
		"a declared dependency missing from charts/": {
			files:   map[string]string{"Chart.yaml": chartYAML + "dependencies:\n- name: db\n  version: 1.0.0\n"},
			wantErr: "found in Chart.yaml, but missing in charts/ directory: db",
		},
		"a schema that is not JSON": {
			files:   map[string]string{"values.schema.json": "{not json"},
			wantErr: "invalid JSON in values.schema.json",
		},
		"a directory that is not a chart": {
			files:   map[string]string{"Chart.yaml": "apiVersion: v2\nname: demo\n"},
			wantErr: "validation: chart.metadata.version is required",
		},
		"a v1 chart keeps its dependencies in requirements.yaml only": {
			files: map[string]string{
				"Chart.yaml":            "apiVersion: v1\nname: demo\nversion: 0.1.0\n",
				"requirements.yaml":     "dependencies:\n- name: sub\n  version: 1.0.0\n",
				"charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
			},
			wantFile: "demo-0.1.0.tgz",
			check: func(g Gomega, c *Chart) {
				g.Expect(c.Metadata.Dependencies).To(HaveLen(1))
				g.Expect(fileNames(c.Files)).To(ContainElement("requirements.yaml"))
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			writeTree(t, dir, with(minimalChart("demo"), tc.files))
			out := t.TempDir()
			p, err := Package(dir, out, tc.opts)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				left, _ := os.ReadDir(out)
				g.Expect(left).To(BeEmpty(), "a failed package leaves nothing behind")
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(filepath.Base(p)).To(Equal(tc.wantFile))
			c, err := Load(p, DefaultLimits())
			g.Expect(err).NotTo(HaveOccurred())
			tc.check(g, c)
		})
	}
}

func TestArchive_refusesWhatCannotReadBack(t *testing.T) {
	chartWith := func(edit func(c *Chart)) *Chart {
		c := &Chart{Metadata: validMetadata()}
		edit(c)
		return c
	}
	cases := map[string]struct {
		chart   *Chart
		wantErr string
	}{
		"no metadata":               {chart: &Chart{}, wantErr: "chart.metadata is required"},
		"a file climbing out":       {chart: chartWith(func(c *Chart) { c.Files = []*File{{Name: "../x"}} }), wantErr: `invalid file name "../x"`},
		"an absolute file name":     {chart: chartWith(func(c *Chart) { c.Files = []*File{{Name: "/etc/x"}} }), wantErr: `invalid file name "/etc/x"`},
		"an unclean file name":      {chart: chartWith(func(c *Chart) { c.Templates = []*File{{Name: "templates//x"}} }), wantErr: `invalid file name "templates//x"`},
		"a backslash":               {chart: chartWith(func(c *Chart) { c.Files = []*File{{Name: `a\b`}} }), wantErr: `invalid file name "a\\b"`},
		"a chart name with a slash": {chart: chartWith(func(c *Chart) { c.Metadata.Name = "a/b" }), wantErr: `chart.metadata.name "a/b" is invalid`},
		"two subcharts of one name": {chart: chartWith(func(c *Chart) {
			c.AddDependency(&Chart{Metadata: validMetadata()}, &Chart{Metadata: validMetadata()})
		}), wantErr: `"demo/charts/demo/Chart.yaml" would be written twice`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := Archive(io.Discard, tc.chart)
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestCompareWalkOrder(t *testing.T) {
	g := NewWithT(t)
	g.Expect(compareWalkOrder("a/b", "a.txt")).To(BeNumerically("<", 0))
	g.Expect(compareWalkOrder("a-b", "a/b")).To(BeNumerically(">", 0))
	g.Expect(compareWalkOrder("B", "a")).To(BeNumerically("<", 0))
	g.Expect(compareWalkOrder("x/y", "x/y")).To(Equal(0))
}
