package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Well-known file and folder names of a chart.
const (
	chartFileName     = "Chart.yaml"
	lockFileName      = "Chart.lock"
	valuesFileName    = "values.yaml"
	schemaFileName    = "values.schema.json"
	requirementsName  = "requirements.yaml"
	requirementsLock  = "requirements.lock"
	templatesPrefix   = "templates/"
	chartsPrefix      = "charts/"
	archiveExtension  = ".tgz"
	provenanceFileExt = ".prov"
)

// Load loads a chart from a directory or from a .tgz file, whichever path names.
func Load(name string, lim Limits) (*Chart, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return LoadDir(name, lim)
	}
	if !fi.Mode().IsRegular() {
		return nil, errorOf(ErrUnsafePath, "cannot load irregular file %s as it has file mode type bits set", name)
	}
	return loadFile(name, fi.Size(), newBudget(lim))
}

// loadFile loads an archive file, first telling apart files that are not gzip at all (a values
// file passed by mistake, say) with Helm's messages.
func loadFile(name string, size int64, b *budget) (*Chart, error) {
	if size > b.lim.MaxArchiveSize {
		return nil, errorOf(ErrLimitExceeded, "chart archive %s is larger than the maximum archive size %d", name, b.lim.MaxArchiveSize)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	head := make([]byte, 512)
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("file '%s' cannot be read: %w", name, err)
	}
	if err := ensureGzip(name, head); err != nil {
		return nil, err
	}
	return loadRootArchive(f, b, func(err error) error {
		return fmt.Errorf("file '%s' does not appear to be a valid chart file (details: %w)", name, err)
	})
}

// ensureGzip sniffs the first 512 bytes of a file, zero-padded as Helm reads them.
func ensureGzip(name string, head []byte) error {
	contentType := http.DetectContentType(head)
	if contentType == "application/x-gzip" || bytes.HasPrefix(head, []byte("\x1F\x8B\x08")) {
		return nil
	}
	if strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml") {
		return fmt.Errorf("file '%s' seems to be a YAML file, but expected a gzipped archive", name)
	}
	return fmt.Errorf("file '%s' does not appear to be a gzipped archive; got '%s'", name, contentType)
}

// checkAPIVersion reads only Chart.yaml's apiVersion and refuses what Helm v4 refuses: anything
// but "", "v1" and "v2". Like Helm, only the root chart is checked; subcharts load as v2.
func checkAPIVersion(chartYAML []byte) error {
	var head struct {
		APIVersion string `json:"apiVersion,omitempty"`
	}
	if err := yaml.Unmarshal(chartYAML, &head); err != nil {
		return fmt.Errorf("cannot load Chart.yaml: %w", err)
	}
	switch head.APIVersion {
	case "", APIVersionV1, APIVersionV2:
		return nil
	}
	return ErrUnsupportedAPIVersion
}

// loadFiles builds a chart from its files, as Helm's LoadFiles does: Chart.yaml first, then every
// other file placed by its path, then the subchart units under charts/, each loaded in turn.
func loadFiles(files []*bufferedFile, b *budget, depth int) (*Chart, error) {
	c := &Chart{}
	if f := findFile(files, chartFileName); f != nil {
		c.Metadata = &Metadata{}
		if err := yaml.Unmarshal(f.Data, c.Metadata); err != nil {
			return nil, fmt.Errorf("cannot load Chart.yaml: %w", err)
		}
		if c.Metadata.APIVersion == "" {
			c.Metadata.APIVersion = APIVersionV1
		}
	}
	units, err := placeFiles(c, files)
	if err != nil {
		return nil, err
	}
	if c.Metadata == nil {
		return nil, errors.New("Chart.yaml file is missing") //nolint:staticcheck // Helm's exact text.
	}
	if err := c.Metadata.Validate(); err != nil {
		return nil, err
	}
	if err := loadSubcharts(c, units, b, depth); err != nil {
		return nil, err
	}
	return c, nil
}

// placeFiles sorts every file but Chart.yaml into the chart, and returns the files under charts/
// grouped by their unit (first segment below charts/), named relative to charts/.
func placeFiles(c *Chart, files []*bufferedFile) (map[string][]*bufferedFile, error) {
	units := map[string][]*bufferedFile{}
	for _, f := range files {
		switch {
		case f.Name == chartFileName:
		case strings.HasPrefix(f.Name, templatesPrefix):
			c.Templates = append(c.Templates, &File{Name: f.Name, Data: f.Data})
		case strings.HasPrefix(f.Name, chartsPrefix) && path.Ext(f.Name) != provenanceFileExt:
			rel := strings.TrimPrefix(f.Name, chartsPrefix)
			unit, _, _ := strings.Cut(rel, "/")
			units[unit] = append(units[unit], &bufferedFile{Name: rel, Data: f.Data})
		default:
			if err := placeSpecialFile(c, f); err != nil {
				return nil, err
			}
		}
	}
	return units, nil
}

