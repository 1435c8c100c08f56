package values

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/testenv/probes"
)

// composeProbe runs the whole pipeline on a probe chart the way `helm template` does:
// dependency processing, then coalescing.
func composeProbe(t *testing.T, probe string, user map[string]any) (map[string]any, *warnings) {
	t.Helper()
	g := NewWithT(t)
	c := loadProbe(t, filepath.Join(probesDir, probe))
	w := &warnings{}
	g.Expect(w.composer().ProcessDependencies(c, user)).To(Succeed())
	vals, err := w.composer().Coalesce(c, user)
	g.Expect(err).NotTo(HaveOccurred())
	return vals, w
}

// TestProbes_valuesBlocks compares the values each probe template prints with toYaml against
// what Helm v4.3.1 printed (the golden files), byte for byte.
func TestProbes_valuesBlocks(t *testing.T) {
	type block struct {
		source string   // "# Source:" of the golden document
		scope  []string // subchart keys leading to the template's .Values
	}
	cases := map[string]struct {
		probe, golden string
		files         []string
		sets          []string
		blocks        []block
	}{
		"t1: nulls, globals and subchart scoping": {
			probe: "t1", golden: "t1", files: []string{"t1/user.yaml"},
			blocks: []block{{"parent/templates/cm.yaml", nil}, {"parent/charts/sub/templates/cm.yaml", []string{"sub"}}},
		},
		"t2: import-values in both forms, parent values win": {
			probe: "t2", golden: "t2",
			blocks: []block{{"parent/templates/cm.yaml", nil}},
		},
		"t2-user: user values never change what is imported": {
			probe: "t2", golden: "t2-user", files: []string{"t2/user.yaml"},
			blocks: []block{{"parent/templates/cm.yaml", nil}},
		},
		"t7: three levels of globals, lists replaced, user null removes a default": {
			probe: "t7", golden: "t7", files: []string{"t7/user.yaml"}, sets: []string{"global.set=s", "mid.leaf.own=setleaf"},
			blocks: []block{
				{"top/templates/cm.yaml", nil},
				{"top/charts/mid/templates/cm.yaml", []string{"mid"}},
				{"top/charts/mid/charts/leaf/templates/cm.yaml", []string{"mid", "leaf"}},
			},
		},
		"t7-midnull: a null subchart key drops every parent override": {
			probe: "t7", golden: "t7-midnull", sets: []string{"mid=null"},
			blocks: []block{
				{"top/templates/cm.yaml", nil},
				{"top/charts/mid/templates/cm.yaml", []string{"mid"}},
				{"top/charts/mid/charts/leaf/templates/cm.yaml", []string{"mid", "leaf"}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			vals, _ := composeProbe(t, tc.probe, probeUserValues(t, tc.files, tc.sets...))
			docs := goldenDocs(t, tc.golden)
			for _, b := range tc.blocks {
				doc, ok := docs[b.source]
				g.Expect(ok).To(BeTrue(), "golden has %s", b.source)
				g.Expect(toYAML(t, scoped(vals, b.scope))).To(Equal(goldenBlock(t, doc, "values")), b.source)
			}
			g.Expect(docs).To(HaveLen(len(tc.blocks)), "every rendered chart is compared")
		})
	}
}

// scoped walks subchart keys the way the engine hands .Values to a subchart.
func scoped(vals map[string]any, keys []string) map[string]any {
	cur := vals
	for _, k := range keys {
		next, _ := cur[k].(map[string]any)
		cur = next
	}
	return cur
}

// TestProbes_t1Scalars checks the lines of t1 that print single values: float formatting of
// numbers from YAML and the hasKey results of null handling.
func TestProbes_t1Scalars(t *testing.T) {
	g := NewWithT(t)
	vals, _ := composeProbe(t, "t1", probeUserValues(t, []string{"t1/user.yaml"}))
	parent := goldenDocs(t, "t1")["parent/templates/cm.yaml"]
	sub := goldenDocs(t, "t1")["parent/charts/sub/templates/cm.yaml"]

	g.Expect(parent).To(ContainSubstring(fmt.Sprintf("\n  big: %v\n", vals["big"])))
	_, hasKeepNull := vals["nested"].(map[string]any)["keepnull"]
	g.Expect(parent).To(ContainSubstring(fmt.Sprintf("hasKeepNull: %v", hasKeepNull)))
	_, hasChartNull := vals["sub"].(map[string]any)["chartnull"]
	g.Expect(sub).To(ContainSubstring(fmt.Sprintf("hasChartNull: %v", hasChartNull)))
}

// TestProbes_t3Conditions compares which subcharts survive condition, tag and alias processing
// with the subcharts Helm rendered.
func TestProbes_t3Conditions(t *testing.T) {
	cases := map[string]struct {
		golden       string
		sets         []string
		wantWarnings []string
	}{
		"t3: a non-bool condition falls through to the next path; tags disable; a condition beats a tag": {
			golden:       "t3",
			wantWarnings: []string{"Condition path 'first.enabled' for chart first returned non-bool value"},
		},
		"t3-set: user values flip conditions and tags": {
			golden: "t3-set",
			sets:   []string{"tags.back=true", "first.enabled=true", "other.enabled=false"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			user := probeUserValues(t, nil, tc.sets...)
			c := loadProbe(t, filepath.Join(probesDir, "t3"))
			w := &warnings{}
			g.Expect(w.composer().ProcessDependencies(c, user)).To(Succeed())

			docs := goldenDocs(t, tc.golden)
			want := goldenLine(t, docs["parent/templates/cm.yaml"], "subcharts")
			g.Expect(strings.Join(subchartNames(c), ",")).To(Equal(want))
			for _, sub := range c.Dependencies() {
				src := "parent/charts/" + sub.Name() + "/templates/cm.yaml"
				g.Expect(docs).To(HaveKey(src))
				g.Expect(goldenLine(t, docs[src], "name")).To(Equal(sub.Name() + "-myrel"))
			}
			g.Expect(append([]string{}, *w...)).To(Equal(append([]string{}, tc.wantWarnings...)))
		})
	}
}

// goldenLine returns the value of the first "key: value" line of a golden document.
func goldenLine(t testing.TB, doc, key string) string {
	t.Helper()
	for _, l := range strings.Split(doc, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), key+": "); ok {
			return v
		}
	}
	t.Fatalf("no %q line in golden document:\n%s", key, doc)
	return ""
}

