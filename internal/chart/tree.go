package chart

import (
	"fmt"
	"path"
	"strings"
)

// crdsPrefix is the folder whose manifests are installed as CRDs before rendering.
const crdsPrefix = "crds/"

// Validate validates the Chart.yaml of the chart and of every subchart, as loading does.
func (c *Chart) Validate() error {
	if err := c.Metadata.Validate(); err != nil {
		return err
	}
	for _, d := range c.dependencies {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("subchart %s: %w", d.ChartFullPath(), err)
		}
	}
	return nil
}

// CRDs returns the CRD files of the chart and of its current subcharts, depth first: files under
// crds/ whose extension is .yaml, .yml or .json in any case. Names stay relative to the chart
// that holds each file. Call it after dependency processing, so disabled subcharts are gone.
func (c *Chart) CRDs() []*File {
	var files []*File
	for _, f := range c.Files {
		if isCRDFile(f.Name) {
			files = append(files, f)
		}
	}
	for _, d := range c.dependencies {
		files = append(files, d.CRDs()...)
	}
	return files
}

// CRDObjects returns the same files as CRDs, in the same order, but each named by its full path
// from the root chart, "<ChartFullPath>/crds/<file>", which is what Helm prints after "# Source:".
// The data is shared with the chart's files.
func (c *Chart) CRDObjects() []*File {
	var files []*File
	for _, f := range c.Files {
		if isCRDFile(f.Name) {
			files = append(files, &File{Name: c.ChartFullPath() + "/" + f.Name, Data: f.Data})
		}
	}
	for _, d := range c.dependencies {
		files = append(files, d.CRDObjects()...)
	}
	return files
}

func isCRDFile(name string) bool {
	if !strings.HasPrefix(name, crdsPrefix) {
		return false
	}
	ext := path.Ext(name)
	return strings.EqualFold(ext, ".yaml") || strings.EqualFold(ext, ".yml") || strings.EqualFold(ext, ".json")
}

// CheckDependencies reports the dependencies Chart.yaml declares that have no loaded subchart of
// the same name (aliases do not count), with Helm v4's message. Run it before dependency
// processing, on the chart as loaded.
func CheckDependencies(c *Chart) error {
	missing := missingDependencies(c)
	if len(missing) == 0 {
		return nil
	}
	return errorOf(ErrMissingDependencies, "an error occurred while checking for chart dependencies. "+
		"You may need to run 'helm dependency build' to fetch missing dependencies: "+
		"found in Chart.yaml, but missing in charts/ directory: %s", strings.Join(missing, ", "))
}

func missingDependencies(c *Chart) []string {
	if c.Metadata == nil {
		return nil
	}
	var missing []string
	for _, dep := range c.Metadata.Dependencies {
		if dep != nil && !hasSubchart(c, dep.Name) {
			missing = append(missing, dep.Name)
		}
	}
	return missing
}

func hasSubchart(c *Chart, name string) bool {
	for _, d := range c.dependencies {
		if d.Name() == name {
			return true
		}
	}
	return false
}
