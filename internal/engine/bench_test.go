package engine

import (
	"context"
	"testing"
)

// BenchmarkRender renders testdata/webapp, a chart shaped like the ones users install (helpers,
// include/nindent/toYaml everywhere, tpl in values, ranges over hosts and ports, a subchart).
func BenchmarkRender(b *testing.B) {
	c := loadProbeChart(b, "testdata/webapp")
	vals := simpleCoalesce(c, nil)
	opts := templateOptions()
	b.ReportAllocs()
	for b.Loop() {
		out, err := Render(context.Background(), c, vals, opts)
		if err != nil || len(out) != 11 {
			b.Fatalf("render: %d files, %v", len(out), err)
		}
	}
}