// TestProbes_t8 checks the library chart's view (toJson of the root values) and the schema
// failure text.
func TestProbes_t8(t *testing.T) {
	g := NewWithT(t)
	vals, _ := composeProbe(t, "t8", nil)
	data, err := json.Marshal(vals)
	g.Expect(err).NotTo(HaveOccurred())
	doc := goldenDocs(t, "t8")["app/templates/cm.yaml"]
	g.Expect(doc).To(ContainSubstring(fmt.Sprintf("libvals: %q", string(data))))

	c := loadProbe(t, filepath.Join(probesDir, "t8"))
	g.Expect(ValidateSchema(c, vals)).To(Succeed(), "the chart's own defaults are valid")

	user := probeUserValues(t, nil, "replicas=0")
	g.Expect(ProcessDependencies(c, user)).To(Succeed())
	bad, err := Coalesce(c, user)
	g.Expect(err).NotTo(HaveOccurred())
	err = Composer{QuoteSchemaValues: true}.ValidateSchema(c, bad)
	g.Expect(err).To(HaveOccurred())
	golden := string(mustRead(t, probes.Golden("t8-schema")))
	g.Expect("Error: " + err.Error() + "\n").To(Equal(golden))
}

// TestProbes_t9 checks YAML 1.1 typing and multi-document values.yaml against Helm's output.
func TestProbes_t9(t *testing.T) {
	g := NewWithT(t)
	vals, _ := composeProbe(t, "t9", nil)
	doc := goldenDocs(t, "t9")["yml/templates/cm.yaml"]
	lines := strings.Split(doc, "\n")
	var block []string
	for _, l := range lines[1:] { // skip "data:"
		if strings.HasPrefix(l, "  octalRaw:") {
			break
		}
		block = append(block, strings.TrimPrefix(l, "  "))
	}
	g.Expect(toYAML(t, vals)).To(Equal(strings.Join(block, "\n")))
	g.Expect(doc).To(ContainSubstring(fmt.Sprintf("octalRaw: %v\n", vals["octal"])))
	g.Expect(doc).To(ContainSubstring(fmt.Sprintf("bigRaw: %v\n", vals["bigint"])))
	g.Expect(doc).To(ContainSubstring(fmt.Sprintf("dateKind: %T\n", vals["date"])))
}
