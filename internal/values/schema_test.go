package values

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const replicasSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {"replicas": {"type": "integer", "minimum": 1}},
  "required": ["replicas"]
}`

const prefix = "values don't meet the specifications of the schema(s) in the following chart(s):\n"

func TestValidateSchema(t *testing.T) {
	cases := map[string]struct {
		build   func(t *testing.T) *testChart
		user    []string // --set lines
		want    string   // exact error text; empty means valid
		wantErr error
	}{
		"valid values pass": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "replicas: 1\n").schema(replicasSchema) },
		},
		"a chart without a schema is not validated": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "replicas: x\n") },
		},
		"one violation, in Helm's format": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "replicas: 1\n").schema(replicasSchema) },
			user:  []string{"replicas=0"},
			want:  prefix + "app:\n- at '/replicas': minimum: got 0, want 1\n",
		},
		"--set typing: 1.5 stays a string": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "replicas: 1\n").schema(replicasSchema) },
			user:  []string{"replicas=1.5"},
			want:  prefix + "app:\n- at '/replicas': got string, want integer\n",
		},
		"a missing required property": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "").schema(replicasSchema) },
			want:  prefix + "app:\n- at '': missing property 'replicas'\n",
		},
		"every violation is listed, sorted by location": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").schema(`{"properties": {
					"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"},
					"d": {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}}}}}`)
			},
			user: []string{"c=1,a=1,b=1,d.y=1,d.x=1"},
			want: prefix + "app:\n" +
				"- at '/a': got number, want string\n" +
				"- at '/b': got number, want string\n" +
				"- at '/c': got number, want string\n" +
				"- at '/d': validation failed\n" +
				"  - at '/d/x': got number, want string\n" +
				"  - at '/d/y': got number, want string\n",
		},
		"a subchart is validated against its own table, globals included": {
			build: func(t *testing.T) *testChart {
				sub := newChart(t, "sub", "x: 1\n").schema(`{"type": "object", "additionalProperties": false, "properties": {"x": {"type": "integer"}}}`)
				return newChart(t, "app", "global: {g: 1}\n").schema(`{"type": "object"}`).subs(sub)
			},
			want: prefix + "sub:\n- at '': additional properties 'global' not allowed\n",
		},
		"root and subchart failures are both reported, root first": {
			build: func(t *testing.T) *testChart {
				sub := newChart(t, "sub", "num: 1\n").schema(`{"properties": {"num": {"maximum": 0}}}`)
				return newChart(t, "app", "replicas: 1\n").schema(replicasSchema).subs(sub)
			},
			user: []string{"replicas=0"},
			want: prefix + "app:\n- at '/replicas': minimum: got 0, want 1\nsub:\n- at '/num': maximum: got 1, want 0\n",
		},
		"a schema that is not JSON is reported as it is": {
			build: func(t *testing.T) *testChart { return newChart(t, "app", "").schema(`{oops`) },
			want:  prefix + "app:\ninvalid character 'o' looking for beginning of object key string",
		},
		"an object's own violations keep the validator's keyword order around its properties'": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").schema(`{"required": ["z"], "additionalProperties": false,
					"properties": {"a": {"type": "string"}, "b": {"type": "string"}, "z": {}}}`)
			},
			user: []string{"b=1,extra=1,a=1"},
			want: prefix + "app:\n" +
				"- at '': missing property 'z'\n" +
				"- at '/a': got number, want string\n" +
				"- at '/b': got number, want string\n" +
				"- at '': additional properties 'extra' not allowed\n",
		},
		"a local file reference is refused": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").schema(`{"properties": {"a": {"$ref": "file:///etc/hostname"}}}`)
			},
			wantErr: ErrExternalRef,
		},
		"a relative reference resolves to a file and is refused": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").schema(`{"$ref": "/dev/zero"}`)
			},
			wantErr: ErrExternalRef,
		},
		"an unknown metaschema URL is refused": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").schema(`{"$schema": "https://example.invalid/meta"}`)
			},
			wantErr: ErrExternalRef,
		},
		"a urn reference is permissive": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "a: 1\n").schema(`{"properties": {"a": {"$ref": "urn:example:thing"}}}`)
			},
		},
		"internal references work": {
			build: func(t *testing.T) *testChart {
				return newChart(t, "app", "").schema(`{"$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s"}}}`)
			},
			user: []string{"a=1"},
			want: prefix + "app:\n- at '/a': got number, want string\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := tc.build(t).chart()
			user := map[string]any{}
			for _, s := range tc.user {
				g.Expect(ParseSet(s, user)).To(Succeed())
			}
			vals, err := Coalesce(c, user)
			g.Expect(err).NotTo(HaveOccurred())
			err = Composer{QuoteSchemaValues: true}.ValidateSchema(c, vals)
			switch {
			case tc.wantErr != nil:
				g.Expect(err).To(MatchError(tc.wantErr))
			case tc.want == "":
				g.Expect(err).NotTo(HaveOccurred())
			default:
				g.Expect(err).To(MatchError(tc.want))
				var se *SchemaError
				g.Expect(errors.As(err, &se)).To(BeTrue())
			}
		})
	}
}

// TestValidateSchema_withholdsValues checks the default text: every rule that would quote the
// offending value names the path and the rule only, in Helm's layout; Helm's own text (with
// QuoteSchemaValues) does quote it.
func TestValidateSchema_withholdsValues(t *testing.T) {
	const secret = "canary-9f3b7c1e-secret"
	schema := `{"properties": {
		"pat": {"type": "string", "pattern": "^[a-z]+$"},
		"lo": {"minimum": 99999}, "hi": {"maximum": 1}, "xlo": {"exclusiveMinimum": 99999},
		"xhi": {"exclusiveMaximum": 1}, "mul": {"multipleOf": 7},
		"nested": {"type": "object", "properties": {"inner": {"allOf": [{"pattern": "^x"}]}}},
		"kind": {"enum": ["a", "b"]}, "num": {"type": "integer"}}}`
	user := map[string]any{"pat": secret, "lo": 54321, "hi": 54321, "xlo": 54321, "xhi": 54321,
		"mul": 54321, "nested": map[string]any{"inner": secret}, "kind": secret, "num": secret}
	c := newChart(t, "app", "").schema(schema).chart()
	g := NewWithT(t)
	err := ValidateSchema(c, user)
	g.Expect(err).To(MatchError(prefix + "app:\n" +
		"- at '/hi': maximum: value is greater than 1\n" +
		"- at '/kind': value must be one of 'a', 'b'\n" +
		"- at '/lo': minimum: value is less than 99999\n" +
		"- at '/mul': multipleOf: value is not a multiple of 7\n" +
		"- at '/nested/inner': 'allOf' failed\n" +
		"  - at '/nested/inner': value does not match pattern '^x'\n" +
		"- at '/num': got string, want integer\n" +
		"- at '/pat': value does not match pattern '^[a-z]+$'\n" +
		"- at '/xhi': exclusiveMaximum: value is not less than 1\n" +
		"- at '/xlo': exclusiveMinimum: value is not greater than 99999\n"))
	var se *SchemaError
	g.Expect(errors.As(err, &se)).To(BeTrue())
	for _, cause := range se.Causes {
		g.Expect(fmt.Sprintf("%v %+v", cause, cause)).NotTo(Or(ContainSubstring("54321"), ContainSubstring("54,321"), ContainSubstring(secret)),
			"the causes errors.As reaches are the reworded ones")
	}

	quoted := Composer{QuoteSchemaValues: true}.ValidateSchema(c, user)
	g.Expect(quoted.Error()).To(ContainSubstring("- at '/pat': '" + secret + "' does not match pattern '^[a-z]+$'"))
	g.Expect(quoted.Error()).To(ContainSubstring("- at '/lo': minimum: got 54,321, want 99,999"))
}

// TestValidateSchema_subchartTables covers subchart tables that coalescing never produces but
// that a caller may pass: missing and null tables are skipped, other non-maps are reported.
func TestValidateSchema_subchartTables(t *testing.T) {
	g := NewWithT(t)
	c := newChart(t, "app", "").subs(newChart(t, "sub", "").schema(`{"required": ["x"]}`)).chart()
	g.Expect(ValidateSchema(c, map[string]any{})).To(Succeed())
	g.Expect(ValidateSchema(c, map[string]any{"sub": nil})).To(Succeed())
	g.Expect(ValidateSchema(c, map[string]any{"sub": "text"})).To(MatchError(
		prefix + "sub:\ninvalid type for values: expected object (map), got string\n"))
	g.Expect(ValidateSchema(c, map[string]any{"sub": map[string]any{}})).To(MatchError(
		prefix + "sub:\n- at '': missing property 'x'\n"))
}

// TestValidateSchema_deterministic repeats a many-violation validation: Go map order must not
// leak into the message.
func TestValidateSchema_deterministic(t *testing.T) {
	g := NewWithT(t)
	var props, sets []string
	for i := range 30 {
		props = append(props, fmt.Sprintf(`"k%02d": {"type": "string"}`, i))
		sets = append(sets, fmt.Sprintf("k%02d=%d", i, i+1))
	}
	c := newChart(t, "app", "").schema(`{"properties": {` + strings.Join(props, ",") + `}}`).chart()
	user := map[string]any{}
	g.Expect(ParseSet(strings.Join(sets, ","), user)).To(Succeed())
	first := ValidateSchema(c, user)
	g.Expect(first).To(HaveOccurred())
	g.Expect(strings.Count(first.Error(), "- at ")).To(Equal(30))
	for range 20 {
		g.Expect(ValidateSchema(c, user).Error()).To(Equal(first.Error()))
	}
}

// TestValidateSchema_neverFetches points $refs at a live HTTP server and asserts it is never hit.
func TestValidateSchema_neverFetches(t *testing.T) {
	g := NewWithT(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"type": "string"}`))
	}))
	defer srv.Close()
	for _, schema := range []string{
		`{"$ref": "` + srv.URL + `/schema.json"}`,
		`{"$schema": "` + srv.URL + `/meta", "type": "object"}`,
		`{"$id": "` + srv.URL + `/root.json", "properties": {"a": {"$ref": "other.json"}}}`,
	} {
		c := newChart(t, "app", "a: 1\n").schema(schema).chart()
		err := ValidateSchema(c, c.Values)
		g.Expect(err).To(MatchError(ErrExternalRef), schema)
	}
	g.Expect(hits.Load()).To(BeZero())
}

