package chart

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"
)

// DefaultModTime is the modification time Archive writes on every entry. A fixed time makes
// packaging reproducible: the same chart always gives the same bytes.
var DefaultModTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// PackageOptions tunes Package.
type PackageOptions struct {
	// Version, when set, replaces the chart's version (it must be semver).
	Version string
	// AppVersion, when set, replaces the chart's appVersion.
	AppVersion string
	// Limits bound the load of the chart directory.
	Limits Limits
	// ModTime is written on every entry; zero means DefaultModTime.
	ModTime time.Time
}

// Package loads the chart directory dir (with .helmignore applied), applies the version
// overrides, checks that declared dependencies are present in charts/, and writes
// "<name>-<version>.tgz" into outDir, creating it if needed. It returns the archive's path.
// The archive is written to a temporary file and renamed, so a failure leaves nothing behind.
func Package(dir, outDir string, opts PackageOptions) (string, error) {
	c, err := LoadDir(dir, opts.Limits)
	if err != nil {
		return "", err
	}
	if opts.Version != "" {
		c.Metadata.Version = opts.Version
	}
	if _, err := semver.NewVersion(c.Metadata.Version); err != nil {
		return "", fmt.Errorf("invalid version %q: %w", c.Metadata.Version, err)
	}
	if opts.AppVersion != "" {
		c.Metadata.AppVersion = opts.AppVersion
	}
	if missing := missingDependencies(c); len(missing) > 0 {
		return "", errorOf(ErrMissingDependencies, "found in Chart.yaml, but missing in charts/ directory: %s", strings.Join(missing, ", "))
	}
	if opts.ModTime.IsZero() {
		opts.ModTime = DefaultModTime
	}
	return writePackage(c, outDir, opts.ModTime)
}

func writePackage(c *Chart, outDir string, modTime time.Time) (string, error) {
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		return "", err
	}
	target := filepath.Join(outDir, fmt.Sprintf("%s-%s.tgz", c.Name(), c.Metadata.Version))
	tmp, err := os.CreateTemp(outDir, ".capstan-package-*")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := writeArchive(tmp, c, modTime); err != nil {
		_ = tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { //nolint:gosec // A chart archive is meant to be shared.
		return "", err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return "", err
	}
	return target, nil
}

// Archive validates c and writes it as a gzipped tar whose entries are "<name>/...", loadable
// by Helm and by Load. Chart.yaml is written from Metadata (as Helm does, so comments and unknown
// keys are not kept), subcharts are written unpacked under charts/<name>/, and entries are sorted
// the way a directory walk lists them, each with DefaultModTime.
func Archive(w io.Writer, c *Chart) error {
	return writeArchive(w, c, DefaultModTime)
}

func writeArchive(w io.Writer, c *Chart, modTime time.Time) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("chart validation: %w", err)
	}
	entries, err := chartEntries(c, "")
	if err != nil {
		return err
	}
	slices.SortFunc(entries, func(a, b *File) int { return compareWalkOrder(a.Name, b.Name) })
	for i := 1; i < len(entries); i++ {
		if entries[i].Name == entries[i-1].Name {
			return fmt.Errorf("cannot archive chart: %q would be written twice", entries[i].Name)
		}
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if err := writeEntry(tw, e, modTime); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeEntry(tw *tar.Writer, f *File, modTime time.Time) error {
	hd := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     f.Name,
		Mode:     0o644,
		Size:     int64(len(f.Data)),
		ModTime:  modTime.UTC().Truncate(time.Second),
	}
	if err := tw.WriteHeader(hd); err != nil {
		return err
	}
	_, err := tw.Write(f.Data)
	return err
}

// chartEntries lists the files of c and its subcharts under prefix, as they go into an archive.
func chartEntries(c *Chart, prefix string) ([]*File, error) {
	base := prefix + c.Name() + "/"
	entries, err := metadataEntries(c, base)
	if err != nil {
		return nil, err
	}
	for _, f := range slices.Concat(c.Templates, c.Files) {
		if err := checkArchiveName(f.Name); err != nil {
			return nil, err
		}
		entries = append(entries, &File{Name: base + f.Name, Data: f.Data})
	}
	for _, d := range c.dependencies {
		sub, err := chartEntries(d, base+chartsPrefix)
		if err != nil {
			return nil, err
		}
		entries = append(entries, sub...)
	}
	return entries, nil
}

// metadataEntries renders Chart.yaml, Chart.lock (v2 only), values.yaml and values.schema.json.
func metadataEntries(c *Chart, base string) ([]*File, error) {
	md := *c.Metadata
	if md.APIVersion == APIVersionV1 {
		md.Dependencies = nil // They live in requirements.yaml, which is among the files.
	}
	chartYAML, err := yaml.Marshal(&md)
	if err != nil {
		return nil, err
	}
	entries := []*File{{Name: base + chartFileName, Data: chartYAML}}
	if c.Lock != nil && md.APIVersion == APIVersionV2 {
		lock, err := yaml.Marshal(c.Lock)
		if err != nil {
			return nil, err
		}
		entries = append(entries, &File{Name: base + lockFileName, Data: lock})
	}
	if c.RawValues != nil {
		entries = append(entries, &File{Name: base + valuesFileName, Data: c.RawValues})
	}
	if c.Schema != nil {
		if !json.Valid(c.Schema) {
			return nil, errors.New("invalid JSON in " + schemaFileName)
		}
		entries = append(entries, &File{Name: base + schemaFileName, Data: c.Schema})
	}
	return entries, nil
}

// checkArchiveName refuses a name that would not read back as the same relative path.
func checkArchiveName(name string) error {
	if name == "" || strings.Contains(name, `\`) || path.IsAbs(name) || path.Clean(name) != name ||
		name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("cannot archive chart: invalid file name %q", name)
	}
	return nil
}

// compareWalkOrder orders slash-separated paths segment by segment, which is the order a
// depth-first walk of sorted directories yields (so "a/b" comes before "a.txt").
func compareWalkOrder(a, b string) int {
	return slices.Compare(strings.Split(a, "/"), strings.Split(b, "/"))
}
