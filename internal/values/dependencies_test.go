package values

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
)

func withAlias(d *chart.Dependency, alias string) *chart.Dependency {
	d.Alias = alias
	return d
}

func withCondition(d *chart.Dependency, cond string) *chart.Dependency {
	d.Condition = cond
	return d
}

func withTags(d *chart.Dependency, tags ...string) *chart.Dependency {
	d.Tags = tags
	return d
}

func withImports(d *chart.Dependency, imports ...any) *chart.Dependency {
	d.ImportValues = imports
	return d
}

func TestProcessDependencies_enabled(t *testing.T) {
	cases := map[string]struct {
		build        func(t *testing.T) *testChart
		user         string
		want         []string // subchart names after processing, sorted
		wantWarnings []string
	}{
		"no declared dependencies keeps every subchart": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").subs(newChart(t, "a", ""), newChart(t, "b", ""))
			},
			want: []string{"a", "b"},
		},
		"undeclared subcharts are always kept": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").deps(withCondition(dep("a"), "a.enabled")).subs(newChart(t, "a", ""), newChart(t, "extra", ""))
			},
			user: "a: {enabled: false}\n",
			want: []string{"extra"},
		},
		"a declared dependency with no loaded chart is simply absent": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "").deps(dep("missing")) },
			want:  nil,
		},
		"one chart under two aliases gives two subcharts": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").deps(withAlias(dep("sub"), "one"), withAlias(dep("sub"), "two")).subs(newChart(t, "sub", ""))
			},
			want: []string{"one", "two"},
		},
		"a version outside the constraint leaves the chart undeclared but still removable by name": {
			build: func(t *testing.T) *testChart {
				d := withCondition(dep("a"), "a.enabled")
				d.Version = "^2.0.0"
				return newChart(t, "app", "a: {enabled: false}\n").deps(d).subs(newChart(t, "a", ""))
			},
			want: nil,
		},
		"an unparsable version constraint never matches": {
			build: func(t *testing.T) *testChart {
				d := dep("a")
				d.Version = "not a range"
				return newChart(t, "app", "").deps(d).subs(newChart(t, "a", ""))
			},
			want: []string{"a"},
		},
		"a false tag disables, a true tag wins over a false one": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "tags: {down: false, up: true}\n").
					deps(withTags(dep("a"), "down"), withTags(dep("b"), "down", "up"), withTags(dep("c"), "unknown")).
					subs(newChart(t, "a", ""), newChart(t, "b", ""), newChart(t, "c", ""))
			},
			want: []string{"b", "c"},
		},
		"a non-bool tag is ignored with a warning": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "tags: {odd: 'yes'}\n").deps(withTags(dep("a"), "odd")).subs(newChart(t, "a", ""))
			},
			want:         []string{"a"},
			wantWarnings: []string{`tag "odd" for chart a returned non-bool value`},
		},
		"user tags override chart tags": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "tags: {x: false}\n").deps(withTags(dep("a"), "x")).subs(newChart(t, "a", ""))
			},
			user: "tags: {x: true}\n",
			want: []string{"a"},
		},
		"the first condition path holding a bool decides": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: {str: 'yes', map: {x: 1}, down: false, up: true}\n").
					deps(withCondition(dep("a"), "missing.path,a.str,a.map,a.down,a.up")).subs(newChart(t, "a", ""))
			},
			want:         nil,
			wantWarnings: []string{"Condition path 'a.str' for chart a returned non-bool value"},
		},
		"a null condition value is a non-bool value": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").deps(withCondition(dep("a"), "a.enabled")).subs(newChart(t, "a", ""))
			},
			user:         "a: {enabled: null}\n",
			want:         []string{"a"},
			wantWarnings: []string{"Condition path 'a.enabled' for chart a returned non-bool value"},
		},
		"spaces in a condition list are part of the path": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: {enabled: false}\n").deps(withCondition(dep("a"), "x, a.enabled")).subs(newChart(t, "a", ""))
			},
			want: []string{"a"},
		},
		"a condition overrides a tag": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "tags: {t: false}\na: {enabled: true}\n").
					deps(withTags(withCondition(dep("a"), "a.enabled"), "t")).subs(newChart(t, "a", ""))
			},
			want: []string{"a"},
		},
		"--set typed booleans drive conditions": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: {enabled: true}\n").deps(withCondition(dep("a"), "a.enabled")).subs(newChart(t, "a", ""))
			},
			user: "a: {enabled: false}\n",
			want: nil,
		},
		"an aliased dependency's condition uses the alias's values": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "one: {enabled: false}\ntwo: {enabled: true}\n").
					deps(withCondition(withAlias(dep("sub"), "one"), "one.enabled"), withCondition(withAlias(dep("sub"), "two"), "two.enabled")).
					subs(newChart(t, "sub", ""))
			},
			want: []string{"two"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := tc.build(t).chart()
			user, err := ReadValues([]byte(tc.user))
			g.Expect(err).NotTo(HaveOccurred())
			w := &warnings{}
			g.Expect(w.composer().ProcessDependencies(c, user)).To(Succeed())
			g.Expect(subchartNames(c)).To(Equal(tc.want))
			g.Expect(append([]string{}, *w...)).To(Equal(append([]string{}, tc.wantWarnings...)))
		})
	}
}

