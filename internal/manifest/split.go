package manifest

import (
	"regexp"
	"strings"
	"unicode"
)

// separator matches a document separator the way Helm v4.2.4 and later see one: three dashes at
// the start of a line, together with any spaces or tabs that follow them on that line. Nothing
// else has to follow, so "---apiVersion: v1" is split too, as Helm does.
var separator = regexp.MustCompile(`(?m)^---[ \t]*`)

// Split cuts the rendered text of one template into YAML documents, in file order.
//
// It follows Helm v4.3.1: the text is trimmed on the left only, it is cut at every separator,
// pieces that hold only whitespace are dropped, and every remaining piece is trimmed on the left
// only. Trailing blank lines and trailing spaces of a document are kept, which is why `helm
// template` v4 prints blank lines before the next "---".
func Split(text string) []string {
	text = trimLeft(text)
	pieces := separator.Split(text, -1)
	docs := make([]string, 0, len(pieces))
	for _, piece := range pieces {
		if strings.TrimSpace(piece) == "" {
			continue
		}
		docs = append(docs, trimLeft(piece))
	}
	return docs
}

func trimLeft(s string) string { return strings.TrimLeftFunc(s, unicode.IsSpace) }
