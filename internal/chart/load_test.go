package chart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestLoadArchive_placesFiles(t *testing.T) {
	g := NewWithT(t)
	files := with(minimalChart("demo"), map[string]string{
		"Chart.lock":              "generated: \"2024-01-01T00:00:00Z\"\ndigest: sha256:abc\ndependencies: []\n",
		"values.schema.json":      `{"type":"object"}`,
		"crds/crd.yaml":           "kind: CustomResourceDefinition\n",
		"files/a.txt":             "a",
		".helmignore":             "*.bak\n",
		"templates/NOTES.txt":     "notes",
		"templates/sub/deep.yaml": "kind: Secret\n",
		"charts/sub.prov":         "signature",
		"charts/sub/Chart.yaml":   "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
		"charts/sub/values.yaml":  "s: 1\n",
	})
	c, err := LoadBytes(chartTgz(t, "demo", files), DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(c.Metadata.Name).To(Equal("demo"))
	g.Expect(fileNames(c.Templates)).To(Equal([]string{"templates/NOTES.txt", "templates/_help.tpl", "templates/cm.yaml", "templates/sub/deep.yaml"}))
	g.Expect(fileNames(c.Files)).To(Equal([]string{".helmignore", "charts/sub.prov", "crds/crd.yaml", "files/a.txt"}),
		"Chart.yaml, Chart.lock, values, schema, templates and subcharts stay out of .Files; crds and .prov stay in")
	g.Expect(c.Values).To(Equal(map[string]any{"a": float64(1)}))
	g.Expect(string(c.RawValues)).To(Equal("a: 1\n"))
	g.Expect(string(c.Schema)).To(Equal(`{"type":"object"}`))
	g.Expect(c.Lock).NotTo(BeNil())
	g.Expect(c.Lock.Digest).To(Equal("sha256:abc"))
	g.Expect(depNames(c)).To(Equal([]string{"sub"}))
	sub := c.Dependencies()[0]
	g.Expect(sub.Parent()).To(BeIdenticalTo(c))
	g.Expect(sub.Values).To(Equal(map[string]any{"s": float64(1)}))
	g.Expect(sub.ChartFullPath()).To(Equal("demo/charts/sub"))
}

func TestLoadArchive_chartYAML(t *testing.T) {
	cases := map[string]struct {
		files   map[string]string
		wantErr string
		check   func(g Gomega, c *Chart)
	}{
		"no apiVersion means a Helm 2 chart": {
			files: map[string]string{"Chart.yaml": "name: old\nversion: 1.0.0\n"},
			check: func(g Gomega, c *Chart) { g.Expect(c.Metadata.APIVersion).To(Equal(APIVersionV1)) },
		},
		"unknown keys are ignored": {
			files: map[string]string{"Chart.yaml": chartYAML + "frobnicate: true\n"},
			check: func(g Gomega, c *Chart) { g.Expect(c.Name()).To(Equal("demo")) },
		},
		"strings are sanitised": {
			files: map[string]string{"Chart.yaml": chartYAML + "description: \"a\\tb\\u0007c\\u00a0d\"\n"},
			check: func(g Gomega, c *Chart) { g.Expect(c.Metadata.Description).To(Equal("a bc d")) },
		},
		"a v1 chart takes its dependencies from requirements.yaml and keeps it in .Files": {
			files: map[string]string{
				"Chart.yaml":        "apiVersion: v1\nname: old\nversion: 1.0.0\n",
				"requirements.yaml": "dependencies:\n- name: db\n  version: 1.x\n  repository: https://example.com\n",
				"requirements.lock": "dependencies: []\n",
			},
			check: func(g Gomega, c *Chart) {
				g.Expect(c.Metadata.Dependencies).To(HaveLen(1))
				g.Expect(c.Metadata.Dependencies[0].Name).To(Equal("db"))
				g.Expect(fileNames(c.Files)).To(Equal([]string{"requirements.lock", "requirements.yaml"}))
				g.Expect(c.Lock).NotTo(BeNil())
			},
		},
		"a v2 chart with requirements.yaml lets it override Chart.yaml's dependencies": {
			files: map[string]string{
				"Chart.yaml":        chartYAML + "dependencies:\n- name: a\n  version: 1.0.0\n",
				"requirements.yaml": "dependencies:\n- name: b\n  version: 2.0.0\n",
			},
			check: func(g Gomega, c *Chart) {
				g.Expect(c.Metadata.Dependencies).To(HaveLen(1))
				g.Expect(c.Metadata.Dependencies[0].Name).To(Equal("b"))
				g.Expect(c.Files).To(BeEmpty(), "v2 charts keep requirements.yaml out of .Files")
			},
		},
		"Chart.yaml that is not a map": {
			files:   map[string]string{"Chart.yaml": "- a\n- b\n"},
			wantErr: "cannot load Chart.yaml: error unmarshaling JSON",
		},
		"a field of the wrong type": {
			files:   map[string]string{"Chart.yaml": chartYAML + "keywords: 3\n"},
			wantErr: "cannot load Chart.yaml",
		},
		"a YAML alias bomb": {
			files:   map[string]string{"Chart.yaml": chartYAML + aliasBomb("description")},
			wantErr: "cannot load Chart.yaml",
		},
		"a name that is a path": {
			files:   map[string]string{"Chart.yaml": "apiVersion: v2\nname: ../../x\nversion: 1.0.0\n"},
			wantErr: `validation: chart.metadata.name "../../x" is invalid`,
		},
		"a null maintainer": {
			files:   map[string]string{"Chart.yaml": chartYAML + "maintainers: [null]\n"},
			wantErr: "validation: maintainers must not contain empty or null nodes",
		},
		"a null dependency": {
			files:   map[string]string{"Chart.yaml": chartYAML + "dependencies:\n- null\n"},
			wantErr: "validation: dependencies must not contain empty or null nodes",
		},
		"an alias with a newline": {
			files:   map[string]string{"Chart.yaml": chartYAML + "dependencies:\n- name: db\n  alias: \"a\\nb\"\n"},
			wantErr: `validation: dependency "db" has disallowed characters in the alias`,
		},
		"an invalid values.yaml": {
			files:   map[string]string{"Chart.yaml": chartYAML, "values.yaml": "- a list\n"},
			wantErr: "cannot load values.yaml: cannot unmarshal yaml document",
		},
		"an invalid Chart.lock": {
			files:   map[string]string{"Chart.yaml": chartYAML, "Chart.lock": "dependencies: 3\n"},
			wantErr: "cannot load Chart.lock",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := LoadBytes(chartTgz(t, "demo", tc.files), DefaultLimits())
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			tc.check(g, c)
		})
	}
}

