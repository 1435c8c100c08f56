package values

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

const d7 = `"$schema": "http://json-schema.org/draft-07/schema#"`

// defsSchemas are draft-07 schemas with "$defs" (and a few without), each of which the fast
// compile must either take with the plain compile's result or leave to the plain compile.
var defsSchemas = map[string]string{
	"refs into $defs": `{` + d7 + `, "$defs": {
		"s": {"type": "string", "pattern": "^[a-z]+$"},
		"o": {"type": "object", "additionalProperties": false, "properties": {"c": {"$ref": "#/$defs/n"}}},
		"n": {"type": "integer", "minimum": 0}},
		"properties": {"a": {"$ref": "#/$defs/s"}, "b": {"$ref": "#/$defs/o"}}}`,
	"the root is a reference": `{` + d7 + `, "$ref": "#/$defs/values", "$defs": {
		"values": {"type": "object", "properties": {"a": {"$ref": "#/$defs/values.a"}}, "additionalProperties": false},
		"values.a": {"type": "boolean", "default": true}}}`,
	"a referenced entry is not a schema": `{` + d7 + `, "$defs": {"bad": {"type": 5}},
		"properties": {"a": {"$ref": "#/$defs/bad"}}}`,
	"an unreferenced entry is not a schema": `{` + d7 + `, "$defs": {"bad": {"type": 5}, "good": {"type": "string"}},
		"properties": {"a": {"$ref": "#/$defs/good"}}}`,
	"a referenced entry with a bad pattern": `{` + d7 + `, "$defs": {"p": {"type": "string", "pattern": "("}},
		"properties": {"a": {"$ref": "#/$defs/p"}}}`,
	"a reference to a missing entry": `{` + d7 + `, "$defs": {"s": {"type": "string"}},
		"properties": {"a": {"$ref": "#/$defs/nope"}}}`,
	"nested $defs": `{` + d7 + `, "$defs": {"outer": {"$defs": {"inner": {"type": "string"}},
		"properties": {"x": {"$ref": "#/$defs/outer/$defs/inner"}}}},
		"properties": {"o": {"$ref": "#/$defs/outer"}}}`,
	"nested $defs with an invalid entry": `{` + d7 + `, "$defs": {"outer": {"$defs": {"inner": {"minimum": "x"}},
		"properties": {"x": {"$ref": "#/$defs/outer/$defs/inner"}}}},
		"properties": {"o": {"$ref": "#/$defs/outer"}}}`,
	"a reference into an entry's property": `{` + d7 + `, "$defs": {"o": {"properties": {"c": {"type": "integer"}}}},
		"properties": {"a": {"$ref": "#/$defs/o/properties/c"}}}`,
	"a reference to an items array under $defs": `{` + d7 + `, "$defs": {"t": {"items": [{"type": "string"}]}},
		"properties": {"a": {"$ref": "#/$defs/t/items"}}}`,
	"a reference to an item under $defs": `{` + d7 + `, "$defs": {"t": {"items": [{"type": "string"}]}},
		"properties": {"a": {"$ref": "#/$defs/t/items/0"}}}`,
	"a reference to a dependencies array under $defs": `{` + d7 + `, "$defs": {"t": {"dependencies": {"a": ["b"]}}},
		"properties": {"a": {"$ref": "#/$defs/t/dependencies/a"}}}`,
	"$id inside $defs": `{` + d7 + `, "$defs": {"x": {"$id": "http://example.com/x", "type": "string"}},
		"properties": {"a": {"$ref": "http://example.com/x"}}}`,
	"an anchor inside $defs": `{` + d7 + `, "$defs": {"x": {"$id": "#x", "type": "string"}},
		"properties": {"a": {"$ref": "#x"}}}`,
	"$schema below the root": `{` + d7 + `, "$defs": {"x": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "string"}},
		"properties": {"a": {"$ref": "#/$defs/x"}}}`,
	"a urn: reference inside $defs": `{` + d7 + `, "$defs": {"u": {"$ref": "urn:example:thing"}},
		"properties": {"a": {"$ref": "#/$defs/u"}, "b": {"$ref": "urn:example:other"}}}`,
	"a file reference inside $defs": `{` + d7 + `, "$defs": {"f": {"$ref": "other.json"}},
		"properties": {"a": {"$ref": "#/$defs/f"}}}`,
	"a recursive entry": `{` + d7 + `, "$ref": "#/$defs/node", "$defs": {
		"node": {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}}}}}`,
	"$defs is not an object": `{` + d7 + `, "$defs": [{"type": "string"}],
		"properties": {"a": {"$ref": "#/$defs/0"}}}`,
	"draft-04 with $defs": `{"$schema": "http://json-schema.org/draft-04/schema#", "$defs": {"s": {"type": "string"}},
		"properties": {"a": {"$ref": "#/$defs/s"}}}`,
	"no $schema: 2020-12 knows $defs": `{"$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s"}}}`,
	"siblings of $ref in an entry still meet the metaschema": `{` + d7 + `, "$defs": {"s": {"type": "string"},
		"r": {"$ref": "#/$defs/s", "type": "integer", "properties": {"z": {"type": 5}}}},
		"properties": {"a": {"$ref": "#/$defs/r"}}}`,
	"siblings of $ref in an entry are ignored": `{` + d7 + `, "$defs": {"s": {"type": "string"},
		"r": {"$ref": "#/$defs/s", "type": "integer", "properties": {"z": {"type": "boolean"}}}},
		"properties": {"a": {"$ref": "#/$defs/r"}}}`,
	"definitions and $defs": `{` + d7 + `, "definitions": {"d": {"$ref": "#/$defs/s"}},
		"$defs": {"s": {"type": "string", "minLength": 2}}, "properties": {"a": {"$ref": "#/definitions/d"}}}`,
	"escaped entry names": `{` + d7 + `, "$defs": {"a/b": {"type": "string"}, "t~x": {"type": "integer"}, "sp ace": {"type": "boolean"}},
		"properties": {"a": {"$ref": "#/$defs/a~1b"}, "b": {"$ref": "#/$defs/t~0x"}, "c": {"$ref": "#/$defs/sp%20ace"}}}`,
	"formats in $defs": `{` + d7 + `, "$defs": {"t": {"type": "string", "format": "date-time"}, "e": {"format": "email"}},
		"properties": {"a": {"$ref": "#/$defs/t"}, "b": {"$ref": "#/$defs/e"}}}`,
	"boolean entries": `{` + d7 + `, "$defs": {"no": false, "yes": true},
		"properties": {"a": {"$ref": "#/$defs/no"}, "b": {"$ref": "#/$defs/yes"}}}`,
	"an invalid root": `{` + d7 + `, "type": 5, "$defs": {"s": {"type": "string"}},
		"properties": {"a": {"$ref": "#/$defs/s"}}}`,
	"a reference to a non-schema location": `{` + d7 + `, "x-extra": {"s": {"type": "string"}}, "$defs": {"s": {"type": "string"}},
		"properties": {"a": {"$ref": "#/x-extra/s"}, "b": {"$ref": "#/$defs/s"}}}`,
	"combinators and conditionals in entries": `{` + d7 + `, "$defs": {
		"one": {"oneOf": [{"type": "string"}, {"type": "integer", "maximum": 3}]},
		"cond": {"if": {"properties": {"k": {"const": "a"}}}, "then": {"required": ["v"]}, "else": {"not": {"required": ["v"]}}},
		"arr": {"type": "array", "items": {"$ref": "#/$defs/one"}, "contains": {"const": 1}, "uniqueItems": true}},
		"properties": {"a": {"$ref": "#/$defs/one"}, "b": {"$ref": "#/$defs/cond"}, "c": {"$ref": "#/$defs/arr"}}}`,
	"cert-manager's layout": certManagerLikeSchema(8, 6),
}

