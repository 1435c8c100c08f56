package values

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/capstan-dev/capstan/internal/chart"
)

// ProcessDependencies prepares ch's subchart tree for coalescing and rendering, as Helm v4 does
// before every install, upgrade and template run:
//
//  1. from the root down, for every chart whose Chart.yaml declares dependencies: pair each
//     declared dependency with the first loaded subchart of that name whose version satisfies
//     the constraint (copied, and renamed to the alias if one is set), keep subcharts that match
//     no declaration, evaluate tags (top-level `tags:` only) and then conditions (the first path
//     that resolves to a bool wins, looked up under the chart's ancestry), and drop disabled
//     subcharts by name;
//  2. from the leaves up, apply import-values: each chart's values become its defaults merged
//     with its subcharts' defaults, with the imported tables filling only keys it does not set.
//
// userValues are read, never modified. ch is modified in place (its metadata, subcharts and
// values); the subcharts and metadata it held before are copied first and left untouched, so a
// cached chart tree is not corrupted, but ch itself must be processed only once. Errors carry
// Helm's "chart dependencies processing failed" prefix.
func (c Composer) ProcessDependencies(ch *chart.Chart, userValues map[string]any) error {
	if ch == nil {
		return errors.New("chart dependencies processing failed: no chart")
	}
	isolate(ch)
	if err := c.processEnabled(ch, userValues, ""); err != nil {
		return fmt.Errorf("chart dependencies processing failed: %w", err)
	}
	if err := c.processImports(ch); err != nil {
		return fmt.Errorf("chart dependencies processing failed: %w", err)
	}
	return nil
}

