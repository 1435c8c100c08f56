package conformance

import (
	"testing"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/render"
	"github.com/capstan-dev/capstan/internal/values"
)

// BenchmarkRenderReuse renders every corpus chart's default value set the way the manager
// does on each reconcile (chart loaded afresh, render.Render), once parsing the templates and
// compiling the schema every time ("fresh") and once reusing them from the caches the manager
// keeps across reconciles ("reused").
func BenchmarkRenderReuse(b *testing.B) {
	corpus, err := LoadCorpus(CorpusFile)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range corpus.Charts {
		dir, err := c.ChartDir(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		renders, err := c.Renders(dir)
		if err != nil {
			b.Fatal(err)
		}
		opts, userValues := renderOptionsOf(b, renders[0].Args) // the default value set
		for _, mode := range []string{"fresh", "reused"} {
			b.Run(c.Name+"/"+mode, func(b *testing.B) {
				o := opts
				if mode == "reused" {
					o.Templates, o.Schemas = engine.NewTemplateCache(0), values.NewSchemaCache(0)
				}
				b.ReportAllocs()
				for b.Loop() {
					ch, err := chart.Load(dir, chart.DefaultLimits())
					if err != nil {
						b.Fatal(err)
					}
					if _, err := render.Render(b.Context(), ch, copyValues(userValues), o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// renderOptionsOf reads the release name, --namespace and --set arguments of a default value
// set (the only ones those use).
func renderOptionsOf(b *testing.B, args []string) (render.Options, map[string]any) {
	opts := render.Options{ReleaseName: args[0]}
	vals := map[string]any{}
	for i := 2; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--namespace":
			opts.Namespace = args[i+1]
		case "--set":
			if err := values.ParseSet(args[i+1], vals); err != nil {
				b.Fatal(err)
			}
		default:
			b.Fatalf("unexpected argument %s in a default value set", args[i])
		}
	}
	return opts, vals
}

func copyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, e := range v {
		if m, ok := e.(map[string]any); ok {
			e = copyValues(m)
		}
		out[k] = e
	}
	return out
}