// TestValidateSchema_longRefChain checks that a 10,000-step internal $ref chain stays bounded.
func TestValidateSchema_longRefChain(t *testing.T) {
	g := NewWithT(t)
	var defs []string
	const n = 10000
	for i := range n {
		defs = append(defs, fmt.Sprintf(`"d%d": {"$ref": "#/$defs/d%d"}`, i, i+1))
	}
	defs = append(defs, fmt.Sprintf(`"d%d": {"type": "integer"}`, n))
	schema := `{"$defs": {` + strings.Join(defs, ",") + `}, "properties": {"a": {"$ref": "#/$defs/d0"}}}`
	c := newChart(t, "app", "a: x\n").schema(schema).chart()
	start := time.Now()
	err := ValidateSchema(c, c.Values)
	// Generous: the bound guards against a hang, not a slow machine (race detector included).
	g.Expect(time.Since(start)).To(BeNumerically("<", time.Minute))
	g.Expect(err).To(MatchError(ContainSubstring("got string, want integer")))
}

// TestValidateSchema_objectLimit checks that a schema too large to compile quickly is refused
// before compiling, and that the limit can be changed.
func TestValidateSchema_objectLimit(t *testing.T) {
	g := NewWithT(t)
	var props []string
	for i := range DefaultMaxSchemaObjects {
		props = append(props, fmt.Sprintf(`"p%d": {}`, i))
	}
	schema := `{"properties": {` + strings.Join(props, ",") + `}}` // the limit plus two objects
	c := newChart(t, "app", "").schema(schema).chart()

	start := time.Now()
	err := ValidateSchema(c, c.Values)
	g.Expect(time.Since(start)).To(BeNumerically("<", 10*time.Second))
	g.Expect(err).To(MatchError(ErrSchemaTooLarge))
	g.Expect(err.Error()).To(ContainSubstring("app:\nvalues schema is too large: it holds more than 20000 JSON objects"))

	small := newChart(t, "app", "").schema(`{"properties": {"a": {}, "b": {}}}`).chart()
	g.Expect(Composer{MaxSchemaObjects: 4}.ValidateSchema(small, nil)).To(Succeed())
	g.Expect(Composer{MaxSchemaObjects: 3}.ValidateSchema(small, nil)).To(MatchError(ErrSchemaTooLarge))
	g.Expect(Composer{MaxSchemaObjects: -1}.ValidateSchema(small, nil)).To(Succeed())
}