// aliasBomb is the billion-laughs document of kubernetes#83253 under key.
func aliasBomb(key string) string {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	fmt.Fprintf(&b, "%s: *%s\n", key, prev)
	return b.String()
}

func TestLoadArchive_subcharts(t *testing.T) {
	sub := minimalChart("realname")
	cases := map[string]struct {
		files     map[string]string
		wantErr   string
		wantDeps  []string
		wantDepth int
	}{
		"units starting with _ or . are skipped": {
			files: with(minimalChart("p"), map[string]string{
				"charts/_hidden/Chart.yaml": "not: loaded",
				"charts/.git/config":        "x",
				"charts/ok/Chart.yaml":      "apiVersion: v2\nname: ok\nversion: 1.0.0\n",
			}),
			wantDeps: []string{"ok"},
		},
		"a subchart is named by its Chart.yaml, not its folder": {
			files:    with(minimalChart("p"), prefixed("charts/dirname/", sub)),
			wantDeps: []string{"realname"},
		},
		"a .tgz unit is loaded as an archive": {
			files:    with(minimalChart("p"), map[string]string{"charts/realname-0.1.0.tgz": string(chartTgz(t, "realname", sub))}),
			wantDeps: []string{"realname"},
		},
		"a .tar.gz unit is treated as a directory, as Helm does": {
			files:   with(minimalChart("p"), map[string]string{"charts/realname-0.1.0.tar.gz": string(chartTgz(t, "realname", sub))}),
			wantErr: "error unpacking subchart realname-0.1.0.tar.gz in p: Chart.yaml file is missing",
		},
		"a stray plain file in charts/": {
			files:   with(minimalChart("p"), map[string]string{"charts/README.md": "docs"}),
			wantErr: "error unpacking subchart README.md in p: Chart.yaml file is missing",
		},
		"a folder named like an archive": {
			files:   with(minimalChart("p"), map[string]string{"charts/x.tgz/Chart.yaml": "apiVersion: v2\nname: x\nversion: 1.0.0\n"}),
			wantErr: "error unpacking subchart tar in p: expected x.tgz, got x.tgz/Chart.yaml",
		},
		"a broken nested archive": {
			files:   with(minimalChart("p"), map[string]string{"charts/x.tgz": "this is plain text, not gzip"}),
			wantErr: "error unpacking subchart x.tgz in p: gzip: invalid header",
		},
		"a nested archive that escapes": {
			files:   with(minimalChart("p"), map[string]string{"charts/x.tgz": string(tgz(t, reg("x/../../evil", "x")))}),
			wantErr: "error unpacking subchart x.tgz in p: chart illegally references parent directory",
		},
		"an invalid subchart": {
			files:   with(minimalChart("p"), map[string]string{"charts/bad/Chart.yaml": "apiVersion: v2\nname: bad\n"}),
			wantErr: "error unpacking subchart bad in p: validation: chart.metadata.version is required",
		},
		"subcharts come in name order": {
			files: with(minimalChart("p"), with(prefixed("charts/b/", minimalChart("zeta")),
				with(prefixed("charts/a/", minimalChart("omega")), map[string]string{"charts/c.tgz": string(chartTgz(t, "alpha", minimalChart("alpha")))}))),
			wantDeps: []string{"omega", "zeta", "alpha"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := LoadBytes(chartTgz(t, "p", tc.files), DefaultLimits())
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(depNames(c)).To(Equal(tc.wantDeps))
		})
	}
}

