package engine

import (
	"slices"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
)

func testFiles() files {
	return newFiles([]*chart.File{
		{Name: "files/a.txt", Data: []byte("line1\nline2\n")},
		{Name: "files/b.yaml", Data: []byte("k: v\n")},
		{Name: "files/sub/c.txt", Data: []byte("c")},
		{Name: "other/a.txt", Data: []byte("other")},
		{Name: "empty", Data: []byte{}},
		{Name: "nl", Data: []byte("\n")},
		nil,
	})
}

func TestFiles_Glob(t *testing.T) {
	cases := map[string]struct {
		pattern string
		want    []string
	}{
		"star stops at a slash":          {pattern: "files/*", want: []string{"files/a.txt", "files/b.yaml"}},
		"double star crosses slashes":    {pattern: "files/**", want: []string{"files/a.txt", "files/b.yaml", "files/sub/c.txt"}},
		"double star matches everything": {pattern: "**", want: []string{"empty", "files/a.txt", "files/b.yaml", "files/sub/c.txt", "nl", "other/a.txt"}},
		"an extension anywhere":          {pattern: "**.txt", want: []string{"files/a.txt", "files/sub/c.txt", "other/a.txt"}},
		"braces":                         {pattern: "{files,other}/a.txt", want: []string{"files/a.txt", "other/a.txt"}},
		"a character class":              {pattern: "files/[ab].*", want: []string{"files/a.txt", "files/b.yaml"}},
		"an invalid pattern matches all": {pattern: "[", want: []string{"empty", "files/a.txt", "files/b.yaml", "files/sub/c.txt", "nl", "other/a.txt"}},
		"no match":                       {pattern: "nope/*", want: []string{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got := []string{}
			for name := range testFiles().Glob(tc.pattern) {
				got = append(got, name)
			}
			slices.Sort(got)
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestFiles_access(t *testing.T) {
	g := NewWithT(t)
	f := testFiles()
	g.Expect(f.Get("files/b.yaml")).To(Equal("k: v\n"))
	g.Expect(f.Get("nope")).To(Equal(""))
	g.Expect(f.GetBytes("nope")).To(Equal([]byte{}))
	g.Expect(f.Lines("files/a.txt")).To(Equal([]string{"line1", "line2"}))
	g.Expect(f.Lines("empty")).To(Equal([]string{}))
	g.Expect(f.Lines("nl")).To(Equal([]string{""}))
	g.Expect(f.Lines("nope")).To(Equal([]string{}))
}

func TestFiles_AsConfigAndAsSecrets(t *testing.T) {
	g := NewWithT(t)
	f := testFiles()
	g.Expect(f.Glob("files/*").AsConfig()).To(Equal("a.txt: |\n  line1\n  line2\nb.yaml: |\n  k: v"))
	g.Expect(f.Glob("*").AsSecrets()).To(Equal("empty: \"\"\nnl: Cg=="))
	g.Expect(f.Glob("**/a.txt").AsConfig()).To(Or(Equal("a.txt: other"), Equal("a.txt: |\n  line1\n  line2")),
		"files with the same base name collapse into one key")
	var none files
	g.Expect(none.AsConfig()).To(Equal(""))
	g.Expect(none.AsSecrets()).To(Equal(""))
	g.Expect(f.Glob("nope").AsConfig()).To(Equal("{}"))
}
