package values

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// oracleCase is one helm template run: a chart and user values given as Helm's flags.
type oracleCase struct {
	build      func(t *testing.T) *testChart // nil: an empty chart named app
	files      []string                      // -f documents
	set        []string
	setString  []string
	setJSON    []string
	setLiteral []string
	setFile    []string
	fileData   map[string]string // files --set-file reads, relative to the working directory
}

func (tc oracleCase) flags(t *testing.T, dir string) []string {
	var flags []string
	for i, doc := range tc.files {
		// Relative to helm's working directory: -f splits its argument on commas, and test
		// directory names hold commas.
		name := fmt.Sprintf("user%d.yaml", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		flags = append(flags, "-f", name)
	}
	add := func(flag string, lines []string) {
		for _, l := range lines {
			flags = append(flags, flag, l)
		}
	}
	add("--set", tc.set)
	add("--set-string", tc.setString)
	add("--set-json", tc.setJSON)
	add("--set-literal", tc.setLiteral)
	add("--set-file", tc.setFile)
	for name, data := range tc.fileData {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return flags
}

// compose runs our side of the case exactly as `helm template` orders the steps.
func (tc oracleCase) compose(t *testing.T, dir string) helmResult {
	opts := Options{
		Values: tc.set, StringValues: tc.setString, JSONValues: tc.setJSON, LiteralValues: tc.setLiteral,
		FileValues: tc.setFile, MaxBytes: -1,
		ReadFile: func(p string) ([]byte, error) {
			// Read relative to helm's working directory, reporting the path as helm sees it.
			data, err := os.ReadFile(filepath.Join(dir, p))
			var pathErr *fs.PathError
			if errors.As(err, &pathErr) {
				pathErr.Path = p
			}
			return data, err
		},
	}
	for _, doc := range tc.files {
		opts.ValueFiles = append(opts.ValueFiles, []byte(doc))
	}
	user, err := opts.Merge()
	if err != nil {
		return helmResult{err: err.Error()}
	}
	c := tc.chart(t).chart()
	if err := ProcessDependencies(c, user); err != nil {
		return helmResult{err: err.Error()}
	}
	vals, err := Coalesce(c, user)
	if err != nil {
		return helmResult{err: err.Error()}
	}
	if err := (Composer{QuoteSchemaValues: true}).ValidateSchema(c, vals); err != nil {
		return helmResult{err: strings.TrimRight(err.Error(), "\n")}
	}
	return helmResult{dumps: ourDumps(c, vals)}
}

func (tc oracleCase) chart(t *testing.T) *testChart {
	if tc.build == nil {
		return newChart(t, "app", "")
	}
	return tc.build(t)
}

func runOracle(t *testing.T, cases map[string]oracleCase) {
	t.Helper()
	helmBinary(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			dir := t.TempDir()
			chartDir := filepath.Join(dir, "chart")
			writeChart(t, chartDir, tc.chart(t).chart())
			want := runHelm(t, dir, chartDir, tc.flags(t, dir)...)
			got := tc.compose(t, dir)
			g.Expect(got.err).To(Equal(want.err), "error text")
			g.Expect(sortedPaths(got.dumps)).To(Equal(sortedPaths(want.dumps)), "rendered charts")
			for path, dump := range want.dumps {
				g.Expect(got.dumps[path]).To(Equal(dump), path)
			}
		})
	}
}

