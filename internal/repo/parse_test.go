package repo

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

const goodIndex = `apiVersion: v1
entries:
  nginx:
  - apiVersion: v2
    appVersion: 1.25.0
    created: "2024-03-01T10:00:00.123456789Z"
    description: An nginx chart
    digest: ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789
    home: https://example.com
    keywords: [web, proxy]
    maintainers:
    - name: Jane
      email: jane@example.com
    name: nginx
    sources: [https://github.com/example/nginx]
    type: application
    urls:
    - charts/nginx-1.2.0.tgz
    - https://mirror.example.com/nginx-1.2.0.tgz
    version: 1.2.0
  - name: nginx
    version: 1.10.0
    urls: [charts/nginx-1.10.0.tgz]
    deprecated: true
    annotations:
      category: web
    dependencies:
    - name: common
      version: 1.x
      repository: https://charts.example.com
      import-values: [{child: a, parent: b}]
  - name: nginx
    version: 2.0.0-rc.1
    urls: [charts/nginx-2.0.0-rc.1.tgz]
  redis:
  - name: redis
    version: 0.1.0
    apiVersion: v1
    urls: [redis-0.1.0.tgz]
generated: "2024-03-01T10:00:00Z"
serverInfo:
  contextPath: /api
publicKeys: []
annotations:
  owner: team
`

func TestParseIndex_valid(t *testing.T) {
	g := NewWithT(t)
	idx, warnings, err := ParseIndex(strings.NewReader(goodIndex), 0)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(warnings).To(BeEmpty())
	g.Expect(idx.APIVersion).To(Equal("v1"))
	g.Expect(idx.Generated).To(Equal(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)))
	g.Expect(idx.Charts()).To(Equal([]string{"nginx", "redis"}))
	g.Expect(idx.Stats()).To(Equal(IndexStats{Digest: "sha256:" + sha256Hex([]byte(goodIndex)),
		Size: int64(len(goodIndex)), Charts: 2, Versions: 4}))

	vs := idx.Versions("nginx")
	g.Expect(versionsOf(vs)).To(Equal([]string{"2.0.0-rc.1", "1.10.0", "1.2.0"}))
	g.Expect(vs[1].Deprecated).To(BeTrue())
	g.Expect(vs[1].APIVersion).To(Equal("v1"), "an entry without apiVersion defaults to v1, as in Helm")
	want := ChartVersion{
		Name: "nginx", Version: "1.2.0", AppVersion: "1.25.0", APIVersion: "v2", Type: "application",
		Digest:  "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
		URLs:    []string{"charts/nginx-1.2.0.tgz", "https://mirror.example.com/nginx-1.2.0.tgz"},
		Created: time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.UTC),
	}
	got := *vs[2]
	got.semver = nil
	g.Expect(got).To(Equal(want))
	g.Expect(idx.Versions("missing")).To(BeNil())
}

func versionsOf(vs []*ChartVersion) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Version
	}
	return out
}

func TestParseIndex_JSON(t *testing.T) {
	g := NewWithT(t)
	doc := `{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0","urls":["a-1.0.0.tgz"],` +
		`"description":"x","maintainers":[{"name":"m"}],"created":"2024-01-01T00:00:00Z","unknownField":1}]}}`
	idx, warnings, err := ParseIndex(strings.NewReader(doc), 0)
	g.Expect(err).NotTo(HaveOccurred(), "JSON is decoded leniently, as Helm's json.Unmarshal does")
	g.Expect(warnings).To(BeEmpty())
	g.Expect(versionsOf(idx.Versions("a"))).To(Equal([]string{"1.0.0"}))
}

