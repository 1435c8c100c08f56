package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"text/template/parse"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
)

// cachedChart uses every construct that touches the parse trees at run time: defines with
// precedence, include, tpl (which parses into a clone of the set), range and a subchart.
func cachedChart() *chart.Chart {
	sub := newChart("sub").
		tpl("templates/_h.tpl", `{{ define "name" }}sub{{ end }}`).
		tpl("templates/s.yaml", `sub: {{ include "name" . }} {{ .Values.x }}`)
	return newChart("p").
		tpl("templates/_h.tpl", `{{ define "name" }}{{ .Release.Name }}{{ end }}`).
		tpl("templates/a.yaml", `a: {{ include "name" . }}{{ range .Values.list }} {{ . }}{{ end }}`).
		tpl("templates/b.yaml", `b: {{ tpl .Values.text . }}`).
		sub(sub).chart()
}

func cachedValues(i int) map[string]any {
	return map[string]any{
		"list": []any{i, i + 1},
		"text": `{{ define "inner" }}in{{ .Values.list }}{{ end }}{{ include "inner" . }}`,
		"sub":  map[string]any{"x": i},
	}
}

func TestTemplateCache_rendersAsWithoutIt(t *testing.T) {
	g := NewWithT(t)
	want, err := Render(context.Background(), cachedChart(), cachedValues(1), templateOptions())
	g.Expect(err).NotTo(HaveOccurred())

	cache := NewTemplateCache(0)
	opts := templateOptions()
	opts.Templates = cache
	for range 3 {
		got, err := Render(context.Background(), cachedChart(), cachedValues(1), opts)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(want))
	}
	hits, misses := cache.Stats()
	g.Expect([]uint64{hits, misses}).To(Equal([]uint64{2, 1}))
}

func TestTemplateCache_treesStayAsBuilt(t *testing.T) {
	g := NewWithT(t)
	cache := NewTemplateCache(0)
	opts := templateOptions()
	opts.Templates = cache
	_, err := Render(context.Background(), cachedChart(), cachedValues(1), opts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cache.entries).To(HaveLen(1))
	var p *parsedSet
	for _, e := range cache.entries {
		p = e.Value.(*cacheEntry).set
	}
	before := treeTexts(p)
	// A tpl render guards the trees it parses; the cached ones must not be guarded again.
	_, err = Render(context.Background(), cachedChart(), cachedValues(2), opts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(treeTexts(p)).To(Equal(before))
	g.Expect(p.set.Templates()).To(HaveLen(len(before)))
}

func treeTexts(p *parsedSet) map[string]string {
	out := map[string]string{}
	for _, tt := range p.set.Templates() {
		if tt.Tree != nil {
			out[tt.Name()] = tt.Root.String()
		}
	}
	return out
}

func TestTemplateCache_concurrentRenders(t *testing.T) {
	g := NewWithT(t)
	cache := NewTemplateCache(0)
	opts := templateOptions()
	opts.Templates = cache
	const n = 8
	got := make([]map[string]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = Render(context.Background(), cachedChart(), cachedValues(i), opts) })
	}
	wg.Wait()
	for i := range n {
		g.Expect(errs[i]).NotTo(HaveOccurred())
		g.Expect(got[i]["p/templates/a.yaml"]).To(Equal(fmt.Sprintf("a: release-name %d %d", i, i+1)))
		g.Expect(got[i]["p/templates/b.yaml"]).To(Equal(fmt.Sprintf("b: in[%d %d]", i, i+1)))
		g.Expect(got[i]["p/charts/sub/templates/s.yaml"]).To(Equal(fmt.Sprintf("sub: release-name %d", i)))
	}
}

func TestTemplateCache_bounded(t *testing.T) {
	cases := map[string]struct {
		maxBytes int64
		charts   int
		want     int
	}{
		"keeps what fits":                     {maxBytes: 1 << 20, charts: 3, want: 3},
		"forgets the least recently used":     {maxBytes: 200, charts: 3, want: 1},
		"does not keep a set that never fits": {maxBytes: 10, charts: 1, want: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			cache := NewTemplateCache(tc.maxBytes)
			opts := templateOptions()
			opts.Templates = cache
			for i := range tc.charts {
				c := newChart("c").tpl("templates/t.yaml", fmt.Sprintf("%d: %0100d", i, i)).chart()
				_, err := Render(context.Background(), c, nil, opts)
				g.Expect(err).NotTo(HaveOccurred())
			}
			g.Expect(cache.entries).To(HaveLen(tc.want))
			g.Expect(cache.lru.Len()).To(Equal(tc.want))
			g.Expect(cache.bytes).To(BeNumerically("<=", tc.maxBytes))
		})
	}
}

func nodeText(n parse.Node) string {
	if tn, ok := n.(*parse.TextNode); ok {
		return string(tn.Text)
	}
	return ""
}

func TestParseSources_sameAsOneByOne(t *testing.T) {
	cases := map[string]struct {
		files   map[string]string
		wantX   string
		wantErr string
	}{
		"the define parsed last (_a after _b) wins": {wantX: "a", files: map[string]string{
			"c/templates/_a.tpl": `{{ define "x" }}a{{ end }}`,
			"c/templates/_b.tpl": `{{ define "x" }}b{{ end }}`,
		}},
		"an empty define does not replace one": {wantX: "b", files: map[string]string{
			"c/templates/_a.tpl": `{{ define "x" }}{{ end }}`,
			"c/templates/_b.tpl": `{{ define "x" }}b{{ end }}`,
		}},
		"the first file in parse order reports its error": {files: map[string]string{
			"c/templates/a.yaml":   `{{ nope }}`,
			"c/templates/b.yaml":   `{{ if }}`,
			"c/templates/d/c.yaml": `{{ end }}`,
		}, wantErr: `parse error at (c/templates/d/c.yaml:1): unexpected {{end}}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			sources := map[string]source{}
			for n, text := range tc.files {
				sources[n] = source{text: text}
			}
			p, err := parseSources(sources, parseOrder(sources), "missingkey=zero")
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			x := p.set.Lookup("x")
			g.Expect(x).NotTo(BeNil())
			g.Expect(x.Tree.Root.Nodes).To(ContainElement(WithTransform(nodeText, Equal(tc.wantX))))
		})
	}
}
