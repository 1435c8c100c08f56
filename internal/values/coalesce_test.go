package values

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestCoalesce(t *testing.T) {
	cases := map[string]struct {
		build        func(t *testing.T) *testChart
		user         string
		want         string // YAML of the expected result
		wantErr      string
		wantWarnings []string
	}{
		"user values win, maps merge, lists are replaced": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: {x: 1, z: 2}\nl: [1, 2]\ns: chart\n")
			},
			user: "a: {z: 3}\nl: [9]\n",
			want: "a: {x: 1, z: 3}\nl: [9]\ns: chart\n",
		},
		"a user null removes a default, and stays when there is no default": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "a: {x: 1, y: 2}\n") },
			user:  "a: {y: null, new: null}\ntop: null\n",
			want:  "a: {x: 1, new: null}\ntop: null\n",
		},
		"a user null removes a whole default table": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "a: {x: 1}\nb: 2\n") },
			user:  "a: null\n",
			want:  "b: 2\n",
		},
		"nulls in a chart's own values are dropped, nested ones too": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "keep: 1\ngone: null\nm: {x: null, y: 1, deep: {z: null}}\nl: [null]\n")
			},
			want: "keep: 1\nm: {y: 1, deep: {}}\nl: [null]\n",
		},
		"a chart default null under a user table is dropped": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "m: {x: null, y: 1}\n") },
			user:  "m: {z: 1}\n",
			want:  "m: {y: 1, z: 1}\n",
		},
		"a user scalar replaces a chart table silently": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "m: {x: 1}\n") },
			user:  "m: 7\n",
			want:  "m: 7\n",
		},
		"a user table over a chart scalar wins with a warning": {
			build:        func(t *testing.T) *testChart { return newChart(t, "app", "s: 5\n") },
			user:         "s: {b: 1}\n",
			want:         "s: {b: 1}\n",
			wantWarnings: []string{"warning: skipped value for app.s: Not a table."},
		},
		"nested table conflicts keep the user's side with warnings": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "m: {t: {x: 1}, s: 1}\n") },
			user:  "m: {t: 5, s: {y: 1}}\n",
			want:  "m: {t: 5, s: {y: 1}}\n",
			wantWarnings: []string{
				"warning: destination for app.m.s is a table. Ignoring non-table value (1)",
				"warning: cannot overwrite table with non table for app.m.t (map[x:1])",
			},
		},
		"a subchart gets its defaults under the parent's section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {fromParent: 1, shared: parent}\n").
					subs(newChart(t, "sub", "own: 1\nshared: sub\n"))
			},
			want: "sub: {fromParent: 1, shared: parent, own: 1, global: {}}\n",
		},
		"a subchart with no values still gets a table with globals": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "global: {g: 1}\n").subs(newChart(t, "sub", ""))
			},
			want: "global: {g: 1}\nsub: {global: {g: 1}}\n",
		},
		"a parent's nulls for a subchart are dropped when the user gives no section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {x: null, extra: null}\n").subs(newChart(t, "sub", "x: 1\nw: 2\n"))
			},
			want: "sub: {x: 1, w: 2, global: {}}\n",
		},
		"a parent's null removes the subchart's default when the user gives a section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {x: null, extra: null}\n").subs(newChart(t, "sub", "x: 1\nw: 2\n"))
			},
			user: "sub: {other: 1}\n",
			want: "sub: {other: 1, w: 2, extra: null, global: {}}\n",
		},
		"a user null in a subchart section removes the subchart's default but not the parent's value": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {w: 1}\n").subs(newChart(t, "sub", "x: 1\n"))
			},
			user: "sub: {x: null, w: null}\n",
			want: "sub: {w: null, global: {}}\n",
		},
		"a user null for a subchart key with a parent default drops the parent's section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {x: 1}\n").subs(newChart(t, "sub", "w: 2\n"))
			},
			user: "sub: null\n",
			want: "sub: {w: 2, global: {}}\n",
		},
		"a user null for a subchart key without a parent default is an error": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").subs(newChart(t, "extra", ""))
			},
			user:    "extra: null\n",
			wantErr: "type mismatch on extra: %!t(<nil>)",
		},
		"a scalar for a subchart key is an error": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").subs(newChart(t, "extra", ""))
			},
			user:    "extra: yes\n",
			wantErr: "type mismatch on extra: true",
		},
		"globals flow down, the parent winning, child-only keys kept": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "top", "global: {region: top, m: {a: 1}}\n").subs(
					newChart(t, "mid", "global: {region: mid, midonly: mid, m: {b: 2}}\n").subs(
						newChart(t, "leaf", "global: {leafonly: leaf}\n")))
			},
			user: "global: {user: u}\n",
			want: `global: {region: top, m: {a: 1}, user: u}
mid:
  global: {region: top, midonly: mid, m: {a: 1, b: 2}, user: u}
  leaf:
    global: {region: top, midonly: mid, leafonly: leaf, m: {a: 1, b: 2}, user: u}
`,
		},
		"a parent can set a child's globals through the child's section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "top", "mid: {global: {forMid: 1}}\n").subs(
					newChart(t, "mid", "").subs(newChart(t, "leaf", "")))
			},
			want: "mid: {global: {forMid: 1}, leaf: {global: {forMid: 1}}}\n",
		},
		"a child's conflicting default globals lose to the parent's, with warnings": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "top", "global: {m: {a: 1}, s: 1}\n").subs(
					newChart(t, "sub", "global: {m: child, s: {b: 2}}\n"))
			},
			want: "global: {m: {a: 1}, s: 1}\nsub: {global: {m: {a: 1}, s: 1}}\n",
			wantWarnings: []string{
				"warning: destination for top.sub.global.m is a table. Ignoring non-table value (child)",
				"warning: cannot overwrite table with non table for top.sub.global.s (map[b:2])",
			},
		},
		"conflicting globals set in the child's section are kept, with warnings": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "top", "global: {m: {a: 1}, s: 1}\nsub: {global: {m: child, s: {b: 2}}}\n").subs(
					newChart(t, "sub", ""))
			},
			want: "global: {m: {a: 1}, s: 1}\nsub: {global: {m: child, s: {b: 2}}}\n",
			wantWarnings: []string{
				`Conflict: cannot merge map onto non-map for "m". Skipping.`,
				"key s is table. Skipping",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := tc.build(t).chart()
			user, err := ReadValues([]byte(tc.user))
			g.Expect(err).NotTo(HaveOccurred())
			w := &warnings{}
			got, err := w.composer().Coalesce(c, user)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			want, err := ReadValues([]byte(tc.want))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(toYAML(t, got)).To(Equal(toYAML(t, want)))
			g.Expect(append([]string{}, *w...)).To(Equal(append([]string{}, tc.wantWarnings...)))
		})
	}
}