func TestParseIndex_rejects(t *testing.T) {
	cases := map[string]struct {
		doc  string
		want error
		text string
	}{
		"an empty body is Helm's empty index error":       {doc: "", want: ErrEmptyIndex, text: "empty index.yaml file"},
		"a document of comments has no API version":       {doc: "# nothing here\n", want: ErrNoAPIVersion, text: "no API version specified"},
		"entries without apiVersion have no API version":  {doc: "entries: {}\n", want: ErrNoAPIVersion},
		"JSON without apiVersion has no API version":      {doc: `{"entries":{}}`, want: ErrNoAPIVersion},
		"JSON null has no API version":                    {doc: `null`, want: ErrNoAPIVersion},
		"an unknown top-level field fails strict YAML":    {doc: "apiVersion: v1\nbogus: 1\n", want: ErrInvalidIndex, text: "bogus"},
		"an unknown entry field fails strict YAML":        {doc: "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    colour: red\n", want: ErrInvalidIndex},
		"a mistyped field fails the whole index":          {doc: "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    keywords: oops\n", want: ErrInvalidIndex},
		"a non-RFC 3339 created time fails":               {doc: "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    created: 2024-01-01\n", want: ErrInvalidIndex, text: "RFC 3339"},
		"a list at the top level is not an index":         {doc: "- a\n- b\n", want: ErrInvalidIndex},
		"duplicate keys are rejected":                     {doc: "apiVersion: v1\napiVersion: v2\n", want: ErrInvalidIndex},
		"broken YAML is rejected":                         {doc: "apiVersion: [v1\n", want: ErrInvalidIndex},
		"JSON with a mistyped string field is rejected":   {doc: `{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0","description":5}]}}`, want: ErrInvalidIndex},
		"one byte over the limit is too large":            {doc: strings.Repeat("#", 1025), want: ErrTooLarge},
		"a JSON document with a wrong entries type fails": {doc: `{"apiVersion":"v1","entries":[]}`, want: ErrInvalidIndex},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, _, err := ParseIndex(strings.NewReader(tc.doc), 1024)
			g.Expect(err).To(MatchError(tc.want))
			if tc.text != "" {
				g.Expect(err.Error()).To(ContainSubstring(tc.text))
			}
		})
	}
}

func TestParseIndex_skipsInvalidEntries(t *testing.T) {
	cases := map[string]struct {
		entry   string
		warning string
	}{
		"a null entry":                  {entry: "  - null\n", warning: "empty entry"},
		"a version that is not semver":  {entry: "  - name: a\n    version: one\n", warning: `chart.metadata.version "one" is invalid`},
		"a missing version":             {entry: "  - name: a\n", warning: "chart.metadata.version is required"},
		"a missing name":                {entry: "  - version: 1.0.0\n", warning: "chart.metadata.name is required"},
		"a name with a path separator":  {entry: "  - name: ../../x\n    version: 1.0.0\n", warning: `chart.metadata.name "../../x" is invalid`},
		"the name ..":                   {entry: "  - name: ..\n    version: 1.0.0\n", warning: `chart.metadata.name ".." is invalid`},
		"an unknown chart type":         {entry: "  - name: a\n    version: 1.0.0\n    type: plugin\n", warning: "chart.metadata.type must be application or library"},
		"a null maintainer":             {entry: "  - name: a\n    version: 1.0.0\n    maintainers: [null]\n", warning: "maintainers must not contain empty or null nodes"},
		"a null dependency":             {entry: "  - name: a\n    version: 1.0.0\n    dependencies: [null]\n", warning: "dependencies must not contain empty or null nodes"},
		"an alias with a newline":       {entry: "  - name: a\n    version: 1.0.0\n    dependencies: [{name: b, alias: \"x\\ny\"}]\n", warning: "disallowed characters in the alias"},
		"an alias with a slash":         {entry: "  - name: a\n    version: 1.0.0\n    dependencies: [{name: b, alias: x/y}]\n", warning: "disallowed characters in the alias"},
		"a name made only of controls":  {entry: "  - name: \"\\x01\\x02\"\n    version: 1.0.0\n", warning: "chart.metadata.name is required"},
		"a version with an injected NL": {entry: "  - name: a\n    version: \"1.0.0\\nmalicious\"\n", warning: `"1.0.0 malicious" is invalid`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			doc := "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 0.1.0\n    urls: [a.tgz]\n" + tc.entry
			idx, warnings, err := ParseIndex(strings.NewReader(doc), 0)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(versionsOf(idx.Versions("a"))).To(Equal([]string{"0.1.0"}), "only the valid entry remains")
			g.Expect(warnings).To(HaveLen(1))
			g.Expect(warnings[0]).To(ContainSubstring(tc.warning))
			g.Expect(warnings[0]).To(HavePrefix(`skipping loading invalid entry for chart "a"`))
			g.Expect(warnings[0]).NotTo(ContainSubstring("\n"), "warnings are one line")
			g.Expect(idx.Warnings()).To(Equal(warnings))
		})
	}
}

