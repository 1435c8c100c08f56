package repo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	yaml "go.yaml.in/yaml/v3"
)

// DefaultMaxIndexSize is the index size limit used when none is configured: 50 MiB.
const DefaultMaxIndexSize int64 = 50 << 20

// maxWarnings caps the warnings kept per index, so a hostile index cannot grow them unbounded.
const maxWarnings = 100

// ParseIndex reads an index.yaml (or its JSON form) of at most limit bytes (DefaultMaxIndexSize
// when limit <= 0) and returns its compact form. Like Helm it parses JSON when the bytes are
// valid JSON and strict YAML otherwise, skips null or invalid entries (returning one warning
// each), sorts each chart's versions newest first, and rejects an empty index or one without
// apiVersion. Reading stops at limit+1 bytes, so an endless stream costs at most the limit.
func ParseIndex(r io.Reader, limit int64) (*Index, []string, error) {
	if limit <= 0 {
		limit = DefaultMaxIndexSize
	}
	var hint int64
	if l, ok := r.(interface{ Len() int }); ok { // bytes.Reader, strings.Reader, bytes.Buffer
		hint = int64(l.Len())
	}
	data, err := readLimitedHint(r, limit, hint)
	if err != nil {
		return nil, nil, fmt.Errorf("read index: %w", err)
	}
	return parseIndexBytes(data)
}

// readLimited reads all of r but fails as soon as it has seen more than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	return readLimitedHint(r, limit, 0)
}

// readLimitedHint is readLimited with the expected size, when known (a Content-Length), so the
// buffer is allocated once instead of doubling its way up.
func readLimitedHint(r io.Reader, limit, hint int64) ([]byte, error) {
	var buf bytes.Buffer
	if hint > 0 && hint <= limit {
		buf.Grow(int(hint) + bytes.MinRead)
	}
	n, err := io.Copy(&buf, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, newError(ErrTooLarge, "larger than the limit of %d bytes", limit)
	}
	return buf.Bytes(), nil
}

func parseIndexBytes(data []byte) (*Index, []string, error) {
	if len(data) == 0 {
		return nil, nil, ErrEmptyIndex
	}
	raw, err := decodeIndex(data)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(data)
	idx := &Index{
		APIVersion: sanitize(string(raw.APIVersion)),
		Generated:  raw.Generated.Time,
		Digest:     "sha256:" + hex.EncodeToString(sum[:]),
		Size:       int64(len(data)),
		entries:    make(map[string][]*ChartVersion, len(raw.Entries)),
	}
	w := &warner{}
	for name, list := range raw.Entries {
		if vs := compactVersions(name, list, w); len(vs) > 0 {
			idx.entries[name] = vs
			idx.versions += len(vs)
		}
	}
	idx.warnings = w.list()
	if idx.APIVersion == "" {
		return nil, idx.warnings, ErrNoAPIVersion
	}
	return idx, idx.warnings, nil
}

func decodeIndex(data []byte) (*rawIndex, error) {
	raw := &rawIndex{}
	if json.Valid(data) {
		if err := json.Unmarshal(data, raw); err != nil {
			return nil, newError(ErrInvalidIndex, "parse index JSON: %v", err)
		}
		return raw, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, newError(ErrInvalidIndex, "parse index YAML: %s", truncate(err.Error(), 512))
	}
	return raw, nil
}

// compactVersions validates and converts one chart's entries, newest first.
func compactVersions(name string, list []*rawEntry, w *warner) []*ChartVersion {
	out := make([]*ChartVersion, 0, len(list))
	for _, e := range list {
		if e == nil {
			w.add(fmt.Sprintf("skipping loading invalid entry for chart %q from index: empty entry", truncate(name, 64)))
			continue
		}
		cv, err := compactEntry(name, e)
		if err != nil {
			w.add(fmt.Sprintf("skipping loading invalid entry for chart %q %q from index: %v",
				truncate(name, 64), truncate(string(e.Version), 64), err))
			continue
		}
		out = append(out, cv)
	}
	sortNewestFirst(out)
	return out
}

func compactEntry(key string, e *rawEntry) (*ChartVersion, error) {
	m := &metaCheck{
		APIVersion: intern(sanitize(string(e.APIVersion))),
		Name:       sanitize(string(e.Name)),
		Version:    sanitize(string(e.Version)),
		Type:       intern(sanitize(string(e.Type))),
	}
	if m.APIVersion == "" {
		m.APIVersion = "v1"
	}
	for _, mt := range e.Maintainers {
		m.NilMaintainer = m.NilMaintainer || mt == nil
	}
	for _, d := range e.Dependencies {
		if d == nil {
			m.NilDependency = true
			continue
		}
		m.DependencyNames = append(m.DependencyNames, sanitize(string(d.Name)))
		m.Aliases = append(m.Aliases, sanitize(string(d.Alias)))
	}
	if err := validateMetadata(m); err != nil && !errors.Is(err, errDuplicateDependency) {
		return nil, err
	}
	return newChartVersion(key, m, e), nil
}

func newChartVersion(key string, m *metaCheck, e *rawEntry) *ChartVersion {
	name := m.Name
	if name == key {
		name = key // share the map key's bytes instead of holding a second copy.
	}
	sv, _ := semver.NewVersion(m.Version) // validateMetadata has parsed it already.
	cv := &ChartVersion{
		Name:       name,
		Version:    m.Version,
		AppVersion: sanitize(string(e.AppVersion)),
		APIVersion: m.APIVersion,
		Type:       m.Type,
		Digest:     normalizeDigest(string(e.Digest)),
		Created:    e.Created.Time,
		Deprecated: e.Deprecated,
		semver:     sv,
	}
	if len(e.URLs) > 0 {
		cv.URLs = make([]string, len(e.URLs))
		for k, u := range e.URLs {
			cv.URLs[k] = string(u)
		}
	}
	return cv
}

// normalizeDigest lower-cases a hex digest and drops an optional "sha256:" prefix.
func normalizeDigest(d string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "sha256:")
}

// intern returns a shared copy of the few strings that repeat in every entry.
func intern(s string) string {
	switch s {
	case "v1":
		return "v1"
	case "v2":
		return "v2"
	case "v3":
		return "v3"
	case "application":
		return "application"
	case "library":
		return "library"
	}
	return s
}

// sortNewestFirst orders versions by semver, newest first; equal versions keep their order.
func sortNewestFirst(vs []*ChartVersion) {
	slices.SortStableFunc(vs, func(a, b *ChartVersion) int {
		switch {
		case a.semver == nil && b.semver == nil:
			return 0
		case a.semver == nil:
			return 1
		case b.semver == nil:
			return -1
		}
		return b.semver.Compare(a.semver)
	})
}

// warner collects at most maxWarnings messages and counts the rest.
type warner struct {
	msgs    []string
	dropped int
}

func (w *warner) add(msg string) {
	if len(w.msgs) >= maxWarnings {
		w.dropped++
		return
	}
	w.msgs = append(w.msgs, msg)
}

func (w *warner) list() []string {
	if w.dropped > 0 {
		return append(w.msgs, fmt.Sprintf("%d more invalid entries skipped", w.dropped))
	}
	return w.msgs
}