func TestSchemaCache_compilesOnce(t *testing.T) {
	g := NewWithT(t)
	cache := NewSchemaCache(0)
	composer := Composer{Schemas: cache}
	c := newChart(t, "app", "a: 1\n").schema(`{"properties": {"a": {"type": "integer"}}}`).chart()
	g.Expect(composer.ValidateSchema(c, map[string]any{"a": 1})).To(Succeed())
	g.Expect(composer.ValidateSchema(c, map[string]any{"a": 2})).To(Succeed())
	g.Expect(cache.Len()).To(Equal(1))
	g.Expect(composer.ValidateSchema(c, map[string]any{"a": "x"})).To(MatchError(ContainSubstring("got string, want integer")))
}

func TestSchemaCache_keepsNoSchemaThatWarned(t *testing.T) {
	g := NewWithT(t)
	cache := NewSchemaCache(0)
	var warnings []string
	composer := Composer{Schemas: cache, Warn: func(msg string) { warnings = append(warnings, msg) }}
	c := newChart(t, "app", "a: 1\n").schema(`{"properties": {"a": {"$ref": "urn:example:a"}}}`).chart()
	g.Expect(composer.ValidateSchema(c, c.Values)).To(Succeed())
	g.Expect(composer.ValidateSchema(c, c.Values)).To(Succeed())
	g.Expect(cache.Len()).To(BeZero())
	g.Expect(warnings).To(HaveLen(2), "every validation warns, as Helm does")
}

