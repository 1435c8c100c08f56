package manifest

import (
	"fmt"
	"strings"
)

// SourceHeader returns the framing Helm puts before every document it prints or stores:
// "---\n# Source: <name>\n".
func SourceHeader(name string) string { return "---\n# Source: " + name + "\n" }

// WriteDocument appends one framed document to b: the source header, the text and a newline.
func WriteDocument(b *strings.Builder, name, text string) {
	b.WriteString(SourceHeader(name))
	b.WriteString(text)
	b.WriteByte('\n')
}

// Assemble returns the release manifest text Helm stores: every manifest framed by its source
// header, in the given order. Hooks are not part of it.
func Assemble(manifests []Manifest) string {
	var b strings.Builder
	for _, m := range manifests {
		WriteDocument(&b, m.Name, m.Content)
	}
	return b.String()
}

// String describes the manifest for logs and errors: kind/name from template.
func (m Manifest) String() string {
	return fmt.Sprintf("%s/%s from %s", m.Head.kind(), m.Head.Name(), m.Name)
}