// CheckDependencies reports, in Helm v4's words, the dependencies ch's Chart.yaml declares that
// have no loaded subchart of the same name (aliases are not considered). Helm runs this check
// before ProcessDependencies on install, upgrade and template.
func CheckDependencies(ch *chart.Chart) error {
	if ch == nil || ch.Metadata == nil {
		return nil
	}
	var missing []string
	for _, r := range ch.Metadata.Dependencies {
		if r != nil && !hasSubchart(ch, r.Name) {
			missing = append(missing, r.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("an error occurred while checking for chart dependencies. You may need to run "+
		"'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: %s",
		strings.Join(missing, ", "))
}

func hasSubchart(ch *chart.Chart, name string) bool {
	for _, sub := range ch.Dependencies() {
		if sub.Name() == name {
			return true
		}
	}
	return false
}

// isolate gives ch its own metadata and its own copies of every descendant, so that the
// in-place processing below never reaches objects the caller may share with others.
func isolate(ch *chart.Chart) {
	if ch.Metadata != nil {
		ch.Metadata = copyMetadata(ch.Metadata)
	}
	deps := ch.Dependencies()
	if len(deps) == 0 {
		return
	}
	clones := make([]*chart.Chart, 0, len(deps))
	for _, d := range deps {
		if d == nil {
			continue
		}
		cp := *d
		isolate(&cp)
		clones = append(clones, &cp)
	}
	ch.SetDependencies(clones...)
}

// processEnabled is step 1 for ch, whose ancestry is path ("" for the root, "a.b." below).
func (c Composer) processEnabled(ch *chart.Chart, v map[string]any, path string) error {
	if ch.Metadata == nil || ch.Metadata.Dependencies == nil {
		return nil
	}
	reqs := ch.Metadata.Dependencies
	ch.SetDependencies(resolveSubcharts(ch.Dependencies(), reqs)...)
	for _, r := range reqs {
		if r != nil {
			r.Enabled = true
		}
	}
	cvals, err := c.Coalesce(ch, v)
	if err != nil {
		return err
	}
	c.processTags(reqs, cvals)
	c.processConditions(reqs, cvals, path)

	disabled := map[string]bool{}
	for _, r := range reqs {
		if r != nil && !r.Enabled {
			disabled[r.Name] = true
		}
	}
	var kept []*chart.Chart
	for _, sub := range ch.Dependencies() {
		if !disabled[sub.Name()] {
			kept = append(kept, sub)
		}
	}
	var keptReqs []*chart.Dependency
	for _, r := range reqs {
		if r != nil && !disabled[r.Name] {
			keptReqs = append(keptReqs, r)
		}
	}
	for _, sub := range kept {
		if err := c.processEnabled(sub, cvals, path+sub.Name()+"."); err != nil {
			return err
		}
	}
	// Like Helm, a chart whose every dependency was disabled ends with a nil list, which also
	// skips its import-values step.
	ch.Metadata.Dependencies = keptReqs
	ch.SetDependencies(kept...)
	return nil
}

// resolveSubcharts builds the new subchart list: loaded subcharts no declaration matches, then
// one copy per declared dependency that finds a loaded chart. Declared names become aliases.
func resolveSubcharts(loaded []*chart.Chart, reqs []*chart.Dependency) []*chart.Chart {
	var out []*chart.Chart
	for _, sub := range loaded {
		if !declared(sub, reqs) {
			out = append(out, sub)
		}
	}
	for _, r := range reqs {
		if r == nil {
			continue
		}
		if cp := aliasCopy(loaded, r); cp != nil {
			out = append(out, cp)
		}
		if r.Alias != "" {
			r.Name = r.Alias
		}
	}
	return out
}

func declared(sub *chart.Chart, reqs []*chart.Dependency) bool {
	for _, r := range reqs {
		if r != nil && sub.Name() == r.Name && compatible(r.Version, chartVersion(sub)) {
			return true
		}
	}
	return false
}

// aliasCopy returns a copy of the first loaded chart that satisfies dep, renamed to its alias.
// Its subcharts are shallow copies that share their metadata with the originals, as in Helm.
func aliasCopy(loaded []*chart.Chart, dep *chart.Dependency) *chart.Chart {
	for _, sub := range loaded {
		if sub == nil || sub.Name() != dep.Name || !compatible(dep.Version, chartVersion(sub)) {
			continue
		}
		out := *sub
		out.Metadata = copyMetadata(sub.Metadata)
		grandchildren := sub.Dependencies()
		out.SetDependencies()
		for _, g := range grandchildren {
			if g == nil {
				continue
			}
			cp := *g
			out.AddDependency(&cp)
		}
		if dep.Alias != "" {
			out.Metadata.Name = dep.Alias
		}
		return &out
	}
	return nil
}

// copyMetadata copies m and each of its dependency entries.
func copyMetadata(m *chart.Metadata) *chart.Metadata {
	if m == nil {
		return &chart.Metadata{}
	}
	cp := *m
	if m.Dependencies != nil {
		cp.Dependencies = make([]*chart.Dependency, len(m.Dependencies))
		for i, d := range m.Dependencies {
			if d == nil {
				continue
			}
			dc := *d
			cp.Dependencies[i] = &dc
		}
	}
	return &cp
}

// processTags applies the top-level tags table: any true tag enables, otherwise any false tag
// disables. Non-bool tag values are ignored with a warning.
func (c Composer) processTags(reqs []*chart.Dependency, cvals map[string]any) {
	tags, err := table(cvals, "tags")
	if err != nil {
		return
	}
	for _, r := range reqs {
		if r == nil {
			continue
		}
		var hasTrue, hasFalse bool
		for _, tag := range r.Tags {
			v, ok := tags[tag]
			if !ok {
				continue
			}
			b, isBool := v.(bool)
			switch {
			case !isBool:
				c.warn(fmt.Sprintf("tag %q for chart %s returned non-bool value", tag, r.Name),
					"returned non-bool value", "tag", tag, "chart", r.Name)
			case b:
				hasTrue = true
			default:
				hasFalse = true
			}
		}
		r.Enabled = hasTrue || !hasFalse
	}
}

// processConditions evaluates each comma-separated condition path under path; the first path
// holding a bool decides. Conditions run after tags, so they override them.
func (c Composer) processConditions(reqs []*chart.Dependency, cvals map[string]any, path string) {
	for _, r := range reqs {
		if r == nil {
			continue
		}
		for _, cond := range strings.Split(strings.TrimSpace(r.Condition), ",") {
			if cond == "" {
				continue
			}
			v, err := pathValue(cvals, path+cond)
			if err != nil {
				continue
			}
			if b, ok := v.(bool); ok {
				r.Enabled = b
				break
			}
			c.warn(fmt.Sprintf("Condition path '%s' for chart %s returned non-bool value", cond, r.Name),
				"returned non-bool value", "path", cond, "chart", r.Name)
		}
	}
}

// compatible reports whether version satisfies constraint; anything unparsable is false.
func compatible(constraint, version string) bool {
	v, err := semver.NewVersion(version)
	if err != nil {
		return false
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	return c.Check(v)
}

func chartVersion(ch *chart.Chart) string {
	if ch.Metadata == nil {
		return ""
	}
	return ch.Metadata.Version
}
