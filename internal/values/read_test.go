package values

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// billionLaughs is the kubernetes#83253 payload: nine levels of nine aliases each.
const billionLaughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestReadValues(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    map[string]any
		wantErr string // substring
	}{
		"empty input is an empty map":    {in: "", want: map[string]any{}},
		"a comment only is an empty map": {in: "# nothing\n", want: map[string]any{}},
		"numbers are float64, YAML 1.1 octal and hex included": {
			in:   "i: 1\nf: 1.5\noct: 0755\nhex: 0x1F\nexp: 1e3\nbig: 12345678901234567890",
			want: map[string]any{"i": 1.0, "f": 1.5, "oct": 493.0, "hex": 31.0, "exp": 1000.0, "big": 12345678901234567890.0},
		},
		"YAML 1.1 booleans, also as keys, and dates stay strings": {
			in:   "on: 1\nv: yes\nw: Off\nd: 2024-01-01\nq: \"no\"",
			want: map[string]any{"true": 1.0, "v": true, "w": false, "d": "2024-01-01", "q": "no"},
		},
		"tilde, null and empty values are null": {
			in: "a: ~\nb: null\nc:\n", want: map[string]any{"a": nil, "b": nil, "c": nil},
		},
		"later documents deep-merge over earlier ones": {
			in:   "a: {x: 1, z: 2}\nl: [1, 2]\n---\na: {z: 3}\nl: [9]\n---\n# empty\n---\nb: true",
			want: map[string]any{"a": map[string]any{"x": 1.0, "z": 3.0}, "l": []any{9.0}, "b": true},
		},
		"a null document changes nothing":       {in: "a: 1\n---\nnull\n", want: map[string]any{"a": 1.0}},
		"a final line without newline is kept":  {in: "a: 1\nb: 2", want: map[string]any{"a": 1.0, "b": 2.0}},
		"a separator may carry a comment":       {in: "a: 1\n--- # two\nb: 2\n", want: map[string]any{"a": 1.0, "b": 2.0}},
		"a top-level list is refused":           {in: "- 1\n- 2\n", wantErr: "cannot unmarshal array into Go value of type map[string]interface {}"},
		"a top-level scalar is refused":         {in: "hello\n", wantErr: "cannot unmarshal yaml document"},
		"invalid YAML is refused":               {in: "a: [\n", wantErr: "did not find expected node content"},
		"text after a separator is refused":     {in: "a: 1\n--- b\n", wantErr: "invalid Yaml document separator: b"},
		"the billion-laughs payload is refused": {in: billionLaughs, wantErr: "excessive aliasing"},
		"nesting beyond MaxDepth is refused": {
			in: "a: " + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), wantErr: "values are nested too deeply",
		},
		"nesting to MaxDepth is accepted": {
			in: "a: " + strings.Repeat("[", MaxDepth-1) + "1" + strings.Repeat("]", MaxDepth-1), want: map[string]any{"a": nestedList(MaxDepth-1, 1.0)},
		},
		"YAML's own depth limit holds for huge nesting": {
			in: "a: " + strings.Repeat("[", 200000) + strings.Repeat("]", 200000), wantErr: "exceeded max depth",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			start := time.Now()
			got, err := ReadValues([]byte(tc.in))
			g.Expect(time.Since(start)).To(BeNumerically("<", 30*time.Second), "parsing is bounded")
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestReadValues_doesNotModifyInput(t *testing.T) {
	g := NewWithT(t)
	in := make([]byte, 0, 64)
	in = append(in, "a: 1"...)
	_, err := ReadValues(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(in[:cap(in)][len(in)]).To(BeZero(), "no newline written into the caller's spare capacity")
}

func TestMergeMaps(t *testing.T) {
	cases := map[string]struct {
		dst, src, want map[string]any
	}{
		"maps merge recursively, src wins": {
			dst:  map[string]any{"a": map[string]any{"x": 1, "y": 2}, "k": "keep"},
			src:  map[string]any{"a": map[string]any{"y": 3, "z": 4}},
			want: map[string]any{"a": map[string]any{"x": 1, "y": 3, "z": 4}, "k": "keep"},
		},
		"lists are replaced, never merged": {
			dst: map[string]any{"l": []any{1, 2}}, src: map[string]any{"l": []any{3}}, want: map[string]any{"l": []any{3}},
		},
		"null replaces a map": {
			dst: map[string]any{"a": map[string]any{"x": 1}}, src: map[string]any{"a": nil}, want: map[string]any{"a": nil},
		},
		"a map replaces a scalar": {
			dst: map[string]any{"a": 1}, src: map[string]any{"a": map[string]any{"x": 1}}, want: map[string]any{"a": map[string]any{"x": 1}},
		},
		"nil inputs give an empty map": {dst: nil, src: nil, want: map[string]any{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			before := Digest(tc.dst)
			got := MergeMaps(tc.dst, tc.src)
			g.Expect(got).To(Equal(tc.want))
			g.Expect(Digest(tc.dst)).To(Equal(before), "dst is not modified")
		})
	}
}

func TestCheckDepth(t *testing.T) {
	g := NewWithT(t)
	g.Expect(CheckDepth(map[string]any{"a": nestedList(MaxDepth-1, 1)})).To(Succeed())
	g.Expect(CheckDepth(map[string]any{"a": nestedList(MaxDepth, 1)})).To(MatchError(ErrTooDeep))
	g.Expect(CheckDepth(nestedMap(MaxDepth-1, "x", 1))).To(Succeed())
	g.Expect(CheckDepth(nestedMap(MaxDepth, "x", 1))).To(MatchError(ErrTooDeep))
	g.Expect(CheckDepth(nil)).To(Succeed())
}
