package cli

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/storage"
)

func TestValues(t *testing.T) {
	withValues := func(defaults, config map[string]any) *storage.Release {
		r := rec(1, storage.StatusDeployed, "Install complete")
		r.Chart.Values, r.Config = defaults, config
		return r
	}
	defaults := map[string]any{"a": 1.0, "gone": nil, "m": map[string]any{"x": "y", "k": nil}}
	noMetadata := withValues(map[string]any{"a": 1.0}, map[string]any{"b": true})
	noMetadata.Chart.Metadata = nil
	cases := map[string]struct {
		record *storage.Release
		all    bool
		want   map[string]any
	}{
		"user values are the record's config": {
			record: withValues(defaults, map[string]any{"b": 2.0}),
			want:   map[string]any{"b": 2.0},
		},
		"no user values are nil, which prints as null": {
			record: withValues(defaults, nil),
			want:   nil,
		},
		"all values coalesce the defaults under the config and drop the defaults' nulls": {
			record: withValues(defaults, map[string]any{"b": 2.0, "m": map[string]any{"k": "v"}}),
			all:    true,
			want:   map[string]any{"a": 1.0, "b": 2.0, "m": map[string]any{"x": "y", "k": "v"}},
		},
		"a null in the config deletes the default": {
			record: withValues(map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"a": nil}),
			all:    true,
			want:   map[string]any{"b": 2.0},
		},
		"all values of a record without chart metadata still compute": {
			record: noMetadata,
			all:    true,
			want:   map[string]any{"a": 1.0, "b": true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := Values(tc.record, tc.all)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestWriteValues(t *testing.T) {
	vals := map[string]any{"b": 2.0, "m": map[string]any{"x": "y"}}
	cases := map[string]struct {
		format Format
		vals   map[string]any
		all    bool
		want   string
	}{
		"user values as helm's table":         {format: FormatTable, vals: vals, want: "USER-SUPPLIED VALUES:\nb: 2\nm:\n  x: \"y\"\n"},
		"computed values as helm's table":     {format: FormatTable, vals: vals, all: true, want: "COMPUTED VALUES:\nb: 2\nm:\n  x: \"y\"\n"},
		"no values print null":                {format: FormatTable, want: "USER-SUPPLIED VALUES:\nnull\n"},
		"json is one line":                    {format: FormatJSON, vals: vals, want: `{"b":2,"m":{"x":"y"}}` + "\n"},
		"json of no values is null":           {format: FormatJSON, want: "null\n"},
		"yaml has no heading":                 {format: FormatYAML, vals: vals, all: true, want: "b: 2\nm:\n  x: \"y\"\n"},
		"json escapes HTML as helm's encoder": {format: FormatJSON, vals: map[string]any{"h": "<a&b>"}, want: `{"h":"\u003ca\u0026b\u003e"}` + "\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var b strings.Builder
			g.Expect(WriteValues(&b, tc.format, tc.vals, tc.all)).To(Succeed())
			g.Expect(b.String()).To(Equal(tc.want))
		})
	}
}

func TestWriteManifestAndNotes(t *testing.T) {
	g := NewWithT(t)
	r := rec(1, storage.StatusDeployed, "Install complete")
	r.Manifest = "---\n# Source: demo/templates/cm.yaml\nkind: ConfigMap\n"
	var b strings.Builder
	g.Expect(WriteManifest(&b, FormatTable, r)).To(Succeed())
	g.Expect(b.String()).To(Equal(r.Manifest + "\n"))

	b.Reset()
	g.Expect(WriteNotes(&b, FormatTable, r)).To(Succeed())
	g.Expect(b.String()).To(BeEmpty(), "no notes print nothing")
	r.Info.Notes = "Some notes\nline2"
	g.Expect(WriteNotes(&b, FormatTable, r)).To(Succeed())
	g.Expect(b.String()).To(Equal("NOTES:\nSome notes\nline2\n"))
}

func TestWriteManifestAndNotes_structured(t *testing.T) {
	g := NewWithT(t)
	r := rec(2, storage.StatusDeployed, "Upgrade complete")
	r.Manifest = "kind: ConfigMap\n"
	r.Info.Notes = "Hello"
	var b strings.Builder
	g.Expect(WriteManifest(&b, FormatJSON, r)).To(Succeed())
	g.Expect(b.String()).To(Equal(`{"release":"` + r.Name + `","revision":2,"manifest":"kind: ConfigMap\n"}` + "\n"))

	b.Reset()
	g.Expect(WriteNotes(&b, FormatYAML, r)).To(Succeed())
	g.Expect(b.String()).To(Equal("notes: Hello\nrelease: " + r.Name + "\nrevision: 2\n"))
}