// defsInstances are the values every schema that compiles is validated with.
var defsInstances = []string{
	`{}`,
	`{"a": "abc", "b": {"c": 1}}`,
	`{"a": 1, "b": {"c": -1, "d": true}, "c": [1, 1]}`,
	`{"a": "ABC", "b": {"k": "a"}, "c": ["x", 1]}`,
	`{"a": null, "b": "x", "c": {"v": 1}, "o": {"x": 5}}`,
	`{"a": true, "b": false, "c": "2020-01-01", "v": 1, "next": {"v": "x", "next": {"v": 2}}}`,
	`{"a": "2020-01-01T00:00:00Z", "b": "not an email", "c": true}`,
	`{"o": {"x": "s"}, "a": ["s", 1], "b": 2}`,
	`{"group0": {"key0": "x", "key1": 1, "key2": true, "key3": {"n": -1}, "key4": "bad value", "extra": 1}, "unknown": 1}`,
	`{"group1": {"key0": 5, "key5": ["a", "b"]}, "group2": null}`,
}

// certManagerLikeSchema builds a draft-07 schema shaped like cert-manager's: the root refers
// to "#/$defs/helm-values", every property of every object is a reference to its own entry.
func certManagerLikeSchema(groups, keys int) string {
	defs := map[string]any{}
	top := map[string]any{}
	kinds := []map[string]any{
		{"type": "string", "description": "a string"},
		{"type": "integer", "minimum": 0, "default": 1},
		{"type": "boolean", "default": false},
		{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer", "minimum": 0}}},
		{"type": "string", "pattern": "^[a-z ]+$", "enum": []any{"ok", "fine"}},
		{"type": "array", "items": map[string]any{"type": "string"}},
	}
	for g := range groups {
		name := fmt.Sprintf("helm-values.group%d", g)
		props := map[string]any{}
		for k := range keys {
			keyName := fmt.Sprintf("%s.key%d", name, k)
			props[fmt.Sprintf("key%d", k)] = map[string]any{"$ref": "#/$defs/" + keyName}
			defs[keyName] = kinds[(g+k)%len(kinds)]
		}
		defs[name] = map[string]any{"type": "object", "additionalProperties": false, "properties": props}
		top[fmt.Sprintf("group%d", g)] = map[string]any{"$ref": "#/$defs/" + name}
	}
	defs["helm-values"] = map[string]any{"type": "object", "additionalProperties": false, "properties": top}
	doc := map[string]any{
		"$schema": "http://json-schema.org/draft-07/schema#",
		"$ref":    "#/$defs/helm-values",
		"$defs":   defs,
	}
	data, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// TestCompile_defsSameAsPlain is the guarantee of the fast compile: for every schema, Composer's
// compile gives the plain compile's error text, the same warnings, a compiled schema of the same
// shape, and the same validation report for every instance.
func TestCompile_defsSameAsPlain(t *testing.T) {
	for name, schema := range defsSchemas {
		t.Run(name, func(t *testing.T) {
			checkSameAsPlain(t, []byte(schema), defsInstances)
		})
	}
}

// TestCompile_defsFastPathTaken keeps the fast compile in use for the schemas it is for: a
// change that sends them to the plain compile again passes every other test but is slow.
func TestCompile_defsFastPathTaken(t *testing.T) {
	cases := map[string]bool{
		"refs into $defs":                           true,
		"the root is a reference":                   true,
		"nested $defs":                              true,
		"a recursive entry":                         true,
		"cert-manager's layout":                     true,
		"escaped entry names":                       true,
		"boolean entries":                           true,
		"combinators and conditionals in entries":   true,
		"a reference to a non-schema location":      true,
		"an unreferenced entry is not a schema":     false, // the plain compile accepts it, unchecked
		"a referenced entry is not a schema":        false,
		"nested $defs with an invalid entry":        false,
		"a reference to an items array under $defs": false,
		"$id inside $defs":                          false,
		"$schema below the root":                    false,
		"draft-04 with $defs":                       false,
		"no $schema: 2020-12 knows $defs":           false,
		"$defs is not an object":                    false,
		"a urn: reference inside $defs":             false, // passes the check; the compile warns, so it falls back
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(defsSchemas[name]))
			g.Expect(err).NotTo(HaveOccurred())
			fast := defsPrecheck(doc) && compileDefs(doc) != nil
			g.Expect(fast).To(Equal(want))
		})
	}
}