func TestParseIndex_fidelity(t *testing.T) {
	cases := map[string]struct {
		entry string
		check func(g Gomega, cv *ChartVersion)
	}{
		"an unquoted 1.10 reads as 1.1, as Helm's YAML-to-JSON conversion does": {
			entry: "name: a\n    version: 1.10\n    appVersion: 2.0",
			check: func(g Gomega, cv *ChartVersion) {
				g.Expect(cv.Version).To(Equal("1.1"))
				g.Expect(cv.AppVersion).To(Equal("2"))
			},
		},
		"an exponent without a dot stays text, as YAML 1.1 reads it": {
			entry: "name: a\n    version: 1.0.0\n    appVersion: 1e5",
			check: func(g Gomega, cv *ChartVersion) { g.Expect(cv.AppVersion).To(Equal("1e5")) },
		},
		"an unquoted integer version reads as its digits": {
			entry: "name: a\n    version: 3",
			check: func(g Gomega, cv *ChartVersion) { g.Expect(cv.Version).To(Equal("3")) },
		},
		"control characters are dropped and tabs become spaces": {
			entry: "name: a\n    version: 1.0.0\n    appVersion: \"v1\\x07\\t2\"",
			check: func(g Gomega, cv *ChartVersion) { g.Expect(cv.AppVersion).To(Equal("v1 2")) },
		},
		"duplicate dependencies are tolerated, as Helm does for JFrog indexes": {
			entry: "name: a\n    version: 1.0.0\n    dependencies: [{name: b}, {name: b}]",
			check: func(g Gomega, cv *ChartVersion) { g.Expect(cv.Version).To(Equal("1.0.0")) },
		},
		"a sha256: prefix and upper case are normalised away from the digest": {
			entry: "name: a\n    version: 1.0.0\n    digest: sha256:ABCD",
			check: func(g Gomega, cv *ChartVersion) { g.Expect(cv.Digest).To(Equal("abcd")) },
		},
		"aliases to scalars resolve": {
			entry: "name: &n a\n    version: 1.0.0\n    appVersion: *n",
			check: func(g Gomega, cv *ChartVersion) { g.Expect(cv.AppVersion).To(Equal("a")) },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			doc := "apiVersion: v1\nentries:\n  a:\n  - " + tc.entry + "\n"
			idx, warnings, err := ParseIndex(strings.NewReader(doc), 0)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(warnings).To(BeEmpty())
			vs := idx.Versions("a")
			g.Expect(vs).To(HaveLen(1))
			tc.check(g, vs[0])
		})
	}
}

func TestParseIndex_warningsAreBounded(t *testing.T) {
	g := NewWithT(t)
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n  a:\n")
	for range 250 {
		b.WriteString("  - null\n")
	}
	_, warnings, err := ParseIndex(strings.NewReader(b.String()), 0)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(warnings).To(HaveLen(maxWarnings + 1))
	g.Expect(warnings[maxWarnings]).To(Equal("150 more invalid entries skipped"))
}

// TestParseIndex_aliasBomb feeds the billion-laughs document (kubernetes#83253) in the places an
// index allows free-form content. The typed decoder never expands aliases it does not need, so
// the parse is quick and small instead of exponential.
func TestParseIndex_aliasBomb(t *testing.T) {
	g := NewWithT(t)
	bomb := `apiVersion: v1
serverInfo:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
entries:
  a:
  - name: a
    version: 1.0.0
    dependencies:
    - name: b
      import-values: [*i, *i, *i, *i]
    keywords: *i
`
	start := time.Now()
	_, _, err := ParseIndex(strings.NewReader(bomb), 0)
	g.Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
	g.Expect(err).To(MatchError(ErrInvalidIndex), "keywords aliasing a nested list is the wrong type")
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseIndex_readError(t *testing.T) {
	g := NewWithT(t)
	_, _, err := ParseIndex(io.MultiReader(bytes.NewReader([]byte("apiVersion: v1\n")), errReader{}), 0)
	g.Expect(err).To(MatchError(ContainSubstring("disk on fire")))
}
