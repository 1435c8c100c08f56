package values

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

type parseCase struct {
	in      string
	start   map[string]any // dst before parsing; nil means empty
	want    map[string]any
	wantErr string // exact error text
}

func runParseCases(t *testing.T, parse func(string, map[string]any) error, cases map[string]parseCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dst := tc.start
			if dst == nil {
				dst = map[string]any{}
			}
			err := parse(tc.in, dst)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(dst).To(Equal(tc.want))
		})
	}
}

func TestParseSet(t *testing.T) {
	deepName := strings.Repeat("a.", MaxNestedNameLevel) + "b=1"
	runParseCases(t, ParseSet, map[string]parseCase{
		"a plain pair is a string": {in: "name=value", want: map[string]any{"name": "value"}},
		"several pairs are separated by commas": {
			in: "a=x,b=y", want: map[string]any{"a": "x", "b": "y"},
		},
		"integers become int64, but not with a leading zero or a fraction": {
			in:   "a=1,b=-3,c=+4,d=0,e=007,f=1.5,g=99999999999999999999",
			want: map[string]any{"a": int64(1), "b": int64(-3), "c": int64(4), "d": int64(0), "e": "007", "f": "1.5", "g": "99999999999999999999"},
		},
		"true, false and null are recognised in any case": {
			in: "a=true,b=FALSE,c=Null,d=yes", want: map[string]any{"a": true, "b": false, "c": nil, "d": "yes"},
		},
		"dots nest maps": {in: "a.b.c=x", want: map[string]any{"a": map[string]any{"b": map[string]any{"c": "x"}}}},
		"a name merges into an existing map": {
			in: "a.y=2", start: map[string]any{"a": map[string]any{"x": 1.0}},
			want: map[string]any{"a": map[string]any{"x": 1.0, "y": int64(2)}},
		},
		"indexes grow a list with nils": {in: "a[0]=x,a[2]=z", want: map[string]any{"a": []any{"x", nil, "z"}}},
		"indexes and names mix": {
			in:   "a.b[1].c=y",
			want: map[string]any{"a": map[string]any{"b": []any{nil, map[string]any{"c": "y"}}}},
		},
		"nested indexes build lists of lists": {in: "a[1][0]=x", want: map[string]any{"a": []any{nil, []any{"x"}}}},
		"a list element that is not a map is replaced by one": {
			in: "a[0]=x,a[0].b=y", want: map[string]any{"a": []any{map[string]any{"b": "y"}}},
		},
		"backslash escapes dots, commas and equals": {
			in: `a\.b=c\,d,e=f\=g`, want: map[string]any{"a.b": "c,d", "e": "f=g"},
		},
		"braces make a list of typed values": {
			in: "a={1,b,true},c=d", want: map[string]any{"a": []any{int64(1), "b", true}, "c": "d"},
		},
		"empty braces make a list holding one empty string": {in: "a={}", want: map[string]any{"a": []any{""}}},
		"text right after a list starts the next name": {
			in: "a={x}b=y", want: map[string]any{"a": []any{"x"}, "b": "y"},
		},
		"braces after an index":                               {in: "a[1]={x,y}", want: map[string]any{"a": []any{nil, []any{"x", "y"}}}},
		"an empty value is the empty string":                  {in: "a=", want: map[string]any{"a": ""}},
		"an empty name is ignored":                            {in: "=x", want: map[string]any{}},
		"an index with nothing after it leaves an empty list": {in: "a[0]", want: map[string]any{"a": []any{}}},
		"a later value replaces an earlier one":               {in: "a=1,a=2", want: map[string]any{"a": int64(2)}},
		"the largest index is accepted":                       {in: "a[65536]=1", want: map[string]any{"a": append(make([]any, MaxIndex), int64(1))}},
		"thirty levels of dots are accepted":                  {in: deepName, want: nestedMap(MaxNestedNameLevel, "b", int64(1))},

		"a name without a value fails":                          {in: "a", wantErr: `key "a" has no value`},
		"a name followed by a comma fails":                      {in: "a,b=c", wantErr: `key "a" has no value (cannot end with ,)`},
		"a dot with nothing after it fails":                     {in: "a.=x", wantErr: `key map "a" has no value`},
		"an index beyond 65536 fails":                           {in: "a[65537]=1", wantErr: "index of 65537 is greater than maximum supported index of 65536"},
		"a negative index fails":                                {in: "a[-1]=1", wantErr: "negative -1 index not allowed"},
		"a non-numeric index fails":                             {in: "a[x]=1", wantErr: `error parsing index: strconv.Atoi: parsing "x": invalid syntax`},
		"an unterminated index is silently ignored, as in Helm": {in: "a[1", want: map[string]any{}},
		"text after an index fails":                             {in: "a[0]b=1", wantErr: `unexpected data at end of array index: ['b']`},
		"an unterminated list fails":                            {in: "a={x,y", wantErr: "list must terminate with '}'"},
		"thirty-one levels of dots fail":                        {in: "a." + deepName, wantErr: "value name nested level is greater than maximum supported nested level of 30"},
		"a name through a scalar fails":                         {in: "a=1,a.b=2", wantErr: "unable to parse key: interface conversion: interface {} is int64, not map[string]interface {}"},
		"a name through a null fails":                           {in: "a=null,a.b=2", wantErr: "unable to parse key: interface conversion: interface {} is nil, not map[string]interface {}"},
		"an index into a map fails":                             {in: "a.b=1,a[0]=2", wantErr: "unable to parse key: interface conversion: interface {} is map[string]interface {}, not []interface {}"},
		"a nested index into a scalar fails":                    {in: "a[0]=x,a[0][0]=y", wantErr: "unable to parse key: interface conversion: interface {} is string, not []interface {}"},
		"deep nesting of indexes is bounded":                    {in: "a" + strings.Repeat("[0]", MaxDepth+1) + "=1", wantErr: "values are nested too deeply: a value name is nested more than 64 levels"},
		"a dangling backslash is a missing value":               {in: `a\`, wantErr: `key "a" has no value`},
	})
}

// nestedList builds [[...[v]]] with n levels of lists.
func nestedList(n int, v any) any {
	for range n {
		v = []any{v}
	}
	return v
}

// nestedMap builds {a: {a: ... {leaf: v}}} with n levels of "a".
func nestedMap(n int, leaf string, v any) map[string]any {
	m := map[string]any{leaf: v}
	for range n {
		m = map[string]any{"a": m}
	}
	return m
}

func TestParseSetString(t *testing.T) {
	runParseCases(t, ParseSetString, map[string]parseCase{
		"every value stays a string": {
			in: "a=1,b=true,c=null,d=007", want: map[string]any{"a": "1", "b": "true", "c": "null", "d": "007"},
		},
		"lists hold strings":             {in: "a={1,2}", want: map[string]any{"a": []any{"1", "2"}}},
		"errors are the same as --set's": {in: "a", wantErr: `key "a" has no value`},
	})
}

func TestParseSetJSON(t *testing.T) {
	runParseCases(t, ParseSetJSON, map[string]parseCase{
		"values are JSON documents, numbers are float64": {
			in: `a={"b":1},c=[1,"x"],f="s",g=true`,
			want: map[string]any{
				"a": map[string]any{"b": 1.0}, "c": []any{1.0, "x"}, "f": "s", "g": true,
			},
		},
		"an empty value and null are both null": {in: "d=,e=null", want: map[string]any{"d": nil, "e": nil}},
		"spaces may separate pairs instead of a comma": {
			in: `a=1 b=2`, want: map[string]any{"a": 1.0, "b": 2.0},
		},
		"indexes take JSON values":           {in: `a[1]={"x":true}`, want: map[string]any{"a": []any{nil, map[string]any{"x": true}}}},
		"an empty value at an index is null": {in: `a[0]=`, want: map[string]any{"a": []any{nil}}},
		"an unquoted word is not JSON": {
			in: "a=foo", wantErr: "invalid character 'o' in literal false (expecting 'a')",
		},
	})
}

func TestParseSetFile(t *testing.T) {
	files := map[string]string{"f1": "one\n", "f2": "two"}
	read := func(p string) ([]byte, error) {
		if c, ok := files[p]; ok {
			return []byte(c), nil
		}
		if p == "eof" {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("open %s: %w", p, fs.ErrNotExist)
	}
	parse := func(s string, dst map[string]any) error { return ParseSetFile(s, dst, read) }
	runParseCases(t, parse, map[string]parseCase{
		"values are file contents as strings":                 {in: "a=f1,b.c=f2", want: map[string]any{"a": "one\n", "b": map[string]any{"c": "two"}}},
		"braces read several files":                           {in: "a={f1,f2}", want: map[string]any{"a": []any{"one\n", "two"}}},
		"indexes read files":                                  {in: "a[1]=f2", want: map[string]any{"a": []any{nil, "two"}}},
		"a missing file fails with the reader's error":        {in: "a=nope", wantErr: "open nope: file does not exist"},
		"a reader's EOF is an error, not the end of the line": {in: "a=eof", wantErr: "unexpected EOF"},
	})
	g := NewWithT(t)
	g.Expect(ParseSetFile("a=f1", map[string]any{}, nil)).To(MatchError(ContainSubstring("no file reader")))
}

func TestParseSetLiteral(t *testing.T) {
	runParseCases(t, ParseSetLiteral, map[string]parseCase{
		"the value is the whole rest of the line": {
			in: `a.b=x,y=z\n{q}`, want: map[string]any{"a": map[string]any{"b": `x,y=z\n{q}`}},
		},
		"values stay strings":               {in: "a[0]=1", want: map[string]any{"a": []any{"1"}}},
		"backslashes are not escapes":       {in: `a\.b=1`, want: map[string]any{`a\`: map[string]any{"b": "1"}}},
		"commas belong to the name":         {in: "a,b=1", want: map[string]any{"a,b": "1"}},
		"a name without a value fails":      {in: "a", wantErr: `key "a" has no value`},
		"an index beyond the maximum fails": {in: "a[70000]=1", wantErr: "index of 70000 is greater than maximum supported index of 65536"},
	})
}

func TestSetPath(t *testing.T) {
	cases := map[string]struct {
		start   map[string]any
		path    string
		value   any
		want    map[string]any
		wantErr error
	}{
		"a dotted path creates maps": {
			path: "a.b", value: map[string]any{"x": 1.0},
			want: map[string]any{"a": map[string]any{"b": map[string]any{"x": 1.0}}},
		},
		"the value keeps its type, with no --set inference": {
			path: "a", value: "true", want: map[string]any{"a": "true"},
		},
		"an index path creates a list": {
			path: "list[1].name", value: "x",
			want: map[string]any{"list": []any{nil, map[string]any{"name": "x"}}},
		},
		"an escaped dot is part of the name": {
			path: `annotations.example\.com/x`, value: "v",
			want: map[string]any{"annotations": map[string]any{"example.com/x": "v"}},
		},
		"it merges into existing maps": {
			start: map[string]any{"a": map[string]any{"keep": true}}, path: "a.new", value: 1,
			want: map[string]any{"a": map[string]any{"keep": true, "new": 1}},
		},
		"TypedValue gives the value --set's typing, as Flux does": {
			path: "replicas", value: TypedValue("3"), want: map[string]any{"replicas": int64(3)},
		},
		"an empty path is refused":               {path: "", wantErr: ErrInvalidPath},
		"a comma is refused":                     {path: "a,b", wantErr: ErrInvalidPath},
		"an equals sign is refused":              {path: "a=b", wantErr: ErrInvalidPath},
		"a trailing backslash is refused":        {path: `a\`, wantErr: ErrInvalidPath},
		"an index beyond the maximum is refused": {path: "a[65537]", value: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dst := tc.start
			if dst == nil {
				dst = map[string]any{}
			}
			err := SetPath(dst, tc.path, tc.value)
			switch {
			case tc.wantErr != nil:
				g.Expect(err).To(MatchError(tc.wantErr))
			case tc.want == nil:
				g.Expect(err).To(HaveOccurred())
			default:
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(dst).To(Equal(tc.want))
			}
		})
	}
}

func TestParseSet_errorsAreNotEOF(t *testing.T) {
	// The parser uses io.EOF internally to end a line; it must never leak out as an error.
	g := NewWithT(t)
	for _, in := range []string{"a", "a[0]x", "a={", `a\`, "a.b"} {
		err := ParseSet(in, map[string]any{})
		g.Expect(err).To(HaveOccurred(), in)
		g.Expect(errors.Is(err, io.EOF)).To(BeFalse(), in)
	}
}

func TestTypedValue(t *testing.T) {
	cases := map[string]any{
		"true": true, "TRUE": true, "False": false, "null": nil, "NULL": nil, "0": int64(0), "42": int64(42),
		"-7": int64(-7), "+7": int64(7), "007": "007", "00": "00", "1.5": "1.5", "1e3": "1e3", "": "",
		"9223372036854775807": int64(9223372036854775807), "9223372036854775808": "9223372036854775808",
		"yes": "yes", "0x10": "0x10", "1_000": "1_000", " 1": " 1",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			g := NewWithT(t)
			if want == nil {
				g.Expect(TypedValue(in)).To(BeNil())
				return
			}
			g.Expect(TypedValue(in)).To(Equal(want))
		})
	}
}
