package values

import (
	"fmt"
	"sort"

	"github.com/capstan-dev/capstan/internal/chart"
)

// Composer runs the chart-aware steps (dependency processing, coalescing, schema validation)
// and reports the warnings Helm would print along the way. The zero value drops warnings.
type Composer struct {
	// Warn receives each non-fatal warning as one line of text. Nil discards them.
	Warn func(msg string)
	// MaxSchemaObjects bounds the JSON objects in one values.schema.json: 0 means
	// DefaultMaxSchemaObjects, a negative value means no limit. Helm has none.
	MaxSchemaObjects int
}

func (c Composer) warnf(format string, args ...any) {
	if c.Warn != nil {
		c.Warn(fmt.Sprintf(format, args...))
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
