package engine

import (
	"context"
	"testing"
)

// BenchmarkRender renders testdata/webapp, a chart shaped like the ones users install (helpers,
// include/nindent/toYaml everywhere, tpl in values, ranges over hosts and ports, a subchart):
// "parse" parses its templates on every render, as `capstan template` does; "cached" reuses
// them from a TemplateCache, as the manager does for every reconcile after the first.
func BenchmarkRender(b *testing.B) {
	c := loadProbeChart(b, "testdata/webapp")
	vals := simpleCoalesce(c, nil)
	for name, cache := range map[string]*TemplateCache{"parse": nil, "cached": NewTemplateCache(0)} {
		b.Run(name, func(b *testing.B) {
			opts := templateOptions()
			opts.Templates = cache
			b.ReportAllocs()
			for b.Loop() {
				out, err := Render(context.Background(), c, vals, opts)
				if err != nil || len(out) != 11 {
					b.Fatalf("render: %d files, %v", len(out), err)
				}
			}
		})
	}
}
