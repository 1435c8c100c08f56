package manifest

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestSplit(t *testing.T) {
	cases := map[string]struct {
		text string
		want []string
	}{
		"an empty text has no documents":          {text: "", want: []string{}},
		"a whitespace-only text has no documents": {text: " \n\t\n", want: []string{}},
		"a text without separator is one document, left-trimmed only": {
			text: "\n\n  a: 1\n\n", want: []string{"a: 1\n\n"},
		},
		"a leading separator leaves no empty first document": {
			text: "---\na: 1\n", want: []string{"a: 1\n"},
		},
		"the text is left-trimmed before splitting, so an indented first separator still counts": {
			text: "  ---\na: 1\n", want: []string{"a: 1\n"},
		},
		"an indented separator later in the text is not a separator": {
			text: "a: |\n  ---\n  b\n", want: []string{"a: |\n  ---\n  b\n"},
		},
		"trailing blank lines and trailing spaces of a document are kept": {
			text: "a: 1   \n\n\n---\nb: 2\n", want: []string{"a: 1   \n\n\n", "b: 2\n"},
		},
		"spaces and tabs after the dashes are consumed": {
			text: "a: 1\n--- \t\nb: 2", want: []string{"a: 1\n", "b: 2"},
		},
		"a comment after the separator starts the next document": {
			text: "a: 1\n--- # c\nb: 2", want: []string{"a: 1\n", "# c\nb: 2"},
		},
		"dashes glued to content split too (a common template bug)": {
			text: "a: 1\n---apiVersion: v1\nkind: X\n", want: []string{"a: 1\n", "apiVersion: v1\nkind: X\n"},
		},
		"two separators in a row leave no --- prefix (v4 behaviour)": {
			text: "a: 1\n---\n---\n# c\n", want: []string{"a: 1\n", "# c\n"},
		},
		"four dashes split after three and keep the fourth": {
			text: "a: 1\n----\nb: 2\n", want: []string{"a: 1\n", "-\nb: 2\n"},
		},
		"a document separator with CRLF keeps the carriage return out of the next document": {
			text: "a: 1\r\n---\r\nb: 2\r\n", want: []string{"a: 1\r\n", "b: 2\r\n"},
		},
		"a document end marker is not a separator": {
			text: "a: 1\n...\nb: 2\n", want: []string{"a: 1\n...\nb: 2\n"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(Split(tc.text)).To(Equal(tc.want))
		})
	}
}

// TestSplit_probeT4 replays the multi-document template of probe t4 (helm-semantics A.2/A.3).
func TestSplit_probeT4(t *testing.T) {
	g := NewWithT(t)
	text := "# leading comment\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n---\n---\n# only a comment\n\n" +
		"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: dep\nspec:\n  template: {}   \n---   \n" +
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: sec\n---apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n" +
		"---\nkind: Namespace\napiVersion: v1\nmetadata:\n  name: ns\n\n\n"
	g.Expect(Split(text)).To(Equal([]string{
		"# leading comment\n",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n",
		"# only a comment\n\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: dep\nspec:\n  template: {}   \n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: sec\n",
		"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n",
		"kind: Namespace\napiVersion: v1\nmetadata:\n  name: ns\n\n\n",
	}))
}
