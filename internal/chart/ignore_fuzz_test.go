package chart

import (
	"strings"
	"testing"
)

// FuzzHelmignore parses arbitrary .helmignore text and asks it about an arbitrary path. Parsing
// must not panic, answers must be stable, the chart root is never skipped, and without negated
// rules the built-in templates/.?* rule always applies.
func FuzzHelmignore(f *testing.F) {
	f.Add("*.swp\n/secret\nbuild/\n", "build", true)
	f.Add("!keep.txt\n", "Chart.yaml", false)
	f.Add("templates/**\n", "templates/a.yaml", false)
	f.Add("\uFEFF# comment\n\n  a[b-c]  \n", "files/ab", false)
	f.Add("[\n", "x", false)
	f.Add("!docs/\n", "docs/readme.md", false)
	f.Fuzz(func(t *testing.T, rules, name string, isDir bool) {
		parsed, err := parseIgnore(strings.NewReader(rules))
		if err != nil {
			return
		}
		again, err := parseIgnore(strings.NewReader(rules))
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		if parsed.ignore(name, isDir) != again.ignore(name, isDir) {
			t.Fatalf("unstable answer for %q", name)
		}
		if parsed.ignore("", true) || parsed.ignore(".", true) {
			t.Fatal("the chart root was ignored")
		}
		if !hasNegation(rules) && !parsed.ignore("templates/.hidden", false) {
			t.Fatal("the built-in rule did not apply")
		}
	})
}

func hasNegation(rules string) bool {
	for line := range strings.Lines(strings.TrimPrefix(rules, "\uFEFF")) {
		if strings.HasPrefix(strings.TrimSpace(line), "!") {
			return true
		}
	}
	return false
}
