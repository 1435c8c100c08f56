package engine

import (
	"encoding/base64"
	"path"
	"strings"

	"github.com/gobwas/glob"

	"github.com/capstan-dev/capstan/internal/chart"
)

// files is .Files: a chart's plain files by path relative to the chart root. It is deliberately
// an unexported named map type, as in Helm, so that reflection names it engine.files and sprig
// functions that want a map[string]any refuse it with the same message.
type files map[string][]byte

// newFiles indexes a chart's files by name; a later file of the same name wins.
func newFiles(from []*chart.File) files {
	out := make(files, len(from))
	for _, f := range from {
		if f != nil {
			out[f.Name] = f.Data
		}
	}
	return out
}

// GetBytes returns a file's bytes, or an empty slice when there is no such file.
func (f files) GetBytes(name string) []byte {
	if data, ok := f[name]; ok {
		return data
	}
	return []byte{}
}

// Get returns a file's contents as a string, or "" when there is no such file.
func (f files) Get(name string) string {
	return string(f.GetBytes(name))
}

// Glob returns the files whose path matches a gobwas glob with "/" as separator; an invalid
// pattern matches everything, as in Helm.
func (f files) Glob(pattern string) files {
	g, err := glob.Compile(pattern, '/')
	if err != nil {
		g = glob.MustCompile("**", '/')
	}
	out := make(files)
	for name, data := range f {
		if g.Match(name) {
			out[name] = data
		}
	}
	return out
}

// AsConfig renders the files as a YAML map from base name to content, for a ConfigMap's data.
func (f files) AsConfig() string {
	if f == nil {
		return ""
	}
	m := make(map[string]string, len(f))
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	return toYAML(m)
}

// AsSecrets renders the files as a YAML map from base name to base64 content, for a Secret's data.
func (f files) AsSecrets() string {
	if f == nil {
		return ""
	}
	m := make(map[string]string, len(f))
	for name, data := range f {
		m[path.Base(name)] = base64.StdEncoding.EncodeToString(data)
	}
	return toYAML(m)
}

// Lines splits a file on "\n" after dropping one trailing newline; a missing or empty file gives
// an empty list.
func (f files) Lines(name string) []string {
	data := f[name]
	if len(data) == 0 {
		return []string{}
	}
	s := strings.TrimSuffix(string(data), "\n")
	return strings.Split(s, "\n")
}
