package chart

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestReadValues(t *testing.T) {
	cases := map[string]struct {
		input   string
		want    map[string]any
		wantErr string
	}{
		"an empty file": {input: "", want: map[string]any{}},
		"one document": {
			input: "a: 1\nb: [x]\n",
			want:  map[string]any{"a": float64(1), "b": []any{"x"}},
		},
		"later documents win and maps merge deeply": {
			input: "a: 1\nm: {x: 1, p: {z: 1}}\nl: [1]\n---\nm: {p: {w: 2}}\nl: [2]\n---\na: 3\n",
			want: map[string]any{
				"a": float64(3),
				"m": map[string]any{"x": float64(1), "p": map[string]any{"z": float64(1), "w": float64(2)}},
				"l": []any{float64(2)},
			},
		},
		"a map replaced by a scalar and back": {
			input: "m: {x: 1}\n---\nm: 2\n---\nm: {q: 3}\n",
			want:  map[string]any{"m": map[string]any{"q": float64(3)}},
		},
		"empty and null documents change nothing": {
			input: "a: 1\n---\n---\nnull\n--- # comment\n",
			want:  map[string]any{"a": float64(1)},
		},
		"no newline at the end": {input: "a: 1\n---\nb: 2", want: map[string]any{"a": float64(1), "b": float64(2)}},
		"a document that is a list": {
			input:   "a: 1\n---\n- x\n",
			wantErr: "cannot unmarshal yaml document",
		},
		"text glued to a separator": {
			input:   "a: 1\n---b: 2\n",
			wantErr: "error reading yaml document: invalid Yaml document separator: b: 2",
		},
		"a YAML alias bomb": {
			input:   aliasBomb("bomb"),
			wantErr: "cannot unmarshal yaml document",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := readValues([]byte(tc.input))
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestReadValues_doesNotTouchItsInput(t *testing.T) {
	g := NewWithT(t)
	buf := []byte("a: 1XXXX")
	input := buf[:4]
	_, err := readValues(input)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(buf)).To(Equal("a: 1XXXX"), "the newline added at the end must not overwrite the caller's bytes")
}
