package values

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
)

// FuzzParseSet runs every --set flavour on arbitrary lines. Beyond not panicking, a successful
// parse must be deterministic, stay within MaxDepth and MaxIndex, and hold only JSON types.
func FuzzParseSet(f *testing.F) {
	seeds := []string{
		"name=value", "a=1,b=true,c=null,d=007,e=1.5", "a.b.c=x", "a[0]=x,a[2]=z", "a.b[1].c=y",
		"a[1][0]=x", `a\.b=c\,d,e=f\=g`, "a={1,b,true},c=d", "a={}", "a={x}b=y", "a=", "=x", "a[0]",
		"a", "a,b=c", "a.=x", "a[65537]=1", "a[-1]=1", "a[x]=1", "a[1", "a[0]b=1", "a={x,y",
		"a=1,a.b=2", "a.b=1,a[0]=2", "a[0]=x,a[0][0]=y", `a={"b":1},c=[1,"x"]`, "d=,e=null", "a=1 b=2",
		`a[1]={"x":true}`, "a.b=x,y=z", `a\`, "a[0].b=1,a[0]=x", "a[0]=null,a[0][0]=1",
	}
	for _, s := range seeds {
		for mode := range byte(5) {
			f.Add(s, mode)
		}
	}
	f.Fuzz(func(t *testing.T, line string, mode byte) {
		if len(line) > 512 {
			t.Skip("long lines only repeat what short ones test, at a large memory cost")
		}
		parse := fuzzParser(mode)
		got := map[string]any{}
		err := parse(line, got)
		if err != nil {
			if errors.Is(err, io.EOF) {
				t.Fatalf("io.EOF leaked out of %q: %v", line, err)
			}
			return
		}
		again := map[string]any{}
		if err := parse(line, again); err != nil || !reflect.DeepEqual(got, again) {
			t.Fatalf("parsing %q twice differed: %v", line, err)
		}
		if err := CheckDepth(got); err != nil {
			t.Fatalf("%q built values deeper than MaxDepth", line)
		}
		if !listsWithinMaxIndex(got) {
			t.Fatalf("%q built a list longer than MaxIndex+1", line)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("%q built values JSON cannot encode: %v", line, err)
		}
	})
}

func fuzzParser(mode byte) func(string, map[string]any) error {
	switch mode % 5 {
	case 0:
		return ParseSet
	case 1:
		return ParseSetString
	case 2:
		return ParseSetJSON
	case 3:
		return ParseSetLiteral
	default:
		return func(s string, dst map[string]any) error {
			return ParseSetFile(s, dst, func(p string) ([]byte, error) { return []byte(p), nil })
		}
	}
}

func listsWithinMaxIndex(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for _, c := range t {
			if !listsWithinMaxIndex(c) {
				return false
			}
		}
	case []any:
		if len(t) > MaxIndex+1 {
			return false
		}
		for _, c := range t {
			if !listsWithinMaxIndex(c) {
				return false
			}
		}
	}
	return true
}

// FuzzSetPath sets a value at arbitrary paths: it must never panic, and a path that is accepted
// must hold exactly the value afterwards when it is a plain dotted name.
func FuzzSetPath(f *testing.F) {
	for _, s := range []string{"a", "a.b", "list[1].name", `annotations.example\.com/x`, "a[65537]", "a,b", "a=b", `a\`, ".", "a..b", "[0]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if len(path) > 512 {
			t.Skip("long paths only repeat what short ones test")
		}
		dst := map[string]any{}
		if err := SetPath(dst, path, "value"); err != nil {
			return
		}
		if err := CheckDepth(dst); err != nil {
			t.Fatalf("%q built values deeper than MaxDepth", path)
		}
	})
}
