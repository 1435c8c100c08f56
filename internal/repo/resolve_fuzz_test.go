package repo

import (
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// FuzzResolve checks Helm's resolution rules against arbitrary version lists and constraints:
// the result is the exact string match or satisfies the constraint, no newer downloadable
// version satisfies it, a "not found" means nothing matched, and the answer is deterministic.
func FuzzResolve(f *testing.F) {
	seeds := [][2]string{
		{"1.0.0\n1.1.0\n2.0.0-rc.1", ""},
		{"1.0.0\n1.1.0\n2.0.0-rc.1", ">=2.0.0-0"},
		{"v1.0.0\n1.0.0+b\n1.0.0", "1.0.0"},
		{"0.1.0\n0.2.0", "^0.1"},
		{"1.2.3", "1.2 - 1.4.5"},
		{"1.2.3\n1.2.4", "~1.2.3 || >5"},
		{"1.0.0", ">=1.0 <"},
		{"1.0.0-alpha\n1.0.0-alpha.1\n1.0.0-beta", ">=1.0.0-alpha.0 <1.0.0"},
		{"1.0.0!", "*"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, list, constraint string) {
		var raw []string
		for _, v := range strings.Split(list, "\n") {
			if v = strings.TrimSpace(v); v != "" && v != "!" {
				if _, err := semver.NewVersion(strings.TrimSuffix(v, "!")); err == nil {
					raw = append(raw, v)
				}
			}
		}
		if len(raw) > 64 {
			raw = raw[:64]
		}
		versions := versionsFor(raw...)
		cv, err := resolveVersion("app", constraint, versions)
		again, err2 := resolveVersion("app", constraint, versions)
		if (err == nil) != (err2 == nil) || (err == nil && cv != again) {
			t.Fatalf("resolution is not deterministic")
		}
		checkResolution(t, constraint, versions, cv, err)
	})
}

func checkResolution(t *testing.T, constraint string, versions []*ChartVersion, cv *ChartVersion, err error) {
	cs, cerr := ParseConstraint(constraint)
	switch {
	case cerr != nil:
		if !errors.Is(err, ErrInvalidConstraint) {
			t.Fatalf("constraint %q does not parse but resolution said %v", constraint, err)
		}
	case errors.Is(err, ErrChartNotFound):
		if len(versions) != 0 {
			t.Fatalf("chart not found with %d versions", len(versions))
		}
	case err != nil:
		for _, v := range versions {
			if (constraint != "" && v.Version == constraint) || (len(v.URLs) > 0 && cs.Check(v.semver)) {
				t.Fatalf("version %q matches %q but resolution failed: %v", v.Version, constraint, err)
			}
		}
	case constraint != "" && cv.Version == constraint:
	default:
		if !cs.Check(cv.semver) || len(cv.URLs) == 0 {
			t.Fatalf("picked %q which does not satisfy %q", cv.Version, constraint)
		}
		for _, v := range versions {
			if v == cv {
				break
			}
			if constraint != "" && v.Version == constraint || len(v.URLs) > 0 && cs.Check(v.semver) {
				t.Fatalf("picked %q but the newer %q also matches %q", cv.Version, v.Version, constraint)
			}
		}
	}
}