func TestSchemaCache_bounded(t *testing.T) {
	g := NewWithT(t)
	cache := NewSchemaCache(120)
	composer := Composer{Schemas: cache}
	for i := range 4 {
		c := newChart(t, "app", "a: 1\n").schema(fmt.Sprintf(`{"properties": {"a%d": {"type": "integer"}}}`, i)).chart()
		g.Expect(composer.ValidateSchema(c, c.Values)).To(Succeed())
	}
	g.Expect(cache.Len()).To(Equal(2))
	g.Expect(cache.bytes).To(BeNumerically("<=", 120))
}

func TestComposer_Precompile(t *testing.T) {
	tests := []struct {
		name, schema string
		values       map[string]any
		kept         int
		warnings     int
		err          string
	}{
		{name: "a valid schema is kept and validates", schema: `{"properties": {"a": {"type": "integer"}}}`,
			values: map[string]any{"a": 1}, kept: 1},
		{name: "a violation is reported as without it", schema: `{"properties": {"a": {"type": "integer"}}}`,
			values: map[string]any{"a": "x"}, kept: 1, err: "got string, want integer"},
		{name: "a schema that warns is not kept: the validation warns itself, once",
			schema: `{"properties": {"a": {"$ref": "urn:example:a"}}}`, values: map[string]any{"a": 1}, warnings: 1},
		{name: "a schema that does not compile is not kept: the validation reports it",
			schema: `{"properties": {"a": {"$ref": "https://example.com/a.json"}}}`, values: map[string]any{"a": 1},
			err: "https://example.com/a.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			var warnings []string
			cache := NewSchemaCache(0)
			c := newChart(t, "app", "").schema(tt.schema).chart()
			// Started on its own goroutine, as the CLI does: the validation waits for it or finds it done.
			go Composer{Schemas: cache}.Precompile(c.Schema)
			composer := Composer{Schemas: cache, Warn: func(msg string) { warnings = append(warnings, msg) }}
			err := composer.ValidateSchema(c, tt.values)
			if tt.err == "" {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(err).To(MatchError(ContainSubstring(tt.err)))
			}
			g.Expect(warnings).To(HaveLen(tt.warnings))
			g.Eventually(func() int {
				cache.mu.Lock()
				defer cache.mu.Unlock()
				return len(cache.pending)
			}).Should(BeZero())
			g.Expect(cache.Len()).To(Equal(tt.kept))
		})
	}
}

func TestSchemaCache_validationWaitsForPrecompile(t *testing.T) {
	g := NewWithT(t)
	cache := NewSchemaCache(0)
	schema := []byte(`{"properties": {"a": {"type": "integer"}}}`)
	key := schemaKey(schema, Composer{}.schemaObjectLimit())
	g.Expect(cache.begin(key)).To(BeTrue())
	g.Expect(cache.begin(key)).To(BeFalse(), "one compile at a time")
	got := make(chan *jsonschema.Schema)
	go func() { got <- cache.get(key) }()
	g.Consistently(got).WithTimeout(100 * time.Millisecond).ShouldNot(Receive())
	compiled, err := Composer{}.compile(schema, func(string, ...any) {})
	g.Expect(err).NotTo(HaveOccurred())
	cache.end(key, compiled, int64(len(schema)))
	g.Eventually(got).Should(Receive(BeIdenticalTo(compiled)))
	g.Expect(cache.begin(key)).To(BeFalse(), "kept")
}
