package engine

import (
	"errors"
	"path"
	"reflect"
	"sort"
	"strings"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine/internal/common"
)

// source is one template file with the context map of the chart it belongs to. The map is shared
// by all files of that chart; .Template is set in it just before each file runs, as in Helm.
type source struct {
	text     string
	ctx      map[string]any
	basePath string
}

// collector walks a chart tree and gathers every template under Helm's naming.
type collector struct {
	release map[string]any
	caps    *Capabilities
	sources map[string]source
}

// errNoMetadata reports a chart without Chart.yaml metadata, which the loader never produces.
var errNoMetadata = errors.New("chart has no metadata")

// chartContext builds the context map of chart c, whose parent's context is parent (nil for the
// root), records c's templates and recurses into its subcharts.
func (col *collector) chartContext(c *chart.Chart, parent map[string]any, rootValues common.Values) (map[string]any, error) {
	if c.Metadata == nil {
		return nil, errNoMetadata
	}
	meta := metadataMap(c.Metadata)
	meta["IsRoot"] = c.IsRoot()
	subcharts := map[string]any{}
	ctx := map[string]any{
		"Chart":        meta,
		"Files":        newFiles(c.Files),
		"Release":      col.release,
		"Capabilities": col.caps,
		"Values":       common.Values{},
		"Subcharts":    subcharts,
	}
	if c.IsRoot() {
		ctx["Values"] = rootValues
	} else if vals, err := common.Values(parent).Table("Values." + c.Name()); err == nil {
		ctx["Values"] = vals
	}
	for _, dep := range c.Dependencies() {
		sub, err := col.chartContext(dep, ctx, rootValues)
		if err != nil {
			return nil, err
		}
		subcharts[dep.Name()] = sub
	}
	col.addTemplates(c, ctx)
	return ctx, nil
}

// addTemplates records c's templates as <chart full path>/<file path>; a library chart only
// contributes its partials (files whose base name starts with "_").
func (col *collector) addTemplates(c *chart.Chart, ctx map[string]any) {
	prefix := c.ChartFullPath()
	for _, f := range c.Templates {
		if f == nil || (c.IsLibrary() && !strings.HasPrefix(path.Base(f.Name), "_")) {
			continue
		}
		col.sources[path.Join(prefix, f.Name)] = source{
			text:     string(f.Data),
			ctx:      ctx,
			basePath: path.Join(prefix, "templates"),
		}
	}
}

// parseOrder sorts template names as Helm parses and runs them: more "/" first, then reverse
// lexical order. The last definition of a name wins, so parents beat subcharts and _a beats _b.
func parseOrder(sources map[string]source) []string {
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		ci, cj := strings.Count(names[i], "/"), strings.Count(names[j], "/")
		if ci != cj {
			return ci > cj
		}
		return names[i] > names[j]
	})
	return names
}

// metadataMap turns Chart.yaml metadata into the map Helm v4 gives templates as .Chart: Go field
// names as keys, zero values included, nested structs as maps and slices as []any.
func metadataMap(m *chart.Metadata) map[string]any {
	out, _ := structMap(reflect.ValueOf(m).Elem()).(map[string]any)
	return out
}

// structMap converts a value the way Helm's reflection does: structs and pointers to structs
// become maps of their exported fields, slices become []any of converted elements, nil pointers
// become nil and anything else is kept as it is.
func structMap(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return structMap(v.Elem())
	case reflect.Struct:
		out := make(map[string]any, v.NumField())
		t := v.Type()
		for i := range v.NumField() {
			if t.Field(i).IsExported() {
				out[t.Field(i).Name] = structMap(v.Field(i))
			}
		}
		return out
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = sliceElem(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

// sliceElem converts one slice element: structs and pointers recursively, the rest as is.
func sliceElem(v reflect.Value) any {
	if v.Kind() == reflect.Struct || v.Kind() == reflect.Pointer {
		return structMap(v)
	}
	return v.Interface()
}
