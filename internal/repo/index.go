package repo

import (
	"slices"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Index is the compact, parsed form of a repository index: per chart name the versions sorted
// newest first, with only the fields resolution and download need. Descriptions, maintainers,
// keywords and the like are dropped while parsing, so a shared cache can hold many indexes.
// An Index is immutable once built and safe for concurrent use.
type Index struct {
	// APIVersion is the index's apiVersion (always "v1" for Helm indexes).
	APIVersion string
	// Generated is the index's generated timestamp, zero when absent.
	Generated time.Time
	// Digest is "sha256:<hex>" of the index bytes as served.
	Digest string
	// Size is the number of bytes of the index as served.
	Size int64

	entries  map[string][]*ChartVersion
	versions int
	warnings []string
}

// ChartVersion is one version of a chart as a repository announces it. Values returned by this
// package are copies; changing them does not change a cached index.
type ChartVersion struct {
	// Name is the chart's name.
	Name string
	// Version is the version string exactly as the repository spells it.
	Version string
	// AppVersion is the chart's appVersion.
	AppVersion string
	// APIVersion is the chart's apiVersion ("v1" when the entry has none, as in Helm).
	APIVersion string
	// Type is the chart's type ("", "application" or "library").
	Type string
	// Digest is the lower-case hex sha256 of the chart archive, or "" when the index has none.
	Digest string
	// URLs are the download locations; only the first is used, as in Helm.
	URLs []string
	// Created is the entry's creation time, zero when absent.
	Created time.Time
	// Deprecated reports a chart marked deprecated.
	Deprecated bool

	semver *semver.Version
	oci    *ociLayer
}

// IndexStats summarises an index for a ChartRepository's status.
type IndexStats struct {
	// Digest is "sha256:<hex>" of the index bytes.
	Digest string
	// Size is the index size in bytes.
	Size int64
	// Charts is the number of chart names.
	Charts int
	// Versions is the number of chart versions over all charts.
	Versions int
}

// Stats returns the index's digest, size and counts.
func (i *Index) Stats() IndexStats {
	return IndexStats{Digest: i.Digest, Size: i.Size, Charts: len(i.entries), Versions: i.versions}
}

// Charts returns the chart names in lexical order.
func (i *Index) Charts() []string {
	names := make([]string, 0, len(i.entries))
	for n := range i.entries {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Versions returns copies of a chart's versions, newest first, or nil for an unknown chart.
func (i *Index) Versions(chart string) []*ChartVersion {
	vs := i.entries[chart]
	if vs == nil {
		return nil
	}
	out := make([]*ChartVersion, len(vs))
	for k, cv := range vs {
		out[k] = cv.clone()
	}
	return out
}

// Warnings returns the messages about entries that were skipped while parsing.
func (i *Index) Warnings() []string { return slices.Clone(i.warnings) }

// Resolve picks the version of chart that constraint selects, with Helm's rules (see
// resolveVersion). The result is a copy the caller may keep.
func (i *Index) Resolve(chart, constraint string) (*ChartVersion, error) {
	cv, err := resolveVersion(chart, constraint, i.entries[chart])
	if err != nil {
		return nil, err
	}
	return cv.clone(), nil
}

func (cv *ChartVersion) clone() *ChartVersion {
	c := *cv
	c.URLs = slices.Clone(cv.URLs)
	return &c
}

// memSize estimates the bytes an index holds, for the cache's byte budget. It counts string
// bytes and fixed per-object overheads; it need not be exact, only proportional.
func (i *Index) memSize() int64 {
	const perVersion = 200 // ChartVersion struct, semver.Version, slice and pointer overheads.
	const perChart = 64
	n := int64(256 + len(i.Digest))
	for name, vs := range i.entries {
		n += perChart + int64(len(name))
		for _, cv := range vs {
			n += perVersion + int64(len(cv.Version)+len(cv.AppVersion)+len(cv.Digest))
			for _, u := range cv.URLs {
				n += 16 + int64(len(u))
			}
		}
	}
	return n
}
