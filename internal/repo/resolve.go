package repo

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// classError is an error with a human message that unwraps to one of the package's sentinel
// errors, so callers can classify it without the sentinel's text repeating in the message.
type classError struct {
	class error
	msg   string
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }

func newError(class error, format string, args ...any) error {
	return &classError{class: class, msg: fmt.Sprintf(format, args...)}
}

// ParseConstraint parses a version constraint with Helm's rules: the empty string means "*",
// the newest stable version.
func ParseConstraint(constraint string) (*semver.Constraints, error) {
	c := constraint
	if strings.TrimSpace(c) == "" {
		c = "*"
	}
	cs, err := semver.NewConstraint(c)
	if err != nil {
		return nil, &classError{class: ErrInvalidConstraint,
			msg: fmt.Sprintf("invalid version constraint %q: %v", constraint, err)}
	}
	return cs, nil
}

// resolveVersion picks a version the way Helm's IndexFile.Get does. The constraint must parse
// first (even when it also names an exact version). A version string exactly equal to the
// constraint wins. Otherwise the newest version that satisfies the constraint is chosen, where
// pre-releases only satisfy a constraint that itself names a pre-release. Versions with no
// download URL are passed over, as Helm's dependency resolver does, because they could not be
// fetched. versions must be sorted newest first.
func resolveVersion(chart, constraint string, versions []*ChartVersion) (*ChartVersion, error) {
	cs, err := ParseConstraint(constraint)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, newError(ErrChartNotFound, "chart %q not found in repository", chart)
	}
	if constraint != "" {
		for _, cv := range versions {
			if cv.Version == constraint {
				return cv, nil
			}
		}
	}
	for _, cv := range versions {
		if len(cv.URLs) > 0 && cv.semver != nil && cs.Check(cv.semver) {
			return cv, nil
		}
	}
	return nil, versionNotFound(chart, constraint, versions)
}

func versionNotFound(chart, constraint string, versions []*ChartVersion) error {
	shown := constraint
	if strings.TrimSpace(shown) == "" {
		shown = "*"
	}
	msg := fmt.Sprintf("chart %q version %q not found in repository", chart, shown)
	if onlyPrereleases(versions) {
		msg += ` (it has only pre-release versions, which need a constraint with a pre-release part such as ">=0.0.0-0")`
	}
	return &classError{class: ErrVersionNotFound, msg: msg}
}

func onlyPrereleases(versions []*ChartVersion) bool {
	for _, cv := range versions {
		if cv.semver == nil || cv.semver.Prerelease() == "" {
			return false
		}
	}
	return true
}