// prefixed returns files with prefix added to every name.
func prefixed(prefix string, files map[string]string) map[string]string {
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[prefix+k] = v
	}
	return out
}

func TestLoadArchive_nestingDepth(t *testing.T) {
	cases := map[string]struct {
		nest    func(t *testing.T, depth int) []byte
		depth   int
		wantErr bool
	}{
		"folders nested to the limit":     {nest: nestedFolders, depth: MaxSubchartDepth},
		"folders nested past the limit":   {nest: nestedFolders, depth: MaxSubchartDepth + 1, wantErr: true},
		"archives nested to the limit":    {nest: nestedArchives, depth: MaxSubchartDepth},
		"archives nested past the limit":  {nest: nestedArchives, depth: MaxSubchartDepth + 1, wantErr: true},
		"archives nested far, far deeper": {nest: nestedArchives, depth: 200, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := LoadBytes(tc.nest(t, tc.depth), DefaultLimits())
			if tc.wantErr {
				g.Expect(err).To(MatchError(ContainSubstring(fmt.Sprintf("nests subcharts deeper than %d levels", MaxSubchartDepth))))
				g.Expect(errors.Is(err, ErrLimitExceeded)).To(BeTrue())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			levels := 0
			for ; len(c.Dependencies()) == 1; c = c.Dependencies()[0] {
				levels++
			}
			g.Expect(levels).To(Equal(tc.depth))
		})
	}
}

// nestedFolders builds a chart with depth levels of charts/n/ folders.
func nestedFolders(t *testing.T, depth int) []byte {
	files := map[string]string{}
	prefix := ""
	for i := 0; i <= depth; i++ {
		files[prefix+"Chart.yaml"] = fmt.Sprintf("apiVersion: v2\nname: n%d\nversion: 1.0.0\n", i)
		prefix += "charts/n/"
	}
	return chartTgz(t, "n0", files)
}

