package engine

import (
	"context"
	"testing"

	"github.com/capstan-dev/capstan/internal/chart"
)

// chartBuilder builds in-memory charts for tests.
type chartBuilder struct {
	c *chart.Chart
}

func newChart(name string) *chartBuilder {
	return &chartBuilder{c: &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: "0.1.0"},
		Values:   map[string]any{},
	}}
}

func (b *chartBuilder) tpl(name, text string) *chartBuilder {
	b.c.Templates = append(b.c.Templates, &chart.File{Name: name, Data: []byte(text)})
	return b
}

func (b *chartBuilder) file(name, text string) *chartBuilder {
	b.c.Files = append(b.c.Files, &chart.File{Name: name, Data: []byte(text)})
	return b
}

func (b *chartBuilder) library() *chartBuilder {
	b.c.Metadata.Type = chart.TypeLibrary
	return b
}

func (b *chartBuilder) meta(f func(*chart.Metadata)) *chartBuilder {
	f(b.c.Metadata)
	return b
}

func (b *chartBuilder) sub(subs ...*chartBuilder) *chartBuilder {
	for _, s := range subs {
		b.c.AddDependency(s.c)
	}
	return b
}

func (b *chartBuilder) chart() *chart.Chart { return b.c }

// templateOptions are the options helm template uses.
func templateOptions() Options {
	return Options{Release: ReleaseOptions{Name: "release-name", Namespace: "default", Revision: 1, IsInstall: true}}
}

// renderText renders one template text as c/templates/t.yaml with the given values.
func renderText(t testing.TB, text string, values map[string]any) (string, error) {
	t.Helper()
	return renderTextWith(t, text, values, templateOptions())
}

func renderTextWith(t testing.TB, text string, values map[string]any, opts Options) (string, error) {
	t.Helper()
	c := newChart("c").tpl("templates/t.yaml", text).chart()
	out, err := Render(context.Background(), c, values, opts)
	if err != nil {
		return "", err
	}
	return out["c/templates/t.yaml"], nil
}
