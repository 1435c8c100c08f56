package chart

import "strings"

// APIVersionV1 and APIVersionV2 are the Chart.yaml apiVersions Capstan loads.
const (
	APIVersionV1 = "v1"
	APIVersionV2 = "v2"
)

// TypeApplication and TypeLibrary are the values of Chart.yaml's type field.
const (
	TypeApplication = "application"
	TypeLibrary     = "library"
)

// Chart is a loaded chart held in memory: metadata, templates, values, schema, plain files and
// its subcharts. It is produced by the loader and never touched by the network or a cluster.
type Chart struct {
	// Metadata is the parsed Chart.yaml (with requirements.yaml's dependencies for v1 charts).
	Metadata *Metadata
	// Lock is the parsed Chart.lock or requirements.lock, when present.
	Lock *Lock
	// Templates are the files under templates/, with paths relative to the chart root.
	Templates []*File
	// Values are the parsed defaults from values.yaml (all documents merged, as Helm v4 reads them).
	Values map[string]any
	// Schema is the raw values.schema.json, when present.
	Schema []byte
	// Files are the chart's other files (what .Files exposes), with paths relative to the chart root.
	Files []*File
	// Raw holds values.yaml as it was read, for records that keep the chart's own defaults text.
	RawValues []byte

	parent       *Chart
	dependencies []*Chart
}

// File is one file of a chart: its slash-separated path relative to the chart root and its bytes.
type File struct {
	Name string
	Data []byte
}

// Metadata is Chart.yaml. JSON tags follow Helm's so records and toYaml output match.
type Metadata struct {
	Name         string            `json:"name,omitempty"`
	Home         string            `json:"home,omitempty"`
	Sources      []string          `json:"sources,omitempty"`
	Version      string            `json:"version,omitempty"`
	Description  string            `json:"description,omitempty"`
	Keywords     []string          `json:"keywords,omitempty"`
	Maintainers  []*Maintainer     `json:"maintainers,omitempty"`
	Icon         string            `json:"icon,omitempty"`
	APIVersion   string            `json:"apiVersion,omitempty"`
	Condition    string            `json:"condition,omitempty"`
	Tags         string            `json:"tags,omitempty"`
	AppVersion   string            `json:"appVersion,omitempty"`
	Deprecated   bool              `json:"deprecated,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	KubeVersion  string            `json:"kubeVersion,omitempty"`
	Dependencies []*Dependency     `json:"dependencies,omitempty"`
	Type         string            `json:"type,omitempty"`
}

// Maintainer is one entry of Chart.yaml's maintainers.
type Maintainer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Dependency is one entry of Chart.yaml's dependencies (or requirements.yaml for v1 charts).
type Dependency struct {
	Name         string   `json:"name"`
	Version      string   `json:"version,omitempty"`
	Repository   string   `json:"repository"`
	Condition    string   `json:"condition,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	Enabled      bool     `json:"enabled,omitempty"`
	ImportValues []any    `json:"import-values,omitempty"`
	Alias        string   `json:"alias,omitempty"`
}

// Lock is Chart.lock / requirements.lock.
type Lock struct {
	Generated    string        `json:"generated"`
	Digest       string        `json:"digest"`
	Dependencies []*Dependency `json:"dependencies"`
}

// Name returns the chart's name from its metadata, or "" when it has none.
func (c *Chart) Name() string {
	if c.Metadata == nil {
		return ""
	}
	return c.Metadata.Name
}

// IsRoot reports whether the chart has no parent.
func (c *Chart) IsRoot() bool { return c.parent == nil }

// Parent returns the chart this one is a subchart of, or nil for the root.
func (c *Chart) Parent() *Chart { return c.parent }

// Dependencies returns the loaded subcharts.
func (c *Chart) Dependencies() []*Chart { return c.dependencies }

// SetDependencies replaces the subcharts and makes c their parent.
func (c *Chart) SetDependencies(charts ...*Chart) {
	c.dependencies = nil
	c.AddDependency(charts...)
}

// AddDependency appends subcharts and makes c their parent.
func (c *Chart) AddDependency(charts ...*Chart) {
	for _, d := range charts {
		d.parent = c
		c.dependencies = append(c.dependencies, d)
	}
}

// ChartPath returns the dotted path of the chart from the root, e.g. "parent.child".
func (c *Chart) ChartPath() string {
	if c.parent == nil {
		return c.Name()
	}
	return c.parent.ChartPath() + "." + c.Name()
}

// ChartFullPath returns the template-name prefix of the chart, e.g. "parent/charts/child".
func (c *Chart) ChartFullPath() string {
	if c.parent == nil {
		return c.Name()
	}
	return c.parent.ChartFullPath() + "/charts/" + c.Name()
}

// IsLibrary reports whether the chart is a library chart (case-insensitive, as the engine checks).
func (c *Chart) IsLibrary() bool {
	return c.Metadata != nil && strings.EqualFold(c.Metadata.Type, TypeLibrary)
}