// TestOracle_setParsers compares the --set family with Helm on a corpus of lines, including
// every quirk and error the parser has.
func TestOracle_setParsers(t *testing.T) {
	sets := []string{
		"name=value", "a=1,b=-3,c=+4,d=0,e=007,f=1.5,g=99999999999999999999,h=-0", "a=true,b=FALSE,c=Null,d=yes",
		"a.b.c=x", "a[0]=x,a[2]=z", "a.b[1].c=y", "a[1][0]=x", "a[0]=x,a[0].b=y", `a\.b=c\,d,e=f\=g`,
		"a={1,b,true},c=d", "a={}", "a={x}b=y", "a[1]={x,y}", "a=", "=x", "a[0]", "a=1,a=2", "a[1", "a[",
		"a", "a,b=c", "a.=x", "a[65537]=1", "a[-1]=1", "a[x]=1", "a[0]b=1", "a={x,y", "a=1,a.b=2",
		"a=null,a.b=2", "a.b=1,a[0]=2", "a[0]=x,a[0][0]=y", `a\`, "a[0]=null,a[0][0]=1", "a[0].", "a..b=1",
		"a[0]=1,a[0].b=2,a[3]=x", "a.b=1,a.c[0]=2,a.c[1].d=3", "a= spaced ", "a=x=y", "a={a,b}x,c=d",
		strings.Repeat("a.", 30) + "b=1", strings.Repeat("a.", 31) + "b=1", "a[65536]=1",
	}
	cases := map[string]oracleCase{}
	for _, s := range sets {
		cases["--set "+s] = oracleCase{set: []string{s}}
	}
	for _, s := range []string{"a=1,b=true,c=null", "a={1,2}", "a", "a[0]=007"} {
		cases["--set-string "+s] = oracleCase{setString: []string{s}}
	}
	for _, s := range []string{
		`a={"b":1},c=[1,"x"],f="s",g=true`, "d=,e=null", "a=1 b=2", `a[1]={"x":true}`, "a[0]=", "a=foo",
		`{"a": {"b": [1, 2]}}`, "{bad", `a=1,a.b=2`, "a=123456789012345678901234567890",
	} {
		cases["--set-json "+s] = oracleCase{setJSON: []string{s}}
	}
	for _, s := range []string{`a.b=x,y=z\n{q}`, "a[0]=1", `a\.b=1`, "a,b=1", "a", "a[70000]=1"} {
		cases["--set-literal "+s] = oracleCase{setLiteral: []string{s}}
	}
	files := map[string]string{"f1": "one\n", "f2": "two"}
	for _, s := range []string{"a=f1,b.c=f2", "a={f1,f2}", "a[1]=f2", "a=missing"} {
		cases["--set-file "+s] = oracleCase{setFile: []string{s}, fileData: files}
	}
	cases["flag kinds apply in Helm's order"] = oracleCase{
		files:      []string{"k: file\nj: file\ns: file\nt: file\nf: file\nl: file\n", "k: second\n---\nm: {x: 1}\n"},
		setJSON:    []string{`j="json",s="json",t="json",f="json",l="json"`, `{"m": {"y": 2}}`},
		set:        []string{"s=set,t=set,f=set,l=set", "m.z=3"},
		setString:  []string{"t=007,f=string,l=string"},
		setFile:    []string{"f=f1,l=f1"},
		setLiteral: []string{"l=a,b"},
		fileData:   files,
	}
	runOracle(t, cases)
}

// TestOracle_coalesce compares coalescing, globals and null handling with Helm.
func TestOracle_coalesce(t *testing.T) {
	sub := func(t *testing.T, values string) *testChart { return newChart(t, "sub", values) }
	cases := map[string]oracleCase{
		"defaults, user maps merge, lists replace, tables and scalars conflict": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: {x: 1, z: 2}\nl: [1, 2]\ns: 5\nm: {t: {x: 1}, q: 1}\nnul: null\nnm: {x: null, k: {z: null}}\n")
			},
			files: []string{"a: {z: 3}\nl: [9]\ns: {b: 1}\nm: {t: 5, q: {w: 1}}\n"},
		},
		"user nulls remove defaults and stay without one": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "a: {x: 1, k: 2}\nb: 1\n") },
			files: []string{"a: {k: null, new: null}\nb: null\ntop: null\n"},
		},
		"parent nulls for a subchart without a user section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {x: null, extra: null}\n").subs(sub(t, "x: 1\nw: 2\n"))
			},
		},
		"parent nulls for a subchart with a user section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {x: null, extra: null}\n").subs(sub(t, "x: 1\nw: 2\n"))
			},
			set: []string{"sub.other=1"},
		},
		"a user null for a value the parent gives a subchart stays null": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {w: 1}\n").subs(sub(t, "x: 1\n"))
			},
			set: []string{"sub.x=null,sub.w=null"},
		},
		"a null subchart key with a parent default": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "sub: {x: 1}\n").subs(sub(t, "w: 2\n")) },
			set:   []string{"sub=null"},
		},
		"a null subchart key without a parent default, undeclared": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "").subs(sub(t, "")) },
			set:   []string{"sub=null"},
		},
		"a null subchart key without a parent default, declared": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "").deps(dep("sub")).subs(sub(t, "")) },
			set:   []string{"sub=null"},
		},
		"a scalar subchart key": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "").deps(dep("sub")).subs(sub(t, "")) },
			set:   []string{"sub=5"},
		},
		"a null in the parent's values.yaml for a subchart key": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "sub: null\n").subs(sub(t, "x: 1\n")) },
		},
		"three levels of globals": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "top", "global: {region: top, m: {a: 1}}\nmid: {global: {formid: 1}, leaf: {fromtop: 1}}\n").subs(
					newChart(t, "mid", "global: {region: mid, midonly: mid, m: {b: 2}}\nleaf: {frommid: 1}\n").subs(
						newChart(t, "leaf", "global: {leafonly: leaf, m: {c: 3}}\n")))
			},
			files: []string{"global: {user: u}\n"},
			set:   []string{"global.set=s,mid.leaf.own=setleaf"},
		},
		"deep global tables shared between parent and children": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "global: {m: {inner: {a: 1}}}\n").subs(
					newChart(t, "one", "global: {m: {inner: {b: 2}, only1: 1}}\n"),
					newChart(t, "two", "global: {m: {inner: {c: 3}}}\n"))
			},
		},
		"deep user global tables": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").subs(newChart(t, "one", "global: {m: {inner: {b: 2}}}\n"))
			},
			set: []string{"global.m.inner.u=1"},
		},
		"conflicting default globals": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "top", "global: {m: {a: 1}, s: 1}\n").subs(sub(t, "global: {m: child, s: {b: 2}}\n"))
			},
		},
		"conflicting globals in the child's section": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "top", "global: {m: {a: 1}, s: 1}\nsub: {global: {m: child, s: {b: 2}}}\n").subs(sub(t, ""))
			},
		},
		"a null global": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "").subs(sub(t, "global: {g: 1}\n")) },
			set:   []string{"global=null"},
		},
		"a scalar global": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "").subs(sub(t, "global: {g: 1}\n")) },
			set:   []string{"global=5"},
		},
		"typed values reach subcharts": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "sub: {f: 1.5}\n").subs(sub(t, "i: 1\nbig: 12345678901234567890\n"))
			},
			set: []string{"sub.i=42,sub.s=007,sub.list={1,x}"},
		},
		"the probe t1 chart": {
			build: func(t *testing.T) *testChart {
				return &testChart{c: loadProbe(t, filepath.Join(probesDir, "t1"))}
			},
			files: []string{string(mustRead(t, filepath.Join(probesDir, "t1/user.yaml")))},
		},
	}
	runOracle(t, cases)
}

// TestOracle_dependencies compares conditions, tags, aliases and import-values with Helm.
func TestOracle_dependencies(t *testing.T) {
	cases := map[string]oracleCase{
		"conditions, tags and an undeclared chart": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: {str: 'yes', enabled: false}\ntags: {down: false, up: true}\nb: {enabled: null}\n").
					deps(withCondition(dep("a"), "missing,a.str,a.enabled"), withTags(dep("b"), "down", "up"),
						withTags(withCondition(dep("c"), "c.enabled"), "down"), withTags(dep("d"), "down")).
					subs(newChart(t, "a", ""), newChart(t, "b", ""), newChart(t, "c", "enabled: true\n"), newChart(t, "d", ""), newChart(t, "extra", ""))
			},
		},
		"user values flip conditions": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: {enabled: true}\n").deps(withCondition(dep("a"), "a.enabled")).subs(newChart(t, "a", "x: 1\n"))
			},
			set: []string{"a.enabled=false"},
		},
		"one chart under two aliases and its own name": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "one: {x: 1}\ntwo: {enabled: false}\n").
					deps(withAlias(dep("sub"), "one"), withCondition(withAlias(dep("sub"), "two"), "two.enabled"), dep("sub")).
					subs(newChart(t, "sub", "x: 0\n").subs(newChart(t, "leaf", "l: 1\n")))
			},
		},
		"a version mismatch leaves a chart undeclared but removable by name": {
			build: func(t *testing.T) *testChart {
				d := withCondition(dep("a"), "a.enabled")
				d.Version = "^2.0.0"
				return newChart(t, "app", "a: {enabled: false}\n").deps(d, dep("b")).subs(newChart(t, "a", "").version("1.0.0"), newChart(t, "b", ""))
			},
		},
		"nested conditions and tags": {
			build: func(t *testing.T) *testChart {
				mid := newChart(t, "mid", "tags: {midtag: false}\nleaf: {enabled: true}\n").
					deps(withCondition(dep("leaf"), "leaf.enabled"), withTags(dep("other"), "midtag"), withTags(dep("third"), "roottag")).
					subs(newChart(t, "leaf", ""), newChart(t, "other", ""), newChart(t, "third", ""))
				return newChart(t, "top", "").deps(dep("mid")).subs(mid)
			},
			set: []string{"mid.leaf.enabled=false,tags.roottag=false,mid.tags.midtag=true"},
		},
		"grandchildren are not evaluated below an undeclaring root": {
			build: func(t *testing.T) *testChart {
				mid := newChart(t, "mid", "leaf: {enabled: false}\n").deps(withCondition(dep("leaf"), "leaf.enabled")).subs(newChart(t, "leaf", ""))
				return newChart(t, "top", "").subs(mid)
			},
		},
		"an aliased chart whose own aliased dependency is processed twice": {
			build: func(t *testing.T) *testChart {
				leaf := newChart(t, "leaf", "exports: {e: {v: 1}}\n")
				mid := newChart(t, "mid", "").deps(withImports(withAlias(dep("leaf"), "lf"), "e")).subs(leaf)
				return newChart(t, "app", "").deps(withAlias(dep("mid"), "m1"), withAlias(dep("mid"), "m2")).subs(mid)
			},
		},
		"an undeclared grandchild under a twice-aliased chart is processed twice, as in Helm": {
			build: func(t *testing.T) *testChart {
				u := newChart(t, "u", "").deps(withAlias(dep("x"), "zz")).subs(newChart(t, "x", "xv: 1\n"))
				mid := newChart(t, "mid", "").deps(dep("other")).subs(newChart(t, "other", ""), u)
				return newChart(t, "app", "").deps(withAlias(dep("mid"), "m1"), withAlias(dep("mid"), "m2")).subs(mid)
			},
		},
		"three levels of aliases under aliases": {
			build: func(t *testing.T) *testChart {
				x := newChart(t, "x", "xv: 1\n")
				leaf := newChart(t, "leaf", "").deps(withAlias(dep("x"), "y")).subs(x)
				mid := newChart(t, "mid", "").deps(withAlias(dep("leaf"), "lf")).subs(leaf)
				return newChart(t, "app", "").deps(withAlias(dep("mid"), "m1"), withAlias(dep("mid"), "m2")).subs(mid)
			},
		},
		"the probe t2 chart": {
			build: func(t *testing.T) *testChart { return &testChart{c: loadProbe(t, filepath.Join(probesDir, "t2"))} },
			files: []string{string(mustRead(t, filepath.Join(probesDir, "t2/user.yaml")))},
		},
		"the probe t3 chart": {
			build: func(t *testing.T) *testChart { return &testChart{c: loadProbe(t, filepath.Join(probesDir, "t3"))} },
			set:   []string{"tags.back=true", "first.enabled=true", "other.enabled=false"},
		},
		"import forms, precedence and missing tables": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: mine\nm: {x: mine}\n").
					deps(withImports(dep("c"), "data", "nope", map[string]any{"child": "d.t", "parent": "p.q"},
						map[string]any{"child": "s", "parent": "x"}, map[string]any{"parent": "y"}, "two")).
					subs(newChart(t, "c", "exports: {data: {a: theirs, b: theirs, m: {x: theirs, y: theirs}}, two: {b: two, c: two}}\nd: {t: {k: 1}}\ns: 5\n"))
			},
			set: []string{"c.exports.data.b=user"},
		},
		"imports writing through shared tables": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").
					deps(withImports(dep("c"), "data", map[string]any{"child": "default.data", "parent": "."})).
					subs(newChart(t, "c", "exports: {data: {m: {a: 1}}}\ndefault: {data: {m: {b: 2}, z: 1}}\n"))
			},
		},
		"imports travel bottom-up through an alias": {
			build: func(t *testing.T) *testChart {
				leaf := newChart(t, "leaf", "exports: {up: {deep: 1, n: null}}\n")
				mid := newChart(t, "mid", "exports: {fwd: {mid: 1}}\n").
					deps(withImports(dep("leaf"), map[string]any{"child": "exports.up", "parent": "exports.fwd"})).subs(leaf)
				return newChart(t, "app", "al: {exports: {fwd: {fromapp: 1}}}\n").deps(withImports(withAlias(dep("mid"), "al"), "fwd")).subs(mid)
			},
		},
		"every dependency disabled skips import processing": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: {enabled: false}\nn: null\nsub2: {k: null}\n").
					deps(withCondition(withImports(dep("a"), "e"), "a.enabled")).
					subs(newChart(t, "a", "exports: {e: {v: 1}}\n"), newChart(t, "sub2", "k: 1\n"))
			},
		},
		"schema of a subchart sees its globals": {
			build: func(t *testing.T) *testChart {
				s := newChart(t, "sub", "x: 1\n").schema(`{"type": "object", "properties": {"global": {"required": ["must"]}}}`)
				return newChart(t, "app", "global: {g: 1}\n").subs(s)
			},
		},
		"schema with --set typing": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "replicas: 1\n").schema(replicasSchema) },
			set:   []string{"replicas=1.5"},
		},
		"schema of a disabled subchart is not checked": {
			build: func(t *testing.T) *testChart {
				s := newChart(t, "sub", "").schema(`{"required": ["never"]}`)
				return newChart(t, "app", "sub: {enabled: false}\n").deps(withCondition(dep("sub"), "sub.enabled")).subs(s)
			},
		},
	}
	runOracle(t, cases)
}

// TestOracle_schemaDefs compares with Helm the draft-07 schemas that keep their definitions under
// "$defs", which Capstan compiles on a faster path (schema_defs.go): the same accept and reject
// decisions and the same text, for violations of the values and for invalid schemas. Each case
// has one violation: Helm lists several in map order, Capstan sorts them.
func TestOracle_schemaDefs(t *testing.T) {
	withSchema := func(values, schema string) func(t *testing.T) *testChart {
		return func(t *testing.T) *testChart { return newChart(t, "app", values).schema(schema) }
	}
	certManager := certManagerLikeSchema(6, 6)
	cases := map[string]oracleCase{
		"cert-manager's layout, valid": {
			build: withSchema("group0: {key0: x, key1: 2}\n", certManager),
		},
		"cert-manager's layout, a minimum": {
			build: withSchema("group0: {key0: x, key1: 2}\n", certManager),
			set:   []string{"group0.key1=-1"},
		},
		"cert-manager's layout, a type": {
			build: withSchema("group0: {key0: x, key1: 2}\n", certManager),
			set:   []string{"group0.key2=yes"},
		},
		"cert-manager's layout, two levels down": {
			build: withSchema("group0: {key0: x, key1: 2}\n", certManager),
			set:   []string{"group0.key3.n=-2"},
		},
		"cert-manager's layout, a pattern and an enum": {
			build: withSchema("group0: {key0: x, key1: 2}\n", certManager),
			set:   []string{"group0.key4=Bad"},
		},
		"cert-manager's layout, an additional property": {
			build: withSchema("group0: {key0: x, key1: 2}\n", certManager),
			set:   []string{"group1.extra=1"},
		},
		"a referenced entry that is not a schema": {
			build: withSchema("a: x\n", defsSchemas["a referenced entry is not a schema"]),
		},
		"an unreferenced entry that is not a schema": {
			build: withSchema("a: x\n", defsSchemas["an unreferenced entry is not a schema"]),
			set:   []string{"a=1"},
		},
		"nested $defs": {
			build: withSchema("o: {x: 1}\n", defsSchemas["nested $defs"]),
		},
		"a nested invalid entry": {
			build: withSchema("o: {x: 1}\n", defsSchemas["nested $defs with an invalid entry"]),
		},
		"a reference to an items array under $defs": {
			build: withSchema("a: [x]\n", defsSchemas["a reference to an items array under $defs"]),
		},
		"a recursive entry": {
			build: withSchema("v: 1\nnext: {v: 2, next: {v: x}}\n", defsSchemas["a recursive entry"]),
		},
		"escaped entry names": {
			build: withSchema("a: x\nb: 1\nc: 1\n", defsSchemas["escaped entry names"]),
		},
	}
	runOracle(t, cases)
}