func TestDefsPrecheck(t *testing.T) {
	cases := map[string]struct {
		schema string
		want   bool
	}{
		"draft-07 with valid $defs":     {`{` + d7 + `, "$defs": {"a": {"type": "string"}}}`, true},
		"https and no fragment":         {`{"$schema": "https://json-schema.org/draft-07/schema", "$defs": {}}`, true},
		"no $defs at the root":          {`{` + d7 + `, "properties": {"a": {"$defs": {"x": {}}}}}`, false},
		"not draft-07":                  {`{"$schema": "http://json-schema.org/draft-06/schema#", "$defs": {}}`, false},
		"no $schema":                    {`{"$defs": {}}`, false},
		"not an object":                 {`true`, false},
		"an invalid entry":              {`{` + d7 + `, "$defs": {"a": {"type": "strange"}}}`, false},
		"an invalid nested entry":       {`{` + d7 + `, "$defs": {}, "properties": {"p": {"$defs": {"a": {"minLength": -1}}}}}`, false},
		"$defs not an object":           {`{` + d7 + `, "$defs": true}`, false},
		"nested $defs not an object":    {`{` + d7 + `, "$defs": {"a": {"$defs": 1}}}`, false},
		"$id at the root":               {`{` + d7 + `, "$id": "http://x/y", "$defs": {}}`, false},
		"$id deep down":                 {`{` + d7 + `, "$defs": {"a": {"properties": {"b": {"$id": "#b"}}}}}`, false},
		"$schema below the root":        {`{` + d7 + `, "$defs": {"a": {"$schema": "http://json-schema.org/draft-07/schema#"}}}`, false},
		"an items array":                {`{` + d7 + `, "$defs": {}, "properties": {"a": {"items": [true]}}}`, false},
		"an items schema":               {`{` + d7 + `, "$defs": {"a": {"items": {"type": "string"}}}}`, true},
		"a dependencies array":          {`{` + d7 + `, "$defs": {"a": {"dependencies": {"x": ["y"]}}}}`, false},
		"a dependencies schema":         {`{` + d7 + `, "$defs": {"a": {"dependencies": {"x": {"required": ["y"]}}}}}`, true},
		"boolean entries":               {`{` + d7 + `, "$defs": {"a": true, "b": false}}`, true},
		"a bad regular expression":      {`{` + d7 + `, "$defs": {"a": {"pattern": "("}}}`, false},
		"an entry that is not a schema": {`{` + d7 + `, "$defs": {"a": 5}}`, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.schema))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(defsPrecheck(doc)).To(Equal(tc.want))
		})
	}
}