// TestProcessDependencies_nested covers conditions below the root: written relative to the
// intermediate chart, looked up from the root, tags only at the top, and no recursion below a
// chart that declares nothing.
func TestProcessDependencies_nested(t *testing.T) {
	build := func(t *testing.T, rootDeclares bool, midValues string) *chart.Chart {
		leaf := newChart(t, "leaf", "")
		other := newChart(t, "other", "")
		mid := newChart(t, "mid", midValues).
			deps(withCondition(dep("leaf"), "leaf.enabled"), withTags(dep("other"), "midtag")).subs(leaf, other)
		root := newChart(t, "top", "").subs(mid)
		if rootDeclares {
			root.deps(dep("mid"))
		}
		return root.chart()
	}
	cases := map[string]struct {
		rootDeclares bool
		midValues    string
		user         string
		wantLeaves   []string
	}{
		"a grandchild's condition is controlled through the intermediate chart's section": {
			rootDeclares: true, user: "mid: {leaf: {enabled: false}}\n", wantLeaves: []string{"other"},
		},
		"a grandchild's condition at the top level has no effect": {
			rootDeclares: true, user: "leaf: {enabled: false}\n", wantLeaves: []string{"leaf", "other"},
		},
		"the intermediate chart's own default drives the condition": {
			rootDeclares: true, midValues: "leaf: {enabled: false}\n", wantLeaves: []string{"other"},
		},
		"tags are read from the top level": {
			rootDeclares: true, user: "tags: {midtag: false}\n", wantLeaves: []string{"leaf"},
		},
		"tags in the intermediate chart's section are ignored": {
			rootDeclares: true, user: "mid: {tags: {midtag: false}}\n", wantLeaves: []string{"leaf", "other"},
		},
		"the intermediate chart's own tags apply, because its defaults are also merged at the top": {
			rootDeclares: true, midValues: "tags: {midtag: false}\n", wantLeaves: []string{"leaf"},
		},
		"without declarations at the root, grandchildren are never evaluated": {
			rootDeclares: false, user: "mid: {leaf: {enabled: false}}\ntags: {midtag: false}\n", wantLeaves: []string{"leaf", "other"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := build(t, tc.rootDeclares, tc.midValues)
			user, err := ReadValues([]byte(tc.user))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ProcessDependencies(c, user)).To(Succeed())
			g.Expect(c.Dependencies()).To(HaveLen(1))
			g.Expect(subchartNames(c.Dependencies()[0])).To(Equal(tc.wantLeaves))
		})
	}
}

