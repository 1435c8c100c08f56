package image

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	. "github.com/onsi/gomega"
)

func TestTag(t *testing.T) {
	cases := map[string]struct{ version, want string }{
		"a release version is its own tag":            {"v0.1.0", "v0.1.0"},
		"git describe output is a valid tag":          {"v0.1.0-3-g6b5f1c3-dirty", "v0.1.0-3-g6b5f1c3-dirty"},
		"build metadata's + becomes _ as helm writes": {"0.1.0+build.7", "0.1.0_build.7"},
		"a leading dot is not allowed":                {".x", "v.x"},
		"other characters become _":                   {"a/b c", "a_b_c"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(Tag(tc.version)).To(Equal(tc.want))
		})
	}
}

func TestBuild_validate(t *testing.T) {
	good := Build{ModuleDir: ".", Platforms: Platforms, Version: "v1", Commit: "abc", Created: time.Unix(1, 0), WorkDir: "w"}
	cases := map[string]struct {
		change func(*Build)
		want   string
	}{
		"no version":             {func(b *Build) { b.Version = "" }, "the version and the commit must be set"},
		"no creation time":       {func(b *Build) { b.Created = time.Time{} }, "no creation time"},
		"no platforms":           {func(b *Build) { b.Platforms = nil }, "no platforms"},
		"a platform not linux":   {func(b *Build) { b.Platforms = []v1.Platform{{OS: "darwin", Architecture: "arm64"}} }, `platform "darwin/arm64"`},
		"no directory for files": {func(b *Build) { b.WorkDir = "" }, "no work directory"},
	}
	NewWithT(t).Expect(good.validate()).To(Succeed())
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := good
			tc.change(&b)
			err := b.validate()
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tc.want)))
			NewWithT(t).Expect(err).To(MatchError(errInvalid))
		})
	}
}

// TestPlatformImage_reproducible assembles the same binary twice and checks the digests match
// and change with the timestamp: the image depends only on its inputs and the commit date.
func TestPlatformImage_reproducible(t *testing.T) {
	g := NewWithT(t)
	binary := filepath.Join(t.TempDir(), "manager")
	g.Expect(os.WriteFile(binary, []byte("not really a program"), 0o755)).To(Succeed())
	digest := func(created time.Time) v1.Hash {
		b := Build{Version: "v1", Commit: "abc", Created: created, Source: "https://example.com/capstan"}
		entries, err := baseEntries()
		g.Expect(err).NotTo(HaveOccurred())
		base, err := layer(entries, created)
		g.Expect(err).NotTo(HaveOccurred())
		img, err := b.platformImage(Manager, Platforms[1], base, binary)
		g.Expect(err).NotTo(HaveOccurred())
		d, err := img.Digest()
		g.Expect(err).NotTo(HaveOccurred())
		return d
	}
	first := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	g.Expect(digest(first)).To(Equal(digest(first)))
	g.Expect(digest(first)).NotTo(Equal(digest(first.Add(time.Second))))
}

// TestCABundle_onlyUnconstrainedRoots checks the CA bundle holds the fallback module's roots
// that carry no extra constraint, and none of those that do.
func TestCABundle_onlyUnconstrainedRoots(t *testing.T) {
	g := NewWithT(t)
	data, err := caBundle()
	g.Expect(err).NotTo(HaveOccurred())
	entries, err := baseEntries()
	g.Expect(err).NotTo(HaveOccurred())
	var inBase []byte
	for _, e := range entries {
		if e.name == CABundlePath {
			inBase = e.data
		}
	}
	g.Expect(inBase).To(Equal(data))
	g.Expect(string(data)).To(HavePrefix("-----BEGIN CERTIFICATE-----\n"))
	g.Expect(len(data)).To(BeNumerically(">", 100_000))
}

// TestSBOM_describesTheBinary reads this test binary's own build information, as the SBOM of an
// image reads the program's, and checks the SPDX document's required fields and relationships.
func TestSBOM_describesTheBinary(t *testing.T) {
	g := NewWithT(t)
	self, err := os.Executable()
	g.Expect(err).NotTo(HaveOccurred())
	created := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	in := sbomInput{image: "capstan", version: "v1.2.3", platform: runtime.GOOS + "/" + runtime.GOARCH, binary: self,
		inImage: "/manager", created: created, source: "https://github.com/capstan-dev/capstan",
		caModule: debug.Module{Path: caModulePath, Version: "v0.0.0-test"}}
	data, err := sbom(in)
	g.Expect(err).NotTo(HaveOccurred())
	again, err := sbom(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(data), "the same binary gives the same document")

	var doc spdxDocument
	g.Expect(json.Unmarshal(data, &doc)).To(Succeed())
	g.Expect(doc.SPDXVersion).To(Equal("SPDX-2.3"))
	g.Expect(doc.DataLicense).To(Equal("CC0-1.0"))
	g.Expect(doc.CreationInfo.Created).To(Equal("2026-12-07T06:00:00Z"))
	g.Expect(doc.DocumentDescribes).To(ConsistOf("SPDXRef-Package-main", "SPDXRef-Package-ca-certificates"))
	ids := map[string]spdxPackage{}
	for _, p := range doc.Packages {
		g.Expect(ids).NotTo(HaveKey(p.SPDXID), "SPDX ids are unique")
		ids[p.SPDXID] = p
		g.Expect(p.DownloadLocation).NotTo(BeEmpty())
		g.Expect(p.LicenseConcluded).To(Equal("NOASSERTION"))
		g.Expect(p.CopyrightText).To(Equal("NOASSERTION"))
	}
	main := ids["SPDXRef-Package-main"]
	g.Expect(main.VersionInfo).To(Equal("v1.2.3"))
	g.Expect(main.Checksums).To(HaveLen(1))
	g.Expect(main.Checksums[0].ChecksumValue).To(HaveLen(64))
	g.Expect(ids["SPDXRef-Package-ca-certificates"].ExternalRefs[0].ReferenceLocator).To(
		Equal("pkg:golang/golang.org/x/crypto/x509roots/fallback@v0.0.0-test"))
	for _, r := range doc.Relationships {
		g.Expect(ids).To(HaveKey(r.RelatedSPDXElement), "relationship %v points at a package", r)
	}
	g.Expect(len(doc.Relationships)).To(Equal(len(doc.Packages)), "each package is described or depended on once")
}

func TestPurl(t *testing.T) {
	cases := map[string]struct{ path, version, want string }{
		"a module keeps its case":          {"github.com/BurntSushi/toml", "v1.6.0", "pkg:golang/github.com/BurntSushi/toml@v1.6.0"},
		"+incompatible is escaped":         {"github.com/docker/cli", "v29.7.2+incompatible", "pkg:golang/github.com/docker/cli@v29.7.2%2Bincompatible"},
		"the standard library":             {"stdlib", "go1.26.8", "pkg:golang/stdlib@go1.26.8"},
		"characters outside the set are %": {"example.com/a b", "v1", "pkg:golang/example.com/a%20b@v1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(purl(tc.path, tc.version).ReferenceLocator).To(Equal(tc.want))
		})
	}
}
