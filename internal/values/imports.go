package values

import (
	"fmt"
	"strings"

	"github.com/capstan-dev/capstan/internal/chart"
)

// processImports applies import-values from the leaves up: every subchart first, then ch.
func (c Composer) processImports(ch *chart.Chart) error {
	for _, sub := range ch.Dependencies() {
		if err := c.processImports(sub); err != nil {
			return err
		}
	}
	return c.importValues(ch)
}

// importValues replaces ch.Values with its defaults merged with its subcharts' defaults (nulls
// kept, user values not involved), under which the imported tables fill the keys ch leaves
// unset. Each import-values entry is rewritten to its normalised {child, parent} form.
func (c Composer) importValues(ch *chart.Chart) error {
	if ch.Metadata == nil || ch.Metadata.Dependencies == nil {
		return nil
	}
	cvals, err := c.coalesce(ch, map[string]any{}, "", true)
	if err != nil {
		return err
	}
	imported := map[string]any{}
	for _, r := range ch.Metadata.Dependencies {
		if r != nil {
			imported = c.importDependency(r, cvals, imported)
		}
	}
	// Deep-copy only now: the merges above may already have written through shared tables into
	// cvals, and Helm keeps those writes.
	ch.Values = c.coalesceTables(deepCopyMap(cvals), imported, "", true)
	return nil
}

// importDependency merges every import-values entry of r into imported, earlier entries
// winning, and normalises r.ImportValues. Entries of any other shape are dropped, as in Helm.
func (c Composer) importDependency(r *chart.Dependency, cvals, imported map[string]any) map[string]any {
	var normalised []any
	for _, entry := range r.ImportValues {
		var child, parent string
		switch iv := entry.(type) {
		case map[string]any:
			child, parent = fmt.Sprintf("%v", iv["child"]), fmt.Sprintf("%v", iv["parent"])
		case string:
			child, parent = "exports."+iv, "."
		default:
			continue
		}
		normalised = append(normalised, map[string]string{"child": child, "parent": parent})
		src, err := table(cvals, r.Name+"."+child)
		if err != nil {
			text := fmt.Sprintf("ImportValues missing table from chart %s: %v", r.Name, err)
			if _, short := entry.(string); short {
				c.warn(text, "ImportValues missing table", "error", err)
			} else {
				c.warn(text, "ImportValues missing table from chart", "chart", r.Name, "error", err)
			}
			continue
		}
		if len(src) == 0 {
			src = map[string]any{}
		}
		imported = c.coalesceTables(imported, nestUnder(parent, src), "", true)
	}
	r.ImportValues = normalised
	return imported
}

// nestUnder wraps data in maps along a dotted path; "." is the root itself.
func nestUnder(path string, data map[string]any) map[string]any {
	if path == "." {
		return data
	}
	segs := strings.Split(path, ".")
	cur := data
	for i := len(segs) - 1; i >= 0; i-- {
		cur = map[string]any{segs[i]: cur}
	}
	return cur
}
