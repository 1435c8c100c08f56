package values

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestOptions_Merge(t *testing.T) {
	readFile := func(p string) ([]byte, error) {
		if p == "cert.pem" {
			return []byte("PEM"), nil
		}
		return nil, errors.New("open " + p + ": no such file")
	}
	cases := map[string]struct {
		opts    Options
		want    map[string]any
		wantErr string
	}{
		"no sources give an empty map": {want: map[string]any{}},
		"files merge left to right, maps deep, lists replaced": {
			opts: Options{ValueFiles: [][]byte{
				[]byte("a: {x: 1, z: 1}\nl: [1, 2]\n"),
				[]byte("a: {z: 2}\nl: [3]\n"),
			}},
			want: map[string]any{"a": map[string]any{"x": 1.0, "z": 2.0}, "l": []any{3.0}},
		},
		"a multi-document file counts as its merged documents": {
			opts: Options{ValueFiles: [][]byte{[]byte("a: 1\n---\nb: 2\n")}},
			want: map[string]any{"a": 1.0, "b": 2.0},
		},
		"flags apply in Helm's order: json, set, string, file, literal": {
			opts: Options{
				ValueFiles:    [][]byte{[]byte("k: file\nj: file\ns: file\nt: file\nf: file\nl: file\n")},
				JSONValues:    []string{`j="json",s="json",t="json",f="json",l="json"`},
				Values:        []string{"s=set,t=set,f=set,l=set"},
				StringValues:  []string{"t=007,f=string,l=string"},
				FileValues:    []string{"f=cert.pem,l=cert.pem"},
				LiteralValues: []string{"l=a,b"},
				ReadFile:      readFile,
			},
			want: map[string]any{"k": "file", "j": "json", "s": "set", "t": "007", "f": "PEM", "l": "a,b"},
		},
		"a whole JSON object is deep-merged": {
			opts: Options{
				ValueFiles: [][]byte{[]byte("a: {x: 1}\n")},
				JSONValues: []string{` {"a": {"y": [1]}} `},
			},
			want: map[string]any{"a": map[string]any{"x": 1.0, "y": []any{1.0}}},
		},
		"a later --set wins over an earlier one": {
			opts: Options{Values: []string{"a=1", "a=2"}},
			want: map[string]any{"a": int64(2)},
		},
		"--set merges into maps from files": {
			opts: Options{ValueFiles: [][]byte{[]byte("a: {x: 1}\n")}, Values: []string{"a.y=2"}},
			want: map[string]any{"a": map[string]any{"x": 1.0, "y": int64(2)}},
		},
		"a bad file names its position":   {opts: Options{ValueFiles: [][]byte{[]byte("a: 1\n"), []byte("- x\n")}}, wantErr: "failed to parse values file 2: cannot unmarshal yaml document"},
		"a bad --set keeps Helm's prefix": {opts: Options{Values: []string{"a"}}, wantErr: `failed parsing --set data: key "a" has no value`},
		"a bad --set-string keeps Helm's prefix": {
			opts: Options{StringValues: []string{"a[x]=1"}}, wantErr: "failed parsing --set-string data: error parsing index",
		},
		"a bad --set-json hides the cause like Helm": {
			opts: Options{JSONValues: []string{"a=nope"}}, wantErr: "failed parsing --set-json data a=nope",
		},
		"a bad JSON object hides the cause like Helm": {
			opts: Options{JSONValues: []string{"{oops"}}, wantErr: "failed parsing --set-json data JSON: {oops",
		},
		"a missing --set-file fails": {
			opts: Options{FileValues: []string{"a=nope"}, ReadFile: readFile}, wantErr: "failed parsing --set-file data: open nope: no such file",
		},
		"--set-file without a reader fails": {
			opts: Options{FileValues: []string{"a=cert.pem"}}, wantErr: "failed parsing --set-file data: no file reader",
		},
		"a bad --set-literal keeps Helm's prefix": {
			opts: Options{LiteralValues: []string{"a"}}, wantErr: `failed parsing --set-literal data: key "a" has no value`,
		},
		"merged values larger than the limit fail": {
			opts: Options{Values: []string{"a=" + strings.Repeat("x", 100)}, MaxBytes: 64}, wantErr: "values are too large",
		},
		"a negative limit disables the size check": {
			opts: Options{Values: []string{"a=xx"}, MaxBytes: -1}, want: map[string]any{"a": "xx"},
		},
		"deep JSON objects are refused": {
			opts:    Options{JSONValues: []string{strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)}},
			wantErr: "values are nested too deeply",
		},
		"deep JSON values under a name are refused": {
			opts:    Options{JSONValues: []string{"a=" + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)}},
			wantErr: "values are nested too deeply",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := tc.opts.Merge()
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				g.Expect(got).To(BeNil())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestOptions_Merge_defaultSizeLimit(t *testing.T) {
	g := NewWithT(t)
	big := strings.Repeat("x", DefaultMaxBytes)
	_, err := Options{StringValues: []string{"a=" + big}}.Merge()
	g.Expect(err).To(MatchError(ErrTooLarge))
	g.Expect(err.Error()).To(ContainSubstring("the limit is 1048576"))

	_, err = Options{StringValues: []string{"a=" + big[:1000]}}.Merge()
	g.Expect(err).NotTo(HaveOccurred())
}

func TestOptions_Merge_jsonCauseIsReachable(t *testing.T) {
	g := NewWithT(t)
	_, err := Options{JSONValues: []string{"{oops"}}.Merge()
	var syntax *json.SyntaxError
	g.Expect(errors.As(err, &syntax)).To(BeTrue())
}