// placeSpecialFile handles the files at the chart root that do not go to .Files as they are.
func placeSpecialFile(c *Chart, f *bufferedFile) error {
	switch f.Name {
	case lockFileName:
		return loadLock(c, f, "Chart.lock")
	case valuesFileName:
		values, err := readValues(f.Data)
		if err != nil {
			return fmt.Errorf("cannot load values.yaml: %w", err)
		}
		c.Values, c.RawValues = values, f.Data
		if c.RawValues == nil {
			c.RawValues = []byte{}
		}
	case schemaFileName:
		c.Schema = f.Data
	case requirementsName:
		return loadRequirements(c, f)
	case requirementsLock:
		return loadLock(c, f, requirementsLock)
	default:
		c.Files = append(c.Files, &File{Name: f.Name, Data: f.Data})
	}
	return nil
}

// loadRequirements reads a Helm 2 requirements.yaml into the same Metadata, so its dependencies
// replace Chart.yaml's, exactly as in Helm (which also prints a warning for v2 charts; a pure
// loader has nowhere to print it). For v1 charts the file also stays in .Files.
func loadRequirements(c *Chart, f *bufferedFile) error {
	if c.Metadata == nil {
		c.Metadata = &Metadata{}
	}
	if err := yaml.Unmarshal(f.Data, c.Metadata); err != nil {
		return fmt.Errorf("cannot load requirements.yaml: %w", err)
	}
	if c.Metadata.APIVersion == APIVersionV1 {
		c.Files = append(c.Files, &File{Name: f.Name, Data: f.Data})
	}
	return nil
}

// loadLock reads Chart.lock, or requirements.lock, which v1 charts also expose in .Files.
func loadLock(c *Chart, f *bufferedFile, what string) error {
	c.Lock = &Lock{}
	if err := yaml.Unmarshal(f.Data, c.Lock); err != nil {
		return fmt.Errorf("cannot load %s: %w", what, err)
	}
	if f.Name != requirementsLock {
		return nil
	}
	if c.Metadata == nil {
		c.Metadata = &Metadata{}
	}
	if c.Metadata.APIVersion == APIVersionV1 {
		c.Files = append(c.Files, &File{Name: f.Name, Data: f.Data})
	}
	return nil
}

// loadSubcharts loads each unit under charts/ in name order. Units starting with '_' or '.' are
// skipped, "<x>.tgz" units are archives, everything else is an unpacked chart directory.
func loadSubcharts(c *Chart, units map[string][]*bufferedFile, b *budget, depth int) error {
	names := make([]string, 0, len(units))
	for n := range units {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasPrefix(n, "_") || strings.HasPrefix(n, ".") {
			continue
		}
		if depth >= MaxSubchartDepth {
			return errorOf(ErrLimitExceeded, "chart %s nests subcharts deeper than %d levels", c.Name(), MaxSubchartDepth)
		}
		files := units[n]
		if path.Ext(n) == archiveExtension && files[0].Name != n {
			return fmt.Errorf("error unpacking subchart tar in %s: expected %s, got %s", c.Name(), n, files[0].Name)
		}
		sc, err := loadUnit(n, files, b, depth+1)
		if err != nil {
			return fmt.Errorf("error unpacking subchart %s in %s: %w", n, c.Name(), err)
		}
		c.AddDependency(sc)
	}
	return nil
}

// loadUnit loads one subchart unit: an archive, or the files of an unpacked chart directory.
func loadUnit(unit string, files []*bufferedFile, b *budget, depth int) (*Chart, error) {
	if path.Ext(unit) == archiveExtension {
		inner, err := readArchive(bytes.NewReader(files[0].Data), b)
		if err != nil {
			return nil, err
		}
		return loadFiles(inner, b, depth)
	}
	inner := make([]*bufferedFile, 0, len(files))
	for _, f := range files {
		_, rel, ok := strings.Cut(f.Name, "/")
		if !ok {
			continue
		}
		inner = append(inner, &bufferedFile{Name: rel, Data: f.Data})
	}
	return loadFiles(inner, b, depth)
}
