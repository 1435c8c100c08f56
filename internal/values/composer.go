package values

import (
	"fmt"
	"log/slog"
	"sort"

	"github.com/capstan-dev/capstan/internal/chart"
)

// Composer runs the chart-aware steps (dependency processing, coalescing, schema validation)
// and reports the warnings Helm would print along the way. The zero value drops warnings.
type Composer struct {
	// Logger receives the warnings as Helm v4 logs them: coalescing notices at Info level as one
	// line of text, dependency warnings at Warn level with attributes. Nil discards them.
	Logger *slog.Logger
	// Warn receives each non-fatal warning as one line of text, in addition to Logger. Nil
	// discards them.
	Warn func(msg string)
	// MaxSchemaObjects bounds the JSON objects in one values.schema.json: 0 means
	// DefaultMaxSchemaObjects, a negative value means no limit. Helm has none.
	MaxSchemaObjects int
	// QuoteSchemaValues keeps Helm's exact schema error text, which quotes the offending value
	// ("'hunter2' does not match pattern ..."). By default a schema error names the path and the
	// rule and never the value, since values may come from Secrets and errors end up in status,
	// events and logs. Set it only where the user owns the values (the CLI on local files).
	QuoteSchemaValues bool
	// Schemas, when set, keeps compiled values schemas for later validations of the same
	// schema; nil compiles every schema for each validation.
	Schemas *SchemaCache
}

// warnf reports a notice Helm prints through the standard logger (Info level under Helm v4).
func (c Composer) warnf(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	if c.Logger != nil {
		c.Logger.Info(text)
	}
	if c.Warn != nil {
		c.Warn(text)
	}
}

// warn reports a warning Helm v4 logs at Warn level with attributes; text is its one-line form.
func (c Composer) warn(text, msg string, attrs ...any) {
	if c.Logger != nil {
		c.Logger.Warn(msg, attrs...)
	}
	if c.Warn != nil {
		c.Warn(text)
	}
}

// Coalesce computes the values the template engine sees, with Composer{} (warnings dropped).
// See Composer.Coalesce.
func Coalesce(c *chart.Chart, userValues map[string]any) (map[string]any, error) {
	return Composer{}.Coalesce(c, userValues)
}

// ProcessDependencies enables, aliases and prunes c's subcharts and applies import-values, with
// Composer{} (warnings dropped). See Composer.ProcessDependencies.
func ProcessDependencies(c *chart.Chart, userValues map[string]any) error {
	return Composer{}.ProcessDependencies(c, userValues)
}

// ValidateSchema validates values against c's schemas, with Composer{}. See
// Composer.ValidateSchema.
func ValidateSchema(c *chart.Chart, values map[string]any) error {
	return Composer{}.ValidateSchema(c, values)
}

// sortedKeys returns m's keys in order, so that warnings come out deterministically. Helm walks
// maps in random order; every per-key step is independent, so the order never changes results.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
