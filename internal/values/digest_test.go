package values

import (
	"math"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestDigest(t *testing.T) {
	cases := map[string]struct {
		a, b  map[string]any
		equal bool
	}{
		"map order does not matter": {
			a:     map[string]any{"a": 1, "b": map[string]any{"x": 1, "y": 2}},
			b:     map[string]any{"b": map[string]any{"y": 2, "x": 1}, "a": 1},
			equal: true,
		},
		"nil and empty are the same":            {a: nil, b: map[string]any{}, equal: true},
		"int64 and float64 of one number match": {a: map[string]any{"n": int64(1)}, b: map[string]any{"n": 1.0}, equal: true},
		"a changed value changes the digest":    {a: map[string]any{"a": 1}, b: map[string]any{"a": 2}},
		"a string is not a number":              {a: map[string]any{"a": "1"}, b: map[string]any{"a": 1}},
		"null differs from a missing key":       {a: map[string]any{"a": nil}, b: map[string]any{}},
		"list order matters":                    {a: map[string]any{"l": []any{1, 2}}, b: map[string]any{"l": []any{2, 1}}},
		"values JSON cannot encode still digest deterministically": {
			a: map[string]any{"x": math.NaN(), "k": 1}, b: map[string]any{"k": 1, "x": math.NaN()}, equal: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			da, db := Digest(tc.a), Digest(tc.b)
			g.Expect(da).To(HavePrefix("sha256:"))
			g.Expect(strings.TrimPrefix(da, "sha256:")).To(HaveLen(64))
			if tc.equal {
				g.Expect(da).To(Equal(db))
			} else {
				g.Expect(da).NotTo(Equal(db))
			}
		})
	}
}

func TestDigest_knownValue(t *testing.T) {
	g := NewWithT(t)
	// sha256 of the JSON text {"a":1}.
	g.Expect(Digest(map[string]any{"a": 1})).To(Equal("sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"))
}
