package chart

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestIgnoreRules_ignore(t *testing.T) {
	type probe struct {
		path  string
		isDir bool
		want  bool
	}
	cases := map[string]struct {
		rules  string
		probes []probe
	}{
		"the built-in rule skips dot-files under templates/ only": {
			rules: "",
			probes: []probe{
				{path: "templates/.hidden.yaml", want: true},
				{path: "templates/.git", isDir: true, want: true},
				{path: "templates/a.yaml"},
				{path: ".hidden"},
				{path: "templates/sub/.x"},
				{path: "templates/."},
			},
		},
		"a pattern without a slash matches base names at any depth": {
			rules: "*.bak\n",
			probes: []probe{
				{path: "a.bak", want: true},
				{path: "files/deep/b.bak", want: true},
				{path: "files/b.bak.txt"},
			},
		},
		"a pattern with a slash matches the whole path": {
			rules: "files/*.txt\n",
			probes: []probe{
				{path: "files/a.txt", want: true},
				{path: "files/sub/a.txt"},
				{path: "other/files/a.txt"},
			},
		},
		"a leading slash anchors at the chart root": {
			rules: "/secret.txt\n",
			probes: []probe{
				{path: "secret.txt", want: true},
				{path: "files/secret.txt"},
			},
		},
		"a trailing slash matches directories only": {
			rules: "build/\n",
			probes: []probe{
				{path: "build", isDir: true, want: true},
				{path: "build"},
				{path: "src/build", isDir: true, want: true},
			},
		},
		"blank lines, comments, spaces and a byte order mark": {
			rules: "\uFEFF*.a  \n\n   # *.b\n\t*.c\n",
			probes: []probe{
				{path: "x.a", want: true},
				{path: "x.b"},
				{path: "x.c", want: true},
			},
		},
		"the negation quirk: a negated rule skips everything it does not match": {
			rules: "!keep.txt\n",
			probes: []probe{
				{path: "keep.txt"},
				{path: "files/keep.txt"},
				{path: "Chart.yaml", want: true},
				{path: "templates", isDir: true, want: true},
			},
		},
		"a matched negation passes the path on to the next rules": {
			rules: "!*.txt\nsecret*\n",
			probes: []probe{
				{path: "secret.txt", want: true},
				{path: "notes.txt"},
				{path: "notes.md", want: true},
			},
		},
		"a negated directory rule skips every file": {
			rules: "!docs/\n",
			probes: []probe{
				{path: "docs", isDir: true},
				{path: "docs/a.md", want: true},
				{path: "src", isDir: true, want: true},
			},
		},
		"the chart root itself is never skipped": {
			rules: "*\n",
			probes: []probe{
				{path: ""},
				{path: "."},
				{path: "./"},
				{path: "anything", want: true},
			},
		},
		"the built-in rule comes after the chart's own rules": {
			rules: "!templates/.keep\n",
			probes: []probe{
				{path: "templates/.keep", want: true},
				{path: "templates/a.yaml", want: true},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rules, err := parseIgnore(strings.NewReader(tc.rules))
			g.Expect(err).NotTo(HaveOccurred())
			for _, p := range tc.probes {
				g.Expect(rules.ignore(p.path, p.isDir)).To(Equal(p.want), "path %q (dir %v)", p.path, p.isDir)
			}
		})
	}
}

func TestParseIgnore_errors(t *testing.T) {
	cases := map[string]struct {
		rules   string
		wantErr string
	}{
		"double star":        {rules: "templates/**/x\n", wantErr: "double-star (**) syntax is not supported"},
		"an unclosed class":  {rules: "a[\n", wantErr: "syntax error in pattern"},
		"a negated bad rule": {rules: "![\n", wantErr: "syntax error in pattern"},
		"a line over 64 KiB": {rules: strings.Repeat("x", 70<<10) + "\n", wantErr: "token too long"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := parseIgnore(strings.NewReader(tc.rules))
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}
