package repo

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseIndex feeds arbitrary bytes to the index parser. Beyond not panicking, every entry it
// keeps must be a valid, sanitised Helm entry, each chart's versions must be sorted newest
// first, the statistics must add up, and a failure must be one of the documented classes.
func FuzzParseIndex(f *testing.F) {
	for _, seed := range []string{
		goodIndex,
		"",
		"apiVersion: v1\n",
		"apiVersion: v1\nentries:\n  a:\n  - null\n  - name: a\n    version: 1.0.0\n",
		"apiVersion: v1\nentries:\n  a:\n  - name: ../x\n    version: 1.0.0\n  - name: a\n    version: one\n",
		`{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0","urls":["x"]}]}}`,
		"apiVersion: v1\nserverInfo: &a [*a]\n",
		"apiVersion: v1\nentries:\n  a:\n  - name: \"a\\tb\"\n    version: 1.10\n    dependencies: [{name: b, alias: c}, {name: c}]\n",
		"apiVersion: v1\nentries:\n  a: &l\n  - name: a\n    version: 1.0.0\n  b: *l\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, warnings, err := ParseIndex(bytes.NewReader(data), 1<<20)
		if err != nil {
			checkParseError(t, err)
			return
		}
		if len(warnings) > maxWarnings+1 {
			t.Fatalf("%d warnings, more than the cap", len(warnings))
		}
		checkIndex(t, idx, len(data))
	})
}

func checkParseError(t *testing.T, err error) {
	for _, class := range []error{ErrEmptyIndex, ErrNoAPIVersion, ErrInvalidIndex, ErrTooLarge} {
		if errors.Is(err, class) {
			return
		}
	}
	t.Fatalf("unclassified error: %v", err)
}

func checkIndex(t *testing.T, idx *Index, size int) {
	if idx.Size != int64(size) || idx.APIVersion == "" {
		t.Fatalf("size %d for %d bytes, apiVersion %q", idx.Size, size, idx.APIVersion)
	}
	total := 0
	for _, name := range idx.Charts() {
		vs := idx.Versions(name)
		if len(vs) == 0 {
			t.Fatalf("chart %q kept with no versions", name)
		}
		for k, cv := range vs {
			m := &metaCheck{APIVersion: cv.APIVersion, Name: cv.Name, Version: cv.Version, Type: cv.Type}
			if err := validateMetadata(m); err != nil || sanitize(cv.Name) != cv.Name || cv.semver == nil {
				t.Fatalf("kept an invalid entry %q %q: %v", cv.Name, cv.Version, err)
			}
			if k > 0 && vs[k-1].semver.LessThan(cv.semver) {
				t.Fatalf("%q sorted before the newer %q", vs[k-1].Version, cv.Version)
			}
		}
		total += len(vs)
	}
	if s := idx.Stats(); s.Versions != total || s.Charts != len(idx.Charts()) {
		t.Fatalf("stats %+v disagree with %d versions", s, total)
	}
}