// nestedArchives builds a chart whose single subchart is an archive, depth levels deep.
func nestedArchives(t *testing.T, depth int) []byte {
	inner := chartTgz(t, "leaf", map[string]string{"Chart.yaml": fmt.Sprintf("apiVersion: v2\nname: n%d\nversion: 1.0.0\n", depth)})
	for i := depth - 1; i >= 0; i-- {
		inner = chartTgz(t, "n", map[string]string{
			"Chart.yaml":   fmt.Sprintf("apiVersion: v2\nname: n%d\nversion: 1.0.0\n", i),
			"charts/n.tgz": string(inner),
		})
	}
	return inner
}

func TestLoadArchive_nestedArchivesShareOneBudget(t *testing.T) {
	g := NewWithT(t)
	// Each nested archive is tiny but holds 3 MiB; twenty of them would hold 60 MiB if each had
	// its own 40 MiB budget, as in Helm. Sharing the budget stops the load at 40 MiB.
	inner := chartTgz(t, "s", map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: s\nversion: 1.0.0\n",
		"files/a":    strings.Repeat("a", 3<<20),
	})
	files := minimalChart("p")
	for i := range 20 {
		files[fmt.Sprintf("charts/s%02d.tgz", i)] = string(inner)
	}
	_, err := LoadBytes(chartTgz(t, "p", files), Limits{MaxDecompressedSize: 40 << 20})
	g.Expect(err).To(MatchError(ContainSubstring("decompressed chart is larger than the maximum size 41943040")))
	g.Expect(errors.Is(err, ErrLimitExceeded)).To(BeTrue())
}

func TestLoad_files(t *testing.T) {
	valid := chartTgz(t, "demo", minimalChart("demo"))
	cases := map[string]struct {
		name    string
		data    []byte
		lim     Limits
		wantErr string
		kind    error
	}{
		"a chart archive": {name: "demo-0.1.0.tgz", data: valid},
		"plain text": {
			name: "notes.txt", data: []byte(strings.Repeat("hello ", 100)),
			wantErr: "file '{f}' does not appear to be a gzipped archive; got 'text/plain; charset=utf-8'",
		},
		"a values file given by mistake": {
			name: "values.yaml", data: []byte("a: 1\n"),
			wantErr: "file '{f}' seems to be a YAML file, but expected a gzipped archive",
		},
		"a short text file, zero-padded as Helm sniffs it": {
			name: "short.txt", data: []byte("hello"),
			wantErr: "file '{f}' does not appear to be a gzipped archive; got 'application/octet-stream'",
		},
		"an empty file": {
			name: "empty.tgz", data: nil,
			wantErr: "file '{f}' does not appear to be a gzipped archive; got 'application/octet-stream'",
		},
		"gzip magic with a broken header": {
			name: "broken.tgz", data: []byte("\x1f\x8b\x08\xff garbage that is not deflate"),
			wantErr: "unable to load chart archive",
		},
		"a file above the archive limit": {
			name: "big.tgz", data: valid, lim: Limits{MaxArchiveSize: int64(len(valid) - 1)},
			wantErr: "is larger than the maximum archive size", kind: ErrLimitExceeded,
		},
		"an archive that escapes": {
			name: "evil.tgz", data: tgz(t, reg("demo/../../x", "x")),
			wantErr: "unable to load chart archive: chart illegally references parent directory", kind: ErrUnsafeArchive,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			file := filepath.Join(t.TempDir(), tc.name)
			g.Expect(os.WriteFile(file, tc.data, 0o600)).To(Succeed())
			c, err := Load(file, tc.lim)
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(c.Name()).To(Equal("demo"))
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(strings.ReplaceAll(tc.wantErr, "{f}", file))))
			if tc.kind != nil {
				g.Expect(errors.Is(err, tc.kind)).To(BeTrue())
			}
		})
	}
}
