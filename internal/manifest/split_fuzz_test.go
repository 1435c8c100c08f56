package manifest

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzSplit checks the splitting invariants on arbitrary text: no document is blank or starts
// with whitespace, and the documents can be laid over the text in order, without overlap, so that
// everything between them is whitespace or "---" runs (nothing else is lost).
func FuzzSplit(f *testing.F) {
	for _, seed := range []string{
		"", "---", "a: 1\n---\nb: 2\n", "---apiVersion: v1\n", "a\n---\n---\n# c\n", " \n---  \t\n x \n",
		"----\n", "a: |\n  ---\n", "\r\n---\r\n", "---\n---\n---\n", "\u00a0---\n", "x\n---\t# c\ny", "--- -",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			return
		}
		docs := Split(text)
		for _, d := range docs {
			if strings.TrimSpace(d) == "" {
				t.Fatalf("blank document %q from %q", d, text)
			}
			if r := []rune(d)[0]; unicode.IsSpace(r) {
				t.Fatalf("document %q starts with whitespace", d)
			}
		}
		if !layable(text, docs, map[[2]int]bool{}, 0, 0) {
			t.Fatalf("documents %q cannot be laid over %q losing only separators", docs, text)
		}
	})
}

// layable reports whether docs[i:] can be placed in order over text[pos:] with only separators
// and whitespace around them; seen memoises failed (i, pos) pairs.
func layable(text string, docs []string, seen map[[2]int]bool, i, pos int) bool {
	if i == len(docs) {
		return onlySeparators(text[pos:])
	}
	if seen[[2]int{i, pos}] {
		return false
	}
	seen[[2]int{i, pos}] = true
	for j := pos; j+len(docs[i]) <= len(text); j++ {
		if strings.HasPrefix(text[j:], docs[i]) && onlySeparators(text[pos:j]) &&
			layable(text, docs, seen, i+1, j+len(docs[i])) {
			return true
		}
	}
	return false
}

func onlySeparators(s string) bool { return strings.TrimSpace(strings.ReplaceAll(s, "---", "")) == "" }
