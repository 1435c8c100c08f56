package repo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/chart"
)

// indexEntry is one generated index entry: Chart.yaml's metadata inline, plus the index fields.
type indexEntry struct {
	*chart.Metadata
	URLs    []string  `json:"urls"`
	Created time.Time `json:"created"`
	Digest  string    `json:"digest"`
}

// indexFile is the document written: Helm's field names, which sigs.k8s.io/yaml sorts as Helm's
// writer does.
type indexFile struct {
	APIVersion string           `json:"apiVersion"`
	Entries    map[string][]any `json:"entries"`
	Generated  time.Time        `json:"generated"`
}

// sortable pairs an entry with its parsed version, for Helm's newest-first order.
type sortable struct {
	version *semver.Version
	entry   any
}

// IndexDirectory builds the index.yaml of the chart archives in dir (dir/*.tgz and
// dir/*/*.tgz, as `helm repo index` finds them). Each archive is loaded with the chart loader
// and its limits; files that do not load are not charts and are skipped, as Helm does. URLs are
// relative paths, or joined onto baseURL when given. When merge names an existing index, its
// entries whose name and version are not in dir are kept. Entries carry the sha256 of the
// archive as digest and the time of the run as created.
func IndexDirectory(dir, baseURL, merge string) ([]byte, error) {
	return indexDirectory(dir, baseURL, merge, time.Now())
}

func indexDirectory(dir, baseURL, merge string, now time.Time) ([]byte, error) {
	archives, err := findArchives(dir)
	if err != nil {
		return nil, err
	}
	entries := map[string][]sortable{}
	for _, rel := range archives {
		e, err := archiveEntry(dir, rel, baseURL, now)
		if err != nil {
			continue // not a chart, as Helm assumes
		}
		addEntry(entries, e.Name, e.Version, e)
	}
	if merge != "" {
		if err := mergeIndex(entries, merge); err != nil {
			return nil, err
		}
	}
	return yaml.Marshal(indexFile{APIVersion: "v1", Entries: sortEntries(entries), Generated: now})
}

func findArchives(dir string) ([]string, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	var out []string
	for _, pattern := range []string{"*.tgz", filepath.Join("*", "*.tgz")} {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			rel, err := filepath.Rel(dir, m)
			if err != nil {
				return nil, err
			}
			out = append(out, filepath.ToSlash(rel))
		}
	}
	slices.Sort(out)
	return out, nil
}

// archiveEntry loads one archive and describes it. rel is slash-separated, relative to dir.
func archiveEntry(dir, rel, baseURL string, now time.Time) (*indexEntry, error) {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	lim := chart.DefaultLimits()
	lim.MaxArchiveSize = max(lim.MaxArchiveSize, int64(len(data)))
	c, err := chart.LoadArchive(bytes.NewReader(data), lim)
	if err != nil {
		return nil, err
	}
	md := *c.Metadata
	if md.APIVersion == "" {
		md.APIVersion = chart.APIVersionV1
	}
	sum := sha256.Sum256(data)
	return &indexEntry{Metadata: &md, URLs: []string{joinURL(baseURL, rel)}, Created: now,
		Digest: hex.EncodeToString(sum[:])}, nil
}

// joinURL appends a relative archive path to baseURL's path; with no base the path stays relative.
func joinURL(baseURL, rel string) string {
	if baseURL == "" {
		return rel
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return path.Join(baseURL, rel)
	}
	u.Path = path.Join(u.Path, rel)
	return u.String()
}

// addEntry adds e unless name already has version (the first archive found wins).
func addEntry(entries map[string][]sortable, name, version string, e any) {
	sv, err := semver.NewVersion(version)
	if err != nil {
		return
	}
	for _, have := range entries[name] {
		if have.version.Original() == version {
			return
		}
	}
	entries[name] = append(entries[name], sortable{version: sv, entry: e})
}

func sortEntries(entries map[string][]sortable) map[string][]any {
	out := make(map[string][]any, len(entries))
	for name, list := range entries {
		slices.SortStableFunc(list, func(a, b sortable) int { return b.version.Compare(a.version) })
		out[name] = make([]any, len(list))
		for i, s := range list {
			out[name][i] = s.entry
		}
	}
	return out
}

// mergeIndex adds the entries of the index file at path that entries lacks. A missing file is
// an empty index. The file must parse as an index; its invalid entries are dropped.
func mergeIndex(entries map[string][]sortable, file string) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("merge failed: %w", err)
	}
	valid, _, err := ParseIndex(bytes.NewReader(data), int64(len(data))+1)
	if err != nil {
		return fmt.Errorf("merge failed: %s: %w", file, err)
	}
	var generic struct {
		Entries map[string][]map[string]any `json:"entries"`
	}
	if err := yaml.Unmarshal(data, &generic); err != nil {
		return fmt.Errorf("merge failed: %s: %w", file, err)
	}
	for name, list := range generic.Entries {
		keep := map[string]bool{}
		for _, cv := range valid.Versions(name) {
			keep[cv.Version] = true
		}
		for _, e := range list {
			if v := fmt.Sprint(e["version"]); e != nil && keep[v] {
				addEntry(entries, name, v, e)
			}
		}
	}
	return nil
}
