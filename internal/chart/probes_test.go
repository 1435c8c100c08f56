package chart

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/testenv/probes"
)

// probesDir holds the probe charts, the project's own test data (test/conformance/testdata/probes).
var probesDir = probes.Dir()

// probeCharts lists the probe chart directories, failing when they are not where they belong.
func probeCharts(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(probesDir, "t*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("probe charts not found under %s (err %v)", probesDir, err)
	}
	return dirs
}

func TestLoad_probeCharts(t *testing.T) {
	want := map[string]struct {
		name      string
		deps      []string
		templates int
	}{
		"t1":  {name: "parent", deps: []string{"sub"}, templates: 1},
		"t2":  {name: "parent", deps: []string{"child"}, templates: 1},
		"t3":  {name: "parent", deps: []string{"extra", "other", "sub"}, templates: 1},
		"t4":  {name: "fmt", deps: []string{"sub"}, templates: 10},
		"t5":  {name: "err", templates: 1},
		"t6":  {name: "perr", templates: 1},
		"t7":  {name: "top", deps: []string{"mid"}, templates: 1},
		"t8":  {name: "app", deps: []string{"lib"}, templates: 1},
		"t9":  {name: "yml", templates: 1},
		"t10": {name: "p", templates: 1},
		"t11": {name: "legacy", deps: []string{"sub"}, templates: 1},
		"t12": {name: "notes", templates: 1},
	}
	for _, dir := range probeCharts(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			g := NewWithT(t)
			c, err := Load(dir, DefaultLimits())
			g.Expect(err).NotTo(HaveOccurred())
			w, ok := want[filepath.Base(dir)]
			g.Expect(ok).To(BeTrue(), "a new probe chart: add its expectations")
			g.Expect(c.Name()).To(Equal(w.name))
			g.Expect(depNames(c)).To(ConsistOf(w.deps))
			g.Expect(c.Templates).To(HaveLen(w.templates))
			g.Expect(c.Validate()).To(Succeed())
		})
	}
}

func TestLoad_probeT9ValuesAreMerged(t *testing.T) {
	g := NewWithT(t)
	c, err := Load(filepath.Join(probesDir, "t9"), DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Values).To(HaveKeyWithValue("second", "doc"), "the second document of values.yaml is merged in")
	g.Expect(c.Values).To(HaveKeyWithValue("true", true), "`on` and `y` are both the YAML 1.1 key true; the later `y: yes` wins, as in probes/golden/t9")
	g.Expect(c.Values).To(HaveKeyWithValue("octal", float64(493)))
	raw, err := os.ReadFile(filepath.Join(probesDir, "t9", "values.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.RawValues).To(Equal(raw))
}

func TestLoad_strayFileInChartsLikeHelm(t *testing.T) {
	g := NewWithT(t)
	// t10 is the scratch chart Helm was run on with a stray charts/README.md; the probe chart
	// itself has no charts/ folder, so the stray file is added to a copy here.
	dir := t.TempDir()
	for _, name := range []string{"Chart.yaml", "values.yaml", "templates/a.yaml"} {
		data, err := os.ReadFile(filepath.Join(probesDir, "t10", name))
		g.Expect(err).NotTo(HaveOccurred())
		writeTree(t, dir, map[string]string{name: string(data)})
	}
	writeTree(t, dir, map[string]string{"charts/README.md": "stray"})
	_, err := Load(dir, DefaultLimits())
	g.Expect(err).To(MatchError("error unpacking subchart README.md in p: Chart.yaml file is missing"))
}