// FuzzCompile_defsSameAsPlain runs the guarantee on other schemas and values; its seeds are the
// table above.
func FuzzCompile_defsSameAsPlain(f *testing.F) {
	for _, schema := range defsSchemas {
		for _, inst := range defsInstances[:3] {
			f.Add(schema, inst)
		}
	}
	f.Fuzz(func(t *testing.T, schema, instance string) {
		if len(schema) > 1<<14 || len(instance) > 1<<12 {
			return
		}
		if _, err := jsonschema.UnmarshalJSON(strings.NewReader(schema)); err != nil {
			return
		}
		checkSameAsPlain(t, []byte(schema), []string{instance})
	})
}

// checkSameAsPlain compares Composer's compile of schema with the plain compile.
func checkSameAsPlain(t *testing.T, schema []byte, instances []string) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	var plainWarnings, gotWarnings []string
	record := func(to *[]string) func(string, ...any) {
		return func(format string, args ...any) { *to = append(*to, fmt.Sprintf(format, args...)) }
	}
	want, wantErr := compileDoc(doc, record(&plainWarnings), nil)
	got, gotErr := Composer{}.compile(schema, record(&gotWarnings))
	if g, w := compileErrorText(gotErr), compileErrorText(wantErr); g != w {
		t.Fatalf("compile error:\n got: %s\nwant: %s", g, w)
	}
	if fmt.Sprint(gotWarnings) != fmt.Sprint(plainWarnings) {
		t.Fatalf("warnings:\n got: %q\nwant: %q", gotWarnings, plainWarnings)
	}
	if wantErr != nil {
		return
	}
	if err := sameShape(reflect.ValueOf(got), reflect.ValueOf(want), map[[2]uintptr]bool{}, "schema"); err != nil {
		t.Fatalf("compiled schemas differ: %v", err)
	}
	for _, text := range instances {
		var inst map[string]any
		if err := json.Unmarshal([]byte(text), &inst); err != nil {
			continue
		}
		gotText, wantText := validationText(got, inst), validationText(want, inst)
		if gotText != wantText {
			t.Fatalf("validating %s:\n got: %s\nwant: %s", text, gotText, wantText)
		}
	}
}

