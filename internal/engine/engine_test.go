package engine

import (
	"context"
	"sync"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
)

func TestRender_templateNamesAndScopes(t *testing.T) {
	g := NewWithT(t)
	leaf := newChart("leaf").tpl("templates/l.yaml", `{{ .Template.Name }}|{{ .Template.BasePath }}|{{ .Values.v }}|{{ .Chart.Name }}|{{ .Chart.IsRoot }}`)
	mid := newChart("mid").tpl("templates/m.txt", `{{ .Values.v }}|{{ .Values.leaf.v }}`).sub(leaf)
	root := newChart("root").
		tpl("templates/r.yaml", `{{ .Values.v }}|{{ .Chart.IsRoot }}|{{ .Subcharts.mid.Values.v }}|{{ .Subcharts.mid.Subcharts.leaf.Chart.Name }}`).
		tpl("templates/_partial.tpl", `partial`).
		tpl("templates/NOTES.txt", `notes`).
		sub(mid).chart()
	values := map[string]any{"v": "r", "mid": map[string]any{"v": "m", "leaf": map[string]any{"v": "l"}}}

	out, err := Render(context.Background(), root, values, templateOptions())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal(map[string]string{
		"root/templates/r.yaml":                        "r|true|m|leaf",
		"root/templates/NOTES.txt":                     "notes",
		"root/charts/mid/templates/m.txt":              "m|l",
		"root/charts/mid/charts/leaf/templates/l.yaml": "root/charts/mid/charts/leaf/templates/l.yaml|root/charts/mid/charts/leaf/templates|l|leaf|false",
	}))
}

func TestRender_subchartValues(t *testing.T) {
	cases := map[string]struct {
		values map[string]any
		want   string
	}{
		"the subchart sees its own table":       {values: map[string]any{"sub": map[string]any{"a": "x"}}, want: "map[a:x]"},
		"a missing table gives an empty map":    {values: map[string]any{}, want: "map[]"},
		"a table that is not a map gives empty": {values: map[string]any{"sub": "oops"}, want: "map[]"},
		"parent keys stay out of the subchart":  {values: map[string]any{"a": 1, "sub": map[string]any{}}, want: "map[]"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := newChart("p").sub(newChart("sub").tpl("templates/s.yaml", `{{ .Values }}`)).chart()
			out, err := Render(context.Background(), c, tc.values, templateOptions())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out["p/charts/sub/templates/s.yaml"]).To(Equal(tc.want))
		})
	}
}

func TestRender_definePrecedence(t *testing.T) {
	g := NewWithT(t)
	sub := newChart("sub").
		tpl("templates/_h.tpl", `{{ define "shared" }}sub{{ end }}{{ define "subonly" }}subonly{{ end }}`).
		tpl("templates/use.yaml", `{{ include "shared" . }}`)
	c := newChart("p").
		tpl("templates/_a.tpl", `{{ define "dup" }}a{{ end }}{{ define "shared" }}parent{{ end }}`).
		tpl("templates/_b.tpl", `{{ define "dup" }}b{{ end }}`).
		tpl("templates/deep/y.yaml", `{{ define "dup2" }}deep{{ end }}`).
		tpl("templates/z.yaml", `{{ define "dup2" }}z{{ end }}{{ include "dup" . }}{{ include "dup2" . }}{{ include "subonly" . }}`).
		tpl("templates/empty.yaml", `{{ define "dup" }}{{ end }}`).
		sub(sub).chart()
	out, err := Render(context.Background(), c, nil, templateOptions())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out["p/templates/z.yaml"]).To(Equal("azsubonly"), "an empty redefinition never replaces a body")
	g.Expect(out["p/charts/sub/templates/use.yaml"]).To(Equal("parent"), "the parent's define wins inside the subchart")
}

func TestRender_libraryCharts(t *testing.T) {
	g := NewWithT(t)
	lib := newChart("lib").library().
		tpl("templates/_lib.tpl", `{{ define "lib.name" }}{{ .Chart.Name }}-lib{{ end }}`).
		tpl("templates/broken.yaml", `{{ this does not parse`)
	upper := newChart("lib2").meta(func(m *chart.Metadata) { m.Type = "Library" }).tpl("templates/x.yaml", `{{`)
	c := newChart("app").tpl("templates/cm.yaml", `{{ include "lib.name" . }}`).sub(lib, upper).chart()
	out, err := Render(context.Background(), c, nil, templateOptions())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal(map[string]string{"app/templates/cm.yaml": "app-lib"}))
}

func TestRender_chartObject(t *testing.T) {
	g := NewWithT(t)
	c := newChart("c").meta(func(m *chart.Metadata) {
		m.Maintainers = []*chart.Maintainer{{Name: "m"}}
		m.Dependencies = []*chart.Dependency{{Name: "d", Tags: []string{"t"}, ImportValues: []any{"x"}, Enabled: true}}
	}).tpl("templates/t.yaml", `{{ toJson .Chart }}|{{ .Chart.Foo }}|{{ (index .Chart.Maintainers 0).Name }}`).chart()
	out, err := Render(context.Background(), c, nil, templateOptions())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out["c/templates/t.yaml"]).To(Equal(`{"APIVersion":"v2","Annotations":null,"AppVersion":"","Condition":"",` +
		`"Dependencies":[{"Alias":"","Condition":"","Enabled":true,"ImportValues":["x"],"Name":"d","Repository":"","Tags":["t"],"Version":""}],` +
		`"Deprecated":false,"Description":"","Home":"","Icon":"","IsRoot":true,"Keywords":[],"KubeVersion":"",` +
		`"Maintainers":[{"Email":"","Name":"m","URL":""}],"Name":"c","Sources":[],"Tags":"","Type":"","Version":"0.1.0"}||m`))
}

