package repo

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"github.com/Masterminds/semver/v3"
)

// metaCheck holds the Chart.yaml fields Helm's metadata validation looks at, already sanitised.
type metaCheck struct {
	APIVersion, Name, Version, Type string
	NilMaintainer, NilDependency    bool
	DependencyNames, Aliases        []string
}

var aliasPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// errDuplicateDependency is the one validation failure an index tolerates, because some
// repository servers strip dependency aliases and so produce duplicates.
var errDuplicateDependency = errors.New("duplicate dependency")

// sanitize applies Helm's metadata clean-up: every Unicode space becomes a plain space and
// other non-printable runes are dropped.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r != ' ' && (unicode.IsSpace(r) || !unicode.IsPrint(r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
}

// validateMetadata applies Helm's Metadata.Validate rules, in Helm's order, with its messages.
func validateMetadata(m *metaCheck) error {
	switch {
	case m.APIVersion == "":
		return errors.New("validation: chart.metadata.apiVersion is required")
	case m.Name == "":
		return errors.New("validation: chart.metadata.name is required")
	case m.Name == "." || m.Name == ".." || m.Name != filepath.Base(m.Name) || strings.Contains(m.Name, "/"):
		return fmt.Errorf("validation: chart.metadata.name %q is invalid", truncate(m.Name, 64))
	case m.Version == "":
		return errors.New("validation: chart.metadata.version is required")
	}
	if _, err := semver.NewVersion(m.Version); err != nil {
		return fmt.Errorf("validation: chart.metadata.version %q is invalid", truncate(m.Version, 64))
	}
	if m.Type != "" && m.Type != "application" && m.Type != "library" {
		return errors.New("validation: chart.metadata.type must be application or library")
	}
	if m.NilMaintainer {
		return errors.New("validation: chart.metadata.maintainers must not contain empty or null nodes")
	}
	return validateDependencies(m)
}

func validateDependencies(m *metaCheck) error {
	if m.NilDependency {
		return errors.New("validation: dependencies must not contain empty or null nodes")
	}
	seen := make(map[string]bool, len(m.DependencyNames))
	var dup error
	for k, name := range m.DependencyNames {
		alias := m.Aliases[k]
		if alias != "" && !aliasPattern.MatchString(alias) {
			return fmt.Errorf("validation: dependency %q has disallowed characters in the alias", truncate(name, 64))
		}
		effective := name
		if alias != "" {
			effective = alias
		}
		if seen[effective] && dup == nil {
			dup = fmt.Errorf("validation: more than one dependency with name or alias %q: %w", truncate(effective, 64), errDuplicateDependency)
		}
		seen[effective] = true
	}
	return dup
}