// validationText is what ValidateSchema prints for inst, made deterministic (see normalise).
func validationText(s *jsonschema.Schema, inst map[string]any) string {
	err := s.Validate(inst)
	if err == nil {
		return "valid"
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		normalise(ve)
	}
	return schemaErrorText(err)
}

// compileErrorText is a compile error's text, made deterministic (see normalise).
func compileErrorText(err error) string {
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			normalise(ve)
		}
	}
	return fmt.Sprint(err)
}

// normalise takes out what the library leaves to Go's map order, in Helm as here: the order of
// the causes below a location (sorted as ValidateSchema sorts them) and of the names in
// "additional properties" messages.
func normalise(ve *jsonschema.ValidationError) {
	var sortNames func(ve *jsonschema.ValidationError)
	sortNames = func(ve *jsonschema.ValidationError) {
		if k, ok := ve.ErrorKind.(*kind.AdditionalProperties); ok {
			slices.Sort(k.Properties)
		}
		for _, c := range ve.Causes {
			sortNames(c)
		}
	}
	sortNames(ve)
	sortCauses(ve)
}

// sameShape compares two compiled schema graphs field by field (unexported fields included):
// pointers are followed once per pair, functions compare by their code, maps keyed by regular
// expressions by the expressions' text.
func sameShape(a, b reflect.Value, seen map[[2]uintptr]bool, path string) error {
	if a.Kind() != b.Kind() || a.Type() != b.Type() {
		return fmt.Errorf("%s: %s against %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Errorf("%s: nil against non-nil", path)
			}
			return nil
		}
		key := [2]uintptr{a.Pointer(), b.Pointer()}
		if seen[key] {
			return nil
		}
		seen[key] = true
		return sameShape(a.Elem(), b.Elem(), seen, path)
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Errorf("%s: nil against non-nil", path)
			}
			return nil
		}
		return sameShape(a.Elem(), b.Elem(), seen, path)
	case reflect.Struct:
		for i := range a.NumField() {
			if err := sameShape(a.Field(i), b.Field(i), seen, path+"."+a.Type().Field(i).Name); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice, reflect.Array:
		if a.Kind() == reflect.Slice && a.IsNil() != b.IsNil() {
			return fmt.Errorf("%s: nil against non-nil", path)
		}
		if a.Len() != b.Len() {
			return fmt.Errorf("%s: length %d against %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if err := sameShape(a.Index(i), b.Index(i), seen, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Errorf("%s: %d entries against %d", path, a.Len(), b.Len())
		}
		byText := func(m reflect.Value) map[string]reflect.Value {
			out := map[string]reflect.Value{}
			iter := m.MapRange()
			for iter.Next() {
				k := iter.Key()
				if k.Kind() == reflect.Interface {
					k = k.Elem()
				}
				text := fmt.Sprint(k)
				if k.Kind() == reflect.Pointer && k.CanInterface() {
					text = fmt.Sprint(k.Interface())
				}
				out[text] = iter.Value()
			}
			return out
		}
		am, bm := byText(a), byText(b)
		for k, av := range am {
			bv, ok := bm[k]
			if !ok {
				return fmt.Errorf("%s: key %q only on one side", path, k)
			}
			if err := sameShape(av, bv, seen, fmt.Sprintf("%s[%q]", path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Func:
		if a.Pointer() != b.Pointer() {
			return fmt.Errorf("%s: different functions", path)
		}
		return nil
	case reflect.String:
		if a.String() != b.String() {
			return fmt.Errorf("%s: %q against %q", path, a.String(), b.String())
		}
		return nil
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return fmt.Errorf("%s: %v against %v", path, a.Bool(), b.Bool())
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return fmt.Errorf("%s: %d against %d", path, a.Int(), b.Int())
		}
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			return fmt.Errorf("%s: %d against %d", path, a.Uint(), b.Uint())
		}
		return nil
	case reflect.Float32, reflect.Float64:
		if a.Float() != b.Float() {
			return fmt.Errorf("%s: %v against %v", path, a.Float(), b.Float())
		}
		return nil
	default:
		return fmt.Errorf("%s: cannot compare a %s", path, a.Kind())
	}
}