func TestRender_releaseObject(t *testing.T) {
	g := NewWithT(t)
	opts := templateOptions()
	opts.Release = ReleaseOptions{Name: "web", Namespace: "prod", Revision: 7, IsUpgrade: true}
	got, err := renderTextWith(t, `{{ .Release }} {{ typeOf .Release.Revision }}`, nil, opts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal("map[IsInstall:false IsUpgrade:true Name:web Namespace:prod Revision:7 Service:Helm] int"))
}

func TestRender_strictMode(t *testing.T) {
	g := NewWithT(t)
	opts := templateOptions()
	opts.Strict = true
	_, err := renderTextWith(t, `{{ .Values.missing }}`, map[string]any{}, opts)
	g.Expect(err).To(MatchError("c/templates/t.yaml:1:10\n  executing \"c/templates/t.yaml\" at <.Values.missing>:\n    map has no entry for key \"missing\""))

	_, err = renderTextWith(t, `{{ tpl "{{ .Values.missing }}" . }}`, map[string]any{}, opts)
	g.Expect(err).To(MatchError(ContainSubstring(`map has no entry for key "missing"`)), "tpl keeps the strict option")
}

func TestRender_noValueIsRemoved(t *testing.T) {
	g := NewWithT(t)
	got, err := renderText(t, `[{{ .Values.missing }}][{{ .Values.text }}]`, map[string]any{"text": "a<no value>b"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal("[][ab]"))
}

func TestRender_callerDataIsNotModified(t *testing.T) {
	g := NewWithT(t)
	values := map[string]any{"m": map[string]any{"a": 1}, "l": []any{1}, "sub": map[string]any{}}
	caps := DefaultCapabilities()
	caps.APIVersions = append(make(VersionSet, 0, 100), caps.APIVersions...)
	c := newChart("p").
		tpl("templates/a.yaml", `{{ $_ := set .Values.m "b" 2 }}{{ .Values.sub.fromSub }}{{ $_ := append .Capabilities.APIVersions "x/v1" }}`).
		sub(newChart("sub").tpl("templates/s.yaml", `{{ $_ := set .Values "fromSub" 1 }}`)).chart()
	out, err := Render(context.Background(), c, values, Options{Capabilities: caps})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out["p/templates/a.yaml"]).To(Equal("1"), "templates share one copy of the values (subcharts run first), as in Helm")
	g.Expect(values).To(Equal(map[string]any{"m": map[string]any{"a": 1}, "l": []any{1}, "sub": map[string]any{}}))
	g.Expect(caps.APIVersions).To(HaveLen(57))
	g.Expect(caps.APIVersions[:58][57]).To(BeEmpty(), "the spare capacity of the caller's list is not written")
}

func TestRender_badInput(t *testing.T) {
	g := NewWithT(t)
	_, err := Render(context.Background(), nil, nil, Options{})
	g.Expect(err).To(MatchError("render: no chart"))
	_, err = Render(context.Background(), &chart.Chart{}, nil, Options{})
	g.Expect(err).To(MatchError(errNoMetadata))
	c := newChart("c").tpl("templates/a.yaml", "x").chart()
	c.Templates = append(c.Templates, nil)
	out, err := Render(context.Background(), c, nil, Options{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(HaveLen(1))
}

func TestRender_concurrentRendersShareNothing(t *testing.T) {
	g := NewWithT(t)
	c := loadProbeChart(t, "testdata/webapp")
	vals := simpleCoalesce(c, nil)
	caps := DefaultCapabilities()
	want, err := Render(context.Background(), c, vals, Options{Capabilities: caps})
	g.Expect(err).NotTo(HaveOccurred())
	var wg sync.WaitGroup
	results := make([]map[string]string, 8)
	for i := range results {
		wg.Go(func() {
			results[i], _ = Render(context.Background(), c, vals, Options{Capabilities: caps})
		})
	}
	wg.Wait()
	for _, r := range results {
		g.Expect(r).To(HaveLen(len(want)))
		for name, text := range want {
			if name == "webapp/templates/secret.yaml" || name == "webapp/templates/NOTES.txt" {
				continue
			}
			g.Expect(r).To(HaveKeyWithValue(name, text))
		}
	}
}

func TestRender_panicsBecomeErrors(t *testing.T) {
	g := NewWithT(t)
	c := newChart("p").sub(newChart("s")).chart()
	c.Dependencies()[0] = nil // not something the loader produces; it must still not crash
	_, err := Render(context.Background(), c, nil, templateOptions())
	g.Expect(err).To(MatchError(HavePrefix("rendering template failed: runtime error:")))
}
