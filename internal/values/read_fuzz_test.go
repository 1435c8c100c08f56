package values

import (
	"encoding/json"
	"testing"

	"sigs.k8s.io/yaml"
)

// FuzzReadValues parses arbitrary documents. A successful read must stay within MaxDepth, hold
// only JSON types, and survive a toYaml round trip unchanged whenever toYaml can print it.
func FuzzReadValues(f *testing.F) {
	for _, s := range []string{
		"", "a: 1\n", "on: 1\ny: yes\nn: 'no'\noctal: 0755\nhex: 0x1F\nbig: 12345678901234567890\n",
		"a: {x: 1}\n---\na: {y: 2}\n", "- 1\n", "a: [\n", "a: 1\n--- b\n", billionLaughs,
		"a: &x {b: 1}\nc: *x\n", "a: ~\nb:\n", "multi: |\n  line\n---\nsecond: doc\n", "a: 2024-01-01\n",
		"\"k\\u0000\": \"\\x01\"\n", "? [a, b]\n: c\n", "a: !!binary aGVsbG8=\n", "a: .nan\n", "a: .inf\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			t.Skip("large inputs only repeat what small ones test")
		}
		v, err := ReadValues(data)
		if err != nil {
			return
		}
		if err := CheckDepth(v); err != nil {
			t.Fatalf("accepted values deeper than MaxDepth")
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("accepted values JSON cannot encode: %v", err)
		}
		out, err := yaml.Marshal(v)
		if err != nil {
			// The YAML encoder refuses some control characters that the decoder accepts; Helm's
			// toYaml prints "" for them. That is the encoder's limit, not a parsing problem.
			return
		}
		back, err := ReadValues(out)
		if err != nil {
			t.Fatalf("re-reading toYaml output failed: %v\n%s", err, out)
		}
		if Digest(back) != Digest(v) {
			t.Fatalf("toYaml round trip changed the values:\n%s", out)
		}
	})
}
