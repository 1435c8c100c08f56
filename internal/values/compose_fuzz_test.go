package values

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzValuesCompose composes a Release's values the way the controller does: a valuesFrom
// document placed at a targetPath, then inline values, through Options.Merge. Whatever the
// input, the result must respect MaxDepth and the size limit.
func FuzzValuesCompose(f *testing.F) {
	f.Add([]byte("a: 1\n"), []byte("image: {tag: v1}\n"), "")
	f.Add([]byte("x: [1, 2]\n"), []byte("secret"), "auth.password")
	f.Add([]byte(billionLaughs), []byte("{}"), "list[2].name")
	f.Add([]byte("a: {b: {c: 1}}\n"), []byte("- 1\n"), `annotations.example\.com/x`)
	f.Fuzz(func(t *testing.T, inline, from []byte, targetPath string) {
		if len(inline)+len(from)+len(targetPath) > 1<<16 {
			t.Skip("large inputs only repeat what small ones test")
		}
		opts := Options{MaxBytes: 64 << 10}
		if targetPath == "" {
			opts.ValueFiles = [][]byte{from, inline}
		} else {
			placed := map[string]any{}
			if err := SetPath(placed, targetPath, TypedValue(string(from))); err != nil {
				return
			}
			doc, err := json.Marshal(placed)
			if err != nil {
				t.Fatalf("placed values cannot be encoded: %v", err)
			}
			opts.ValueFiles = [][]byte{doc, inline}
		}
		got, err := opts.Merge()
		if err != nil {
			return
		}
		if err := CheckDepth(got); err != nil {
			t.Fatalf("merged values deeper than MaxDepth")
		}
		data, err := json.Marshal(got)
		if err != nil || len(data) > opts.MaxBytes {
			t.Fatalf("merged values of %d bytes passed a %d-byte limit (%v)", len(data), opts.MaxBytes, err)
		}
	})
}

// FuzzSchemaValidate validates arbitrary values against arbitrary schemas: no panic, a bounded
// run time, and no way to reach a file or URL (the only loader refuses everything but urn:).
func FuzzSchemaValidate(f *testing.F) {
	f.Add([]byte(replicasSchema), []byte("replicas: 0\n"))
	f.Add([]byte(`{"$ref": "file:///etc/passwd"}`), []byte("a: 1\n"))
	f.Add([]byte(`{"$ref": "http://169.254.169.254/latest/meta-data"}`), []byte("a: 1\n"))
	f.Add([]byte(`{"$ref": "/dev/zero"}`), []byte(""))
	f.Add([]byte(`{"$schema": "https://example.invalid/s", "type": "object"}`), []byte("a: 1\n"))
	f.Add([]byte(`{"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}`), []byte("a: 1\n"))
	f.Add([]byte(`{"properties": {"a": {"$ref": "urn:x"}}}`), []byte("a: 1\n"))
	f.Add([]byte(`{"pattern": "(a+)+$"}`), []byte("a: 1\n"))
	f.Fuzz(func(t *testing.T, schema, valuesYAML []byte) {
		if len(schema)+len(valuesYAML) > 1<<15 {
			t.Skip("large inputs only repeat what small ones test")
		}
		vals, err := ReadValues(valuesYAML)
		if err != nil {
			return
		}
		c := newChart(t, "app", "").schema(string(schema)).chart()
		start := time.Now()
		_ = ValidateSchema(c, vals)
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("validation took %v", d)
		}
	})
}