// TestProcessDependencies_aliases checks the renamed copies and the metadata rewrite.
func TestProcessDependencies_aliases(t *testing.T) {
	g := NewWithT(t)
	sub := newChart(t, "sub", "x: 1\n").subs(newChart(t, "leaf", ""))
	root := newChart(t, "app", "").deps(withAlias(dep("sub"), "one"), withAlias(dep("sub"), "two"), dep("sub")).subs(sub)
	c := root.chart()
	origMeta := sub.chart().Metadata

	g.Expect(ProcessDependencies(c, nil)).To(Succeed())
	names := map[string]*chart.Chart{}
	for _, d := range c.Dependencies() {
		names[d.Name()] = d
		g.Expect(d.Parent()).To(BeIdenticalTo(c))
		g.Expect(d.Dependencies()).To(HaveLen(1))
		g.Expect(d.Dependencies()[0].Parent()).To(BeIdenticalTo(d))
	}
	g.Expect(names).To(HaveLen(3))
	g.Expect(names).To(HaveKey("one"))
	g.Expect(names).To(HaveKey("two"))
	g.Expect(names).To(HaveKey("sub"))
	g.Expect(names["one"].Metadata).NotTo(BeIdenticalTo(names["two"].Metadata))
	g.Expect(names["one"].ChartFullPath()).To(Equal("app/charts/one"))

	var declared []string
	for _, d := range c.Metadata.Dependencies {
		declared = append(declared, d.Name)
		g.Expect(d.Enabled).To(BeTrue())
	}
	g.Expect(declared).To(Equal([]string{"one", "two", "sub"}))

	g.Expect(origMeta.Name).To(Equal("sub"), "the caller's chart objects are not modified")
	g.Expect(sub.chart().Metadata).To(BeIdenticalTo(origMeta))
	g.Expect(root.chart()).To(BeIdenticalTo(c))

	vals, err := Coalesce(c, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(vals).To(HaveKey("one"))
	g.Expect(vals["two"]).To(HaveKeyWithValue("x", 1.0))
}

// TestProcessDependencies_callerTreeUntouched checks that processing a tree twice from the same
// loaded subcharts gives the same result (the first run did not corrupt them).
func TestProcessDependencies_callerTreeUntouched(t *testing.T) {
	g := NewWithT(t)
	sub := newChart(t, "sub", "exports: {e: {v: 1}}\n")
	build := func() *chart.Chart {
		root := &chart.Chart{
			Metadata: &chart.Metadata{
				Name: "app", Version: "0.1.0",
				Dependencies: []*chart.Dependency{withImports(withAlias(dep("sub"), "s"), "e")},
			},
			Values: map[string]any{},
		}
		root.SetDependencies(sub.chart())
		return root
	}
	first, second := build(), build()
	g.Expect(ProcessDependencies(first, nil)).To(Succeed())
	g.Expect(ProcessDependencies(second, nil)).To(Succeed())
	g.Expect(first.Values).To(Equal(second.Values))
	g.Expect(first.Values).To(HaveKeyWithValue("v", 1.0))
	g.Expect(sub.chart().Name()).To(Equal("sub"))
}

func TestProcessDependencies_errors(t *testing.T) {
	g := NewWithT(t)
	c := newChart(t, "app", "").deps(dep("extra")).subs(newChart(t, "extra", "")).chart()
	err := ProcessDependencies(c, map[string]any{"extra": nil})
	g.Expect(err).To(MatchError("chart dependencies processing failed: type mismatch on extra: %!t(<nil>)"))

	c = newChart(t, "app", "").deps(dep("extra")).subs(newChart(t, "extra", "")).chart()
	err = ProcessDependencies(c, map[string]any{"extra": int64(5)})
	g.Expect(err).To(MatchError("chart dependencies processing failed: type mismatch on extra: %!t(int64=5)"))

	g.Expect(ProcessDependencies(nil, nil)).To(HaveOccurred())
}

func TestProcessDependencies_imports(t *testing.T) {
	cases := map[string]struct {
		build        func(t *testing.T) *testChart
		want         string // YAML subset expected in the root's final values (top-level keys compared)
		wantImports  []any
		wantWarnings []string
	}{
		"the string form merges exports.<name> into the root": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").deps(withImports(dep("c"), "data")).
					subs(newChart(t, "c", "exports: {data: {a: 1, m: {x: 1}}}\n"))
			},
			want:        "a: 1\nm: {x: 1}\n",
			wantImports: []any{map[string]string{"child": "exports.data", "parent": "."}},
		},
		"the map form places the child table at the parent path": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").deps(withImports(dep("c"), map[string]any{"child": "d.t", "parent": "p.q"})).
					subs(newChart(t, "c", "d: {t: {a: 1}}\n"))
			},
			want:        "p: {q: {a: 1}}\n",
			wantImports: []any{map[string]string{"child": "d.t", "parent": "p.q"}},
		},
		"the parent's own values win over imported ones": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: mine\nm: {x: mine}\n").deps(withImports(dep("c"), "data")).
					subs(newChart(t, "c", "exports: {data: {a: theirs, b: theirs, m: {x: theirs, y: theirs}}}\n"))
			},
			want: "a: mine\nb: theirs\nm: {x: mine, y: theirs}\n",
		},
		"earlier import entries win over later ones": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").deps(withImports(dep("c"), "one", "two")).
					subs(newChart(t, "c", "exports: {one: {a: 1}, two: {a: 2, b: 2}}\n"))
			},
			want: "a: 1\nb: 2\n",
		},
		"a missing or scalar table is skipped with a warning": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").
					deps(withImports(dep("c"), "nope", map[string]any{"child": "s", "parent": "x"}, 42)).
					subs(newChart(t, "c", "s: 5\n"))
			},
			want: "c: {s: 5, global: {}}\n",
			wantImports: []any{
				map[string]string{"child": "exports.nope", "parent": "."},
				map[string]string{"child": "s", "parent": "x"},
			},
			wantWarnings: []string{
				`ImportValues missing table from chart c: "exports" is not a table`,
				`ImportValues missing table from chart c: "s" is not a table`,
			},
		},
		"an aliased dependency imports from its alias's section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "al: {exports: {data: {a: fromparent}}}\n").
					deps(withImports(withAlias(dep("c"), "al"), "data")).
					subs(newChart(t, "c", "exports: {data: {a: 1, b: 1}}\n"))
			},
			want: "a: fromparent\nb: 1\n",
		},
		"imports run bottom-up, so a grandchild's export can travel to the root": {
			build: func(t *testing.T) *testChart {
				leaf := newChart(t, "leaf", "exports: {up: {deep: 1}}\n")
				mid := newChart(t, "mid", "").deps(withImports(dep("leaf"), map[string]any{"child": "exports.up", "parent": "exports.fwd"})).subs(leaf)
				return newChart(t, "app", "").deps(withImports(dep("mid"), "fwd")).subs(mid)
			},
			want: "deep: 1\n",
		},
		"a missing child key renders as <nil>": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").deps(withImports(dep("c"), map[string]any{"parent": "x"})).subs(newChart(t, "c", ""))
			},
			wantImports:  []any{map[string]string{"child": "<nil>", "parent": "x"}},
			wantWarnings: []string{`ImportValues missing table from chart c: "<nil>" is not a table`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := tc.build(t).chart()
			w := &warnings{}
			g.Expect(w.composer().ProcessDependencies(c, nil)).To(Succeed())
			vals, err := Coalesce(c, nil)
			g.Expect(err).NotTo(HaveOccurred())
			want, err := ReadValues([]byte(tc.want))
			g.Expect(err).NotTo(HaveOccurred())
			for k, v := range want {
				g.Expect(toYAML(t, vals[k])).To(Equal(toYAML(t, v)), k)
			}
			if tc.wantImports != nil {
				g.Expect(c.Metadata.Dependencies[0].ImportValues).To(Equal(tc.wantImports))
			}
			g.Expect(append([]string{}, *w...)).To(Equal(append([]string{}, tc.wantWarnings...)))
		})
	}
}