// TestCoalesce_typesAreKept checks that --set's int64 and YAML's float64 survive coalescing.
func TestCoalesce_typesAreKept(t *testing.T) {
	g := NewWithT(t)
	c := newChart(t, "app", "n: 1\nm: 2\n").chart()
	user := map[string]any{}
	g.Expect(ParseSet("n=5", user)).To(Succeed())
	got, err := Coalesce(c, user)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got["n"]).To(Equal(int64(5)))
	g.Expect(got["m"]).To(Equal(2.0))
}

// TestCoalesce_inputsUntouched checks that neither the chart's values nor the user's are
// modified, and that the result shares no maps with them.
func TestCoalesce_inputsUntouched(t *testing.T) {
	g := NewWithT(t)
	parent := newChart(t, "app", "global: {m: {a: {deep: 1}}}\nm: {x: 1, n: null}\nsub: {y: null}\n")
	sub := newChart(t, "sub", "global: {m: {a: {other: 2}}}\ny: 1\nz: {q: null}\n")
	c := parent.subs(sub).chart()
	user, err := ReadValues([]byte("m: {x: null, u: 1}\nsub: {z: {q: 1}}\nglobal: {m: {a: {u: 3}}}\n"))
	g.Expect(err).NotTo(HaveOccurred())
	before := []string{Digest(user), Digest(c.Values), Digest(sub.chart().Values)}

	got, err := Coalesce(c, user)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect([]string{Digest(user), Digest(c.Values), Digest(sub.chart().Values)}).To(Equal(before))

	got["m"].(map[string]any)["mutated"] = true
	got["sub"].(map[string]any)["z"].(map[string]any)["mutated"] = true
	g.Expect([]string{Digest(user), Digest(c.Values), Digest(sub.chart().Values)}).To(Equal(before))
}

// TestCoalesce_nilInputs checks the degenerate inputs.
func TestCoalesce_nilInputs(t *testing.T) {
	g := NewWithT(t)
	got, err := Coalesce(newChart(t, "app", "").chart(), nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(map[string]any{}))
}
