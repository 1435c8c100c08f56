package chart

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
)

func crdTree(t *testing.T) *Chart {
	t.Helper()
	files := with(minimalChart("top"), map[string]string{
		"crds/b.yaml":                           "b",
		"crds/a.JSON":                           "a",
		"crds/notes.txt":                        "not a manifest",
		"crds/deep/c.YML":                       "c",
		"files/crds/x.yaml":                     "not under crds/ at the chart root",
		"charts/sub/Chart.yaml":                 "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
		"charts/sub/crds/s.yaml":                "s",
		"charts/sub/charts/leaf/Chart.yaml":     "apiVersion: v2\nname: leaf\nversion: 1.0.0\n",
		"charts/sub/charts/leaf/crds/leaf.yaml": "leaf",
	})
	c, err := LoadBytes(chartTgz(t, "top", files), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChart_CRDs(t *testing.T) {
	g := NewWithT(t)
	c := crdTree(t)
	g.Expect(fileNames(c.CRDs())).To(Equal([]string{"crds/a.JSON", "crds/b.yaml", "crds/deep/c.YML", "crds/s.yaml", "crds/leaf.yaml"}))
	g.Expect(fileNames(c.Dependencies()[0].CRDs())).To(Equal([]string{"crds/s.yaml", "crds/leaf.yaml"}))
}

func TestChart_CRDObjects(t *testing.T) {
	g := NewWithT(t)
	c := crdTree(t)
	objs := c.CRDObjects()
	g.Expect(fileNames(objs)).To(Equal([]string{
		"top/crds/a.JSON", "top/crds/b.yaml", "top/crds/deep/c.YML",
		"top/charts/sub/crds/s.yaml", "top/charts/sub/charts/leaf/crds/leaf.yaml",
	}))
	g.Expect(string(objs[4].Data)).To(Equal("leaf"))

	// Dependency processing removes disabled subcharts; CRDObjects follows the current tree.
	c.SetDependencies()
	g.Expect(fileNames(c.CRDObjects())).To(Equal([]string{"top/crds/a.JSON", "top/crds/b.yaml", "top/crds/deep/c.YML"}))
}

func TestCheckDependencies(t *testing.T) {
	sub := func(name string) *Chart {
		return &Chart{Metadata: &Metadata{APIVersion: APIVersionV2, Name: name, Version: "1.0.0"}}
	}
	cases := map[string]struct {
		declared []*Dependency
		loaded   []*Chart
		wantErr  string
	}{
		"nothing declared":     {loaded: []*Chart{sub("extra")}},
		"everything present":   {declared: []*Dependency{{Name: "a"}, {Name: "b", Alias: "bee"}}, loaded: []*Chart{sub("b"), sub("a")}},
		"aliases do not count": {declared: []*Dependency{{Name: "a", Alias: "b"}}, loaded: []*Chart{sub("b")}, wantErr: "missing in charts/ directory: a"},
		"several missing, in declared order": {
			declared: []*Dependency{{Name: "z"}, {Name: "present"}, {Name: "m"}},
			loaded:   []*Chart{sub("present")},
			wantErr: "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' " +
				"to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: z, m",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := sub("parent")
			c.Metadata.Dependencies = tc.declared
			c.SetDependencies(tc.loaded...)
			err := CheckDependencies(c)
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			g.Expect(errors.Is(err, ErrMissingDependencies)).To(BeTrue())
		})
	}
}

func TestChart_Validate(t *testing.T) {
	cases := map[string]struct {
		chart   func() *Chart
		wantErr string
	}{
		"a valid tree": {chart: func() *Chart {
			c := &Chart{Metadata: validMetadata()}
			c.AddDependency(&Chart{Metadata: validMetadata()})
			return c
		}},
		"no metadata": {chart: func() *Chart { return &Chart{} }, wantErr: "validation: chart.metadata is required"},
		"an invalid subchart": {chart: func() *Chart {
			c := &Chart{Metadata: validMetadata()}
			bad := validMetadata()
			bad.Name = "bad"
			bad.Version = "x"
			c.AddDependency(&Chart{Metadata: bad})
			return c
		}, wantErr: `subchart demo/charts/bad: validation: chart.metadata.version "x" is invalid`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := tc.chart().Validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(tc.wantErr))
		})
	}
}
