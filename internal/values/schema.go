package values

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/capstan-dev/capstan/internal/chart"
)

// schemaURL is where a chart's schema is registered, as in Helm, so relative $refs resolve to
// file: URLs, which the loader refuses.
const schemaURL = "file:///values.schema.json"

// DefaultMaxSchemaObjects bounds the JSON objects in one values.schema.json when
// Composer.MaxSchemaObjects is zero. The validator compiles schemas in time quadratic in their
// number of subschemas (about 4 s for 10,000 on a loaded 2-core machine), so an unbounded
// schema would let a chart stall the controller. Real chart schemas hold a few hundred.
const DefaultMaxSchemaObjects = 20000

// ErrSchemaTooLarge reports a schema with more objects than the configured limit.
var ErrSchemaTooLarge = errors.New("values schema is too large")

// ErrExternalRef reports a schema $ref (or $schema) that would load a file or a URL. Capstan
// never loads either; Helm v4 does, which is an SSRF and local-file-read risk.
var ErrExternalRef = errors.New("external schema references are not allowed")

// SchemaError is a failed validation of one or more charts. Its text is Helm v4's, with the
// violations of each chart sorted so that it is deterministic, and, unless
// Composer.QuoteSchemaValues is set, the rules that quote the offending value (pattern, format,
// minimum and the other numeric bounds, contentMediaType) reworded to name only the rule.
type SchemaError struct {
	// Details is the per-chart report: "<chart>:\n- at '<pointer>': <message>\n" for each chart.
	Details string
	// Causes are the underlying errors, one per failing chart.
	Causes []error
}

// Error returns Helm's message.
func (e *SchemaError) Error() string {
	return "values don't meet the specifications of the schema(s) in the following chart(s):\n" + e.Details
}

// Unwrap gives errors.Is and errors.As access to the causes.
func (e *SchemaError) Unwrap() []error { return e.Causes }

// ValidateSchema validates values (as returned by Coalesce) against ch's values.schema.json
// and, recursively, every subchart's schema against that subchart's table (which holds the
// globals it received). Subcharts whose table is missing or null are skipped; a table that is
// not a map is reported. It never loads a file or URL: such a $ref fails with ErrExternalRef,
// and urn: references resolve to the permissive schema true, as in Helm.
func (c Composer) ValidateSchema(ch *chart.Chart, values map[string]any) error {
	var sb strings.Builder
	var causes []error
	c.validateChart(ch, values, &sb, &causes)
	if sb.Len() == 0 {
		return nil
	}
	return &SchemaError{Details: sb.String(), Causes: causes}
}

func (c Composer) validateChart(ch *chart.Chart, values map[string]any, sb *strings.Builder, causes *[]error) {
	if ch.Schema != nil {
		if err := c.validateOne(ch.Schema, values); err != nil {
			if !c.QuoteSchemaValues {
				err = withholdValues(err)
			}
			fmt.Fprintf(sb, "%s:\n%s", ch.Name(), schemaErrorText(err))
			*causes = append(*causes, err)
		}
	}
	for _, sub := range ch.Dependencies() {
		raw, ok := values[sub.Name()]
		if !ok || raw == nil {
			continue
		}
		table, ok := raw.(map[string]any)
		if !ok {
			fmt.Fprintf(sb, "%s:\ninvalid type for values: expected object (map), got %T\n", sub.Name(), raw)
			*causes = append(*causes, fmt.Errorf("values of %s are a %T, not a map", sub.Name(), raw))
			continue
		}
		c.validateChart(sub, table, sb, causes)
	}
}

// validateOne compiles one schema (or takes it from c.Schemas) and validates values against it.
func (c Composer) validateOne(schemaJSON []byte, values map[string]any) (err error) {
	defer func() {
		// The validator is a third-party library; a panic must not take the controller down.
		if r := recover(); r != nil {
			err = fmt.Errorf("unable to validate schema: %v", r)
		}
	}()
	schema, err := c.compiled(schemaJSON)
	if err != nil {
		return err
	}
	if len(values) == 0 {
		values = map[string]any{}
	}
	return schema.Validate(values)
}

// compiled returns schemaJSON compiled, from c.Schemas when it is there. A schema whose
// compilation warned is not kept, so every render that uses it logs the warning as Helm does.
func (c Composer) compiled(schemaJSON []byte) (*jsonschema.Schema, error) {
	key := schemaKey(schemaJSON, c.schemaObjectLimit())
	if s := c.Schemas.get(key); s != nil {
		return s, nil
	}
	warned := false
	warnf := func(format string, args ...any) {
		warned = true
		c.warnf(format, args...)
	}
	s, err := c.compile(schemaJSON, warnf)
	if err == nil && !warned {
		c.Schemas.put(key, s, int64(len(schemaJSON)))
	}
	return s, err
}

// Precompile compiles schemaJSON into c.Schemas ahead of the validation that needs it, so that a
// caller can start the compile as soon as it has the schema's bytes (the CLI does, while it reads
// the rest of the chart). A validation of the same schema that starts meanwhile waits for it
// instead of compiling it a second time. Nothing is reported: a schema that fails to compile, or
// whose compile warns, is not kept, and its validation compiles it again and reports as always,
// so the output is the same as without Precompile. It does nothing when c.Schemas is nil.
func (c Composer) Precompile(schemaJSON []byte) {
	if c.Schemas == nil {
		return
	}
	key := schemaKey(schemaJSON, c.schemaObjectLimit())
	if !c.Schemas.begin(key) {
		return
	}
	var kept *jsonschema.Schema
	defer func() {
		_ = recover() // the validation compiles again and reports the panic as an error
		c.Schemas.end(key, kept, int64(len(schemaJSON)))
	}()
	warned := false
	s, err := c.compile(schemaJSON, func(string, ...any) { warned = true })
	if err == nil && !warned {
		kept = s
	}
}

