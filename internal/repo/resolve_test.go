package repo

import (
	"testing"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/gomega"
)

// versionsFor builds a sorted version list the way the parser does; a version written with a
// "!" suffix has no download URL.
func versionsFor(vs ...string) []*ChartVersion {
	out := make([]*ChartVersion, 0, len(vs))
	for _, v := range vs {
		cv := &ChartVersion{Name: "app", Version: v, URLs: []string{"app-" + v + ".tgz"}}
		if v[len(v)-1] == '!' {
			cv.Version, cv.URLs = v[:len(v)-1], nil
		}
		cv.semver, _ = semver.NewVersion(cv.Version)
		out = append(out, cv)
	}
	sortNewestFirst(out)
	return out
}

func TestIndex_Resolve(t *testing.T) {
	versions := []string{"1.0.0", "2.0.0-rc.1", "1.10.0", "1.9.3", "1.2.3+build.7", "1.2.3-beta.1", "0.9.0", "v0.8.0", "3.0.0!"}
	cases := map[string]struct {
		constraint string
		want       string
		err        error
		text       string
	}{
		"the empty constraint picks the newest stable version": {constraint: "", want: "1.10.0"},
		"a star picks the newest stable version":               {constraint: "*", want: "1.10.0"},
		"a wildcard minor picks the newest patch":              {constraint: "1.9.x", want: "1.9.3"},
		"a tilde range ignores build metadata":                 {constraint: "~1.2", want: "1.2.3+build.7"},
		"a caret range on a zero major stays in the minor":     {constraint: "^0.9", want: "0.9.0"},
		"a comma is an AND":                                    {constraint: ">= 1.0, < 1.5", want: "1.2.3+build.7"},
		"a double bar is an OR":                                {constraint: "0.9.0 || 1.9.x", want: "1.9.3"},
		"a pre-release constraint admits pre-releases":         {constraint: ">=2.0.0-0", want: "2.0.0-rc.1"},
		"a pre-release range picks the pre-release below":      {constraint: ">=1.2.3-0 <1.2.3", want: "1.2.3-beta.1"},
		"an exact pre-release string matches exactly":          {constraint: "1.2.3-beta.1", want: "1.2.3-beta.1"},
		"an exact v-prefixed string matches exactly":           {constraint: "v0.8.0", want: "v0.8.0"},
		"an exact version matches a v-prefixed entry":          {constraint: "0.8.0", want: "v0.8.0"},
		"a range without pre-release skips 2.0.0-rc.1":         {constraint: ">=1.10.0", want: "1.10.0"},
		"an exact string match wins even without a URL":        {constraint: "3.0.0", want: "3.0.0"},
		"a range passes over versions without a URL":           {constraint: ">=2.0.0", err: ErrVersionNotFound},
		"nothing matches a future major": {constraint: "4.x", err: ErrVersionNotFound,
			text: `chart "app" version "4.x" not found in repository`},
		"a malformed constraint is an error before any match": {constraint: ">=1.0 <", err: ErrInvalidConstraint,
			text: `invalid version constraint ">=1.0 <"`},
		"a word is not a constraint":  {constraint: "latest", err: ErrInvalidConstraint},
		"four segments are malformed": {constraint: "1.x.y.z", err: ErrInvalidConstraint},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			idx := &Index{entries: map[string][]*ChartVersion{"app": versionsFor(versions...)}}
			cv, err := idx.Resolve("app", tc.constraint)
			if tc.err != nil {
				g.Expect(err).To(MatchError(tc.err))
				g.Expect(err.Error()).To(ContainSubstring(tc.text))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cv.Version).To(Equal(tc.want))
		})
	}
}

func TestIndex_Resolve_errors(t *testing.T) {
	cases := map[string]struct {
		chart, constraint string
		versions          []string
		err               error
		text              string
	}{
		"an unknown chart": {chart: "nope", err: ErrChartNotFound, text: `chart "nope" not found in repository`},
		"a chart with only pre-releases explains the rule": {chart: "app", versions: []string{"1.0.0-alpha", "0.1.0-rc.1"},
			err: ErrVersionNotFound, text: `chart "app" version "*" not found in repository (it has only pre-release versions`},
		"a malformed constraint beats an unknown chart": {chart: "nope", constraint: "latest", err: ErrInvalidConstraint},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			idx := &Index{entries: map[string][]*ChartVersion{"app": versionsFor(tc.versions...)}}
			_, err := idx.Resolve(tc.chart, tc.constraint)
			g.Expect(err).To(MatchError(tc.err))
			g.Expect(err.Error()).To(ContainSubstring(tc.text))
		})
	}
}

func TestIndex_Resolve_returnsCopies(t *testing.T) {
	g := NewWithT(t)
	idx := &Index{entries: map[string][]*ChartVersion{"app": versionsFor("1.0.0")}}
	cv, err := idx.Resolve("app", "")
	g.Expect(err).NotTo(HaveOccurred())
	cv.URLs[0] = "changed"
	cv.Version = "changed"
	again, err := idx.Resolve("app", "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.Version).To(Equal("1.0.0"))
	g.Expect(again.URLs).To(Equal([]string{"app-1.0.0.tgz"}))
}
