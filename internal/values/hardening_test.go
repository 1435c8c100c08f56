package values

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// TestHardening_values is the regression suite for hardening.md §3.4 (D1–D5) and the values
// items of §4.2. Each case must fail cleanly, quickly, and with the expected error.
func TestHardening_values(t *testing.T) {
	nestedYAML := func(levels int) string {
		var sb strings.Builder
		for i := range levels {
			sb.WriteString(strings.Repeat("  ", i) + "k:\n")
		}
		sb.WriteString(strings.Repeat("  ", levels) + "leaf: 1\n")
		return sb.String()
	}
	cases := map[string]struct {
		compose func() error
		wantErr error  // sentinel, when there is one
		wantMsg string // substring of the message
	}{
		"D1: a top-level list is rejected": {
			compose: func() error { _, err := ReadValues([]byte("- a\n- b\n")); return err },
			wantMsg: "cannot unmarshal array",
		},
		"D1: a top-level scalar is rejected": {
			compose: func() error { _, err := Options{ValueFiles: [][]byte{[]byte("42\n")}}.Merge(); return err },
			wantMsg: "failed to parse values file 1",
		},
		"D1: invalid YAML is rejected": {
			compose: func() error { _, err := ReadValues([]byte("a: b: c\n")); return err },
			wantMsg: "mapping values are not allowed",
		},
		"D2: 2 MiB of values are rejected with the size in the message": {
			compose: func() error {
				doc := []byte("big: " + strings.Repeat("x", 2<<20) + "\n")
				_, err := Options{ValueFiles: [][]byte{doc}}.Merge()
				return err
			},
			wantErr: ErrTooLarge, wantMsg: "2097162 bytes as JSON, the limit is 1048576",
		},
		"D3: 70-level nested YAML is rejected": {
			compose: func() error { _, err := ReadValues([]byte(nestedYAML(70))); return err },
			wantErr: ErrTooDeep,
		},
		"D3: nesting built from several sources is rejected after merging": {
			compose: func() error {
				deepJSON := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
				_, err := Options{
					ValueFiles: [][]byte{[]byte(nestedYAML(40))},
					JSONValues: []string{strings.Repeat("k.", 30) + "z=" + deepJSON},
				}.Merge()
				return err
			},
			wantErr: ErrTooDeep,
		},
		"D4: a[65537]=1 is rejected": {
			compose: func() error { return ParseSet("a[65537]=1", map[string]any{}) },
			wantMsg: "index of 65537 is greater than maximum supported index of 65536",
		},
		"D4: an index too large for int is rejected": {
			compose: func() error { return ParseSet("a[99999999999999999999]=1", map[string]any{}) },
			wantMsg: "value out of range",
		},
		"D4: a 31-level --set name is rejected": {
			compose: func() error { return ParseSet(strings.Repeat("a.", 31)+"b=1", map[string]any{}) },
			wantMsg: "maximum supported nested level of 30",
		},
		"D4: a targetPath past the index limit is rejected": {
			compose: func() error { return SetPath(map[string]any{}, "list[65537]", "v") },
			wantMsg: "index of 65537",
		},
		"D4: a 31-level targetPath is rejected": {
			compose: func() error { return SetPath(map[string]any{}, strings.Repeat("a.", 31)+"b", "v") },
			wantMsg: "maximum supported nested level of 30",
		},
		"D5: schema violations are listed with their JSON pointers": {
			compose: func() error {
				c := newChart(t, "app", "replicas: 0\n").schema(replicasSchema).chart()
				return ValidateSchema(c, c.Values)
			},
			wantMsg: "app:\n- at '/replicas': minimum: value is less than 1\n", // the value itself is withheld
		},
		"billion laughs in values is rejected": {
			compose: func() error { _, err := Options{ValueFiles: [][]byte{[]byte(billionLaughs)}}.Merge(); return err },
			wantMsg: "excessive aliasing",
		},
		"billion laughs in a schema's values is never expanded": {
			compose: func() error { _, err := ReadValues([]byte("x: 1\n---\n" + billionLaughs)); return err },
			wantMsg: "excessive aliasing",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			start := time.Now()
			err := tc.compose()
			// Generous: the bound guards against a hang, not a slow machine.
			g.Expect(time.Since(start)).To(BeNumerically("<", 30*time.Second))
			g.Expect(err).To(HaveOccurred())
			if tc.wantErr != nil {
				g.Expect(err).To(MatchError(tc.wantErr))
			}
			g.Expect(err.Error()).To(ContainSubstring(tc.wantMsg))
		})
	}
}