// TestProcessDependencies_allDisabled checks Helm's quirk: a chart whose every dependency is
// disabled ends with no dependency list, and its values are not rewritten by import processing.
func TestProcessDependencies_allDisabled(t *testing.T) {
	g := NewWithT(t)
	c := newChart(t, "app", "a: {enabled: false}\n").deps(withCondition(withImports(dep("a"), "e"), "a.enabled")).
		subs(newChart(t, "a", "exports: {e: {v: 1}}\n")).chart()
	before := Digest(c.Values)
	g.Expect(ProcessDependencies(c, nil)).To(Succeed())
	g.Expect(c.Metadata.Dependencies).To(BeNil())
	g.Expect(c.Dependencies()).To(BeEmpty())
	g.Expect(Digest(c.Values)).To(Equal(before))
}

func TestCheckDependencies(t *testing.T) {
	g := NewWithT(t)
	ok := newChart(t, "app", "").deps(withAlias(dep("sub"), "alias")).subs(newChart(t, "sub", "")).chart()
	g.Expect(CheckDependencies(ok)).To(Succeed(), "aliases are not considered, names are")

	missing := newChart(t, "app", "").deps(dep("a"), dep("sub"), dep("b")).subs(newChart(t, "sub", "")).chart()
	g.Expect(CheckDependencies(missing)).To(MatchError("an error occurred while checking for chart dependencies. " +
		"You may need to run 'helm dependency build' to fetch missing dependencies: " +
		"found in Chart.yaml, but missing in charts/ directory: a, b"))

	g.Expect(CheckDependencies(newChart(t, "app", "").chart())).To(Succeed())
	g.Expect(CheckDependencies(nil)).To(Succeed())
}
