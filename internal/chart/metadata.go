package chart

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/Masterminds/semver/v3"
)

// aliasFormat is the pattern a dependency alias must match, as in Helm.
var aliasFormat = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Validate checks Chart.yaml as Helm does when it loads a chart, and sanitises its strings on the
// way: every Unicode space becomes a plain space and unprintable runes are dropped. The error
// texts are Helm's. Capstan is stricter in one place: a name may not contain a backslash either,
// since the name becomes the top folder of a packaged archive, where a backslash is a separator.
func (md *Metadata) Validate() error {
	if md == nil {
		return validationErrorf("chart.metadata is required")
	}
	md.sanitize()
	if err := md.validateIdentity(); err != nil {
		return err
	}
	for _, m := range md.Maintainers {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	return validateDependencies(md.Dependencies)
}

func (md *Metadata) sanitize() {
	for _, s := range []*string{
		&md.Name, &md.Description, &md.Home, &md.Icon, &md.Condition, &md.Tags, &md.AppVersion, &md.KubeVersion,
	} {
		*s = sanitizeString(*s)
	}
	sanitizeAll(md.Sources)
	sanitizeAll(md.Keywords)
}

func (md *Metadata) validateIdentity() error {
	switch {
	case md.APIVersion == "":
		return validationErrorf("chart.metadata.apiVersion is required")
	case md.Name == "":
		return validationErrorf("chart.metadata.name is required")
	case md.Name == "." || md.Name == "..":
		return validationErrorf("chart.metadata.name %q is not allowed", md.Name)
	case strings.ContainsAny(md.Name, `/\`):
		return validationErrorf("chart.metadata.name %q is invalid", md.Name)
	case md.Version == "":
		return validationErrorf("chart.metadata.version is required")
	}
	if _, err := semver.NewVersion(md.Version); err != nil {
		return validationErrorf("chart.metadata.version %q is invalid", md.Version)
	}
	if md.Type != "" && md.Type != TypeApplication && md.Type != TypeLibrary {
		return validationErrorf("chart.metadata.type must be application or library")
	}
	return nil
}

func validateDependencies(deps []*Dependency) error {
	seen := make(map[string]bool, len(deps))
	for _, d := range deps {
		if err := d.Validate(); err != nil {
			return err
		}
		key := d.Name
		if d.Alias != "" {
			key = d.Alias
		}
		if seen[key] {
			return validationErrorf("more than one dependency with name or alias %q", key)
		}
		seen[key] = true
	}
	return nil
}

// Validate rejects a null maintainer entry and sanitises the maintainer's strings.
func (m *Maintainer) Validate() error {
	if m == nil {
		return validationErrorf("maintainers must not contain empty or null nodes")
	}
	m.Name = sanitizeString(m.Name)
	m.Email = sanitizeString(m.Email)
	m.URL = sanitizeString(m.URL)
	return nil
}

// Validate rejects a null dependency entry and an alias outside ^[a-zA-Z0-9_-]+$, and sanitises
// the dependency's strings.
func (d *Dependency) Validate() error {
	if d == nil {
		return validationErrorf("dependencies must not contain empty or null nodes")
	}
	d.Name = sanitizeString(d.Name)
	d.Version = sanitizeString(d.Version)
	d.Repository = sanitizeString(d.Repository)
	d.Condition = sanitizeString(d.Condition)
	sanitizeAll(d.Tags)
	if d.Alias != "" && !aliasFormat.MatchString(d.Alias) {
		return validationErrorf("dependency %q has disallowed characters in the alias", d.Name)
	}
	return nil
}

// sanitizeString turns every Unicode space into ' ' and drops runes that are not printable.
func sanitizeString(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
}

func sanitizeAll(list []string) {
	for i := range list {
		list[i] = sanitizeString(list[i])
	}
}