// compile compiles one schema with the loader that refuses files and URLs.
func (c Composer) compile(schemaJSON []byte, warnf func(format string, args ...any)) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	if limit := c.schemaObjectLimit(); limit > 0 && objectsExceed(doc, limit) {
		return nil, fmt.Errorf("%w: it holds more than %d JSON objects", ErrSchemaTooLarge, limit)
	}
	if defsPrecheck(doc) {
		if s := compileDefs(doc); s != nil {
			return s, nil
		}
	}
	return compileDoc(doc, warnf, nil)
}

// compileDefs compiles doc, which passed defsPrecheck, with "$defs" known as a place of
// subschemas (see defsVocabulary). It returns nil when the compile fails, warns or panics: the
// caller then compiles the plain way, which reports as always.
func compileDefs(doc any) (s *jsonschema.Schema) {
	defer func() {
		if recover() != nil {
			s = nil
		}
	}()
	warned := false
	s, err := compileDoc(doc, func(string, ...any) { warned = true }, defsVocabulary)
	if err != nil || warned {
		return nil
	}
	return s
}

// compileDoc compiles a decoded schema with the loader that refuses files and URLs, and with
// vocab registered when it is not nil.
func compileDoc(doc any, warnf func(format string, args ...any), vocab *jsonschema.Vocabulary) (*jsonschema.Schema, error) {
	loader := &refusingLoader{warn: warnf}
	compiler := jsonschema.NewCompiler()
	compiler.UseLoader(loader)
	if vocab != nil {
		compiler.RegisterVocabulary(vocab)
	}
	if err := compiler.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	schema, err := compiler.Compile(schemaURL)
	if err != nil {
		if loader.refused {
			// The library does not unwrap its load errors; keep its text and make the cause
			// reachable.
			return nil, &refusedError{err: err}
		}
		return nil, err
	}
	return schema, nil
}

func (c Composer) schemaObjectLimit() int {
	if c.MaxSchemaObjects == 0 {
		return DefaultMaxSchemaObjects
	}
	return c.MaxSchemaObjects
}

// objectsExceed reports whether doc holds more than limit JSON objects. It stops counting as soon
// as the limit is passed; the JSON decoder has already bounded the nesting depth.
func objectsExceed(doc any, limit int) bool {
	count := 0
	var walk func(v any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			count++
			if count > limit {
				return true
			}
			for _, c := range t {
				if walk(c) {
					return true
				}
			}
		case []any:
			for _, c := range t {
				if walk(c) {
					return true
				}
			}
		}
		return false
	}
	return walk(doc)
}

// schemaErrorText renders err as Helm does: a validation error loses its first line and gains a
// trailing newline, with causes sorted; any other error is printed as it is.
func schemaErrorText(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	sortCauses(ve)
	text := strings.TrimPrefix(ve.Error(), "jsonschema validation failed with '"+schemaURL+"#'\n")
	return text + "\n"
}

// sortCauses orders every level of the error tree as Helm prints it, minus its randomness. The
// validator reports an object's own violations (required, additionalProperties, …) in a fixed
// keyword order, and its properties' violations in Go map order, which differs from run to run.
// So the causes at the parent's own location keep their place, and each run of causes below it
// is sorted by instance location, then by text.
func sortCauses(ve *jsonschema.ValidationError) {
	for _, cause := range ve.Causes {
		sortCauses(cause)
	}
	below := func(c *jsonschema.ValidationError) bool { return len(c.InstanceLocation) > len(ve.InstanceLocation) }
	for start := 0; start < len(ve.Causes); {
		if !below(ve.Causes[start]) {
			start++
			continue
		}
		end := start
		for end < len(ve.Causes) && below(ve.Causes[end]) {
			end++
		}
		sortByLocation(ve.Causes[start:end])
		start = end
	}
}

func sortByLocation(causes []*jsonschema.ValidationError) {
	sort.SliceStable(causes, func(i, j int) bool {
		a, b := causes[i], causes[j]
		la, lb := strings.Join(a.InstanceLocation, "/"), strings.Join(b.InstanceLocation, "/")
		if la != lb {
			return la < lb
		}
		return a.Error() < b.Error()
	})
}

// refusingLoader is the schema compiler's only loader. Metaschemas (json-schema.org drafts) are
// embedded in the library and never reach it.
type refusingLoader struct {
	warn    func(format string, args ...any)
	refused bool
}

// Load refuses every URL except urn:, which resolves to the permissive schema true.
func (l *refusingLoader) Load(url string) (any, error) {
	if strings.HasPrefix(strings.ToLower(url), "urn:") {
		l.warn("unresolved URN reference ignored; using permissive schema: %s", url)
		return true, nil
	}
	l.refused = true
	return nil, ErrExternalRef
}

// refusedError is a schema compilation that failed because a reference was refused.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }

func (e *refusedError) Unwrap() []error { return []error{e.err, ErrExternalRef} }
