package image_test

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"debug/buildinfo"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/image"
	"github.com/capstan-dev/capstan/internal/testenv"
)

const (
	testVersion = "v9.8.7-imagetest"
	testCommit  = "0123abcdef0123abcdef0123abcdef0123abcdef"
	testSource  = "https://github.com/capstan-dev/capstan"
)

var testCreated = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)

func testBuild(t *testing.T, platforms []v1.Platform) image.Build {
	return image.Build{ModuleDir: testenv.RepoRoot(), Platforms: platforms, Version: testVersion, Commit: testCommit,
		BuildDate: "2026-12-07T06:00:00Z", Created: testCreated, Source: testSource, WorkDir: t.TempDir()}
}

// hostPlatform is the platform of the image whose binary this machine can run.
func hostPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: runtime.GOARCH} }

// TestImage_pushPullRun builds the manager image for linux/amd64 and linux/arm64 and the CLI image
// for the host's architecture, pushes both to an in-process registry, pulls them back and checks
// what a cluster and a scanner see: the index's platforms and annotations, each config (user,
// entrypoint, labels), the SPDX SBOM among each platform image's referrers, the files of the
// layers, and the extracted binary's version; then the same image written as an OCI layout.
func TestImage_pushPullRun(t *testing.T) {
	g := NewWithT(t)
	reg := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	prefix := strings.TrimPrefix(reg.URL, "http://") + "/capstan-dev"

	cases := map[string]struct {
		spec      image.Spec
		platforms []v1.Platform
		version   []string // the extracted binary's arguments to print its version
		want      string
	}{
		"the manager, multi-arch": {spec: image.Manager, platforms: image.Platforms, version: []string{"--version"},
			want: "capstan manager version " + testVersion + ", commit " + testCommit + ", built 2026-12-07T06:00:00Z"},
		"the CLI, for this machine": {spec: image.CLI, platforms: []v1.Platform{hostPlatform()}, version: []string{"version"},
			want: "Version:    " + testVersion + "\nCommit:     " + testCommit + "\n"},
	}
	for label, tc := range cases {
		t.Run(label, func(t *testing.T) {
			g := NewWithT(t)
			built, err := testBuild(t, tc.platforms).Image(t.Context(), tc.spec)
			g.Expect(err).NotTo(HaveOccurred())
			ref, err := built.Push(t.Context(), prefix, image.Tag(testVersion))
			g.Expect(err).NotTo(HaveOccurred())

			tagged, err := name.ParseReference(prefix + "/" + tc.spec.Name + ":" + testVersion)
			g.Expect(err).NotTo(HaveOccurred())
			idx, err := remote.Index(tagged)
			g.Expect(err).NotTo(HaveOccurred())
			digest, err := idx.Digest()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(digest.String()).To(Equal(ref.DigestStr()), "the tag names the index Push returned")
			manifest, err := idx.IndexManifest()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(manifest.Annotations).To(HaveKeyWithValue(image.LabelVersion, testVersion))
			g.Expect(manifest.Annotations).To(HaveKeyWithValue(image.LabelRevision, testCommit))
			var platforms []string
			for _, d := range manifest.Manifests {
				platforms = append(platforms, d.Platform.String())
			}
			var want []string
			for _, p := range tc.platforms {
				want = append(want, p.String())
			}
			g.Expect(platforms).To(Equal(want))

			for _, d := range manifest.Manifests {
				img, err := remote.Image(ref.Context().Digest(d.Digest.String()))
				g.Expect(err).NotTo(HaveOccurred())
				checkConfig(t, img, tc.spec, *d.Platform)
				checkSBOM(t, ref.Context().Digest(d.Digest.String()), *d.Platform)
				binary := checkFiles(t, img, tc.spec)
				checkBinary(t, binary, *d.Platform, tc.version, tc.want)
			}
			checkReferrersTagFallback(t, built, manifest.Manifests[0].Digest)
			checkLayout(t, built)
		})
	}
	g.Expect(reg.URL).To(HavePrefix("http://127.0.0.1:"))
}

// checkReferrersTagFallback pushes the image to a registry without the referrers API and checks
// that its SBOM is still found, through the referrers tag (sha256-<digest>) the OCI distribution
// spec falls back to.
func checkReferrersTagFallback(t *testing.T, built *image.Image, platformDigest v1.Hash) {
	t.Helper()
	g := NewWithT(t)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	ref, err := built.Push(t.Context(), strings.TrimPrefix(reg.URL, "http://")+"/plain", image.Tag(testVersion))
	g.Expect(err).NotTo(HaveOccurred())
	fallback := ref.Context().Tag("sha256-" + platformDigest.Hex)
	_, err = remote.Head(fallback)
	g.Expect(err).NotTo(HaveOccurred(), "the referrers tag %s exists", fallback)
	referrers, err := remote.Referrers(ref.Context().Digest(platformDigest.String()))
	g.Expect(err).NotTo(HaveOccurred())
	list, err := referrers.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(list.Manifests).To(HaveLen(1))
	g.Expect(list.Manifests[0].ArtifactType).To(Equal(image.SPDXMediaType))
}

// checkConfig checks the platform image's config: the non-root user, the entrypoint, the
// platform, the timestamps and the OCI labels.
func checkConfig(t *testing.T, img v1.Image, spec image.Spec, p v1.Platform) {
	t.Helper()
	g := NewWithT(t)
	cfg, err := img.ConfigFile()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.OS + "/" + cfg.Architecture).To(Equal(p.String()))
	g.Expect(cfg.Config.User).To(Equal("65532:65532"))
	g.Expect(cfg.Config.Entrypoint).To(Equal([]string{spec.Path}))
	g.Expect(cfg.Config.Labels).To(Equal(map[string]string{
		"org.opencontainers.image.source":      testSource,
		"org.opencontainers.image.revision":    testCommit,
		"org.opencontainers.image.version":     testVersion,
		"org.opencontainers.image.created":     "2026-12-07T06:00:00Z",
		"org.opencontainers.image.title":       spec.Name,
		"org.opencontainers.image.description": spec.Description,
	}))
	g.Expect(cfg.Created.Time.Equal(testCreated)).To(BeTrue(), "config created %s", cfg.Created)
	g.Expect(cfg.History).To(HaveLen(2))
	g.Expect(cfg.RootFS.DiffIDs).To(HaveLen(2))
}

// checkSBOM finds the SPDX document among the referrers of the platform image and checks that it
// describes the binary and lists the modules linked into it.
func checkSBOM(t *testing.T, subject name.Digest, p v1.Platform) {
	t.Helper()
	g := NewWithT(t)
	referrers, err := remote.Referrers(subject)
	g.Expect(err).NotTo(HaveOccurred())
	list, err := referrers.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(list.Manifests).To(HaveLen(1), "one SBOM refers to %s", subject)
	// go-containerregistry's registry lists a referrer's config media type as its artifact type
	// (registries that follow OCI 1.1 list the manifest's artifactType), so the manifest is
	// checked instead.
	art, err := remote.Image(subject.Context().Digest(list.Manifests[0].Digest.String()))
	g.Expect(err).NotTo(HaveOccurred())
	m, err := art.Manifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(m.ArtifactType).To(Equal(image.SPDXMediaType))
	g.Expect(m.Subject).NotTo(BeNil())
	g.Expect(m.Subject.Digest.String()).To(Equal(subject.DigestStr()))
	g.Expect(string(m.Config.MediaType)).To(Equal("application/vnd.oci.empty.v1+json"))
	layers, err := art.Layers()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(layers).To(HaveLen(1))
	rc, err := layers[0].Compressed()
	g.Expect(err).NotTo(HaveOccurred())
	defer rc.Close()
	var doc struct {
		SPDXVersion       string `json:"spdxVersion"`
		Name              string `json:"name"`
		DocumentNamespace string `json:"documentNamespace"`
		Packages          []struct {
			Name         string `json:"name"`
			VersionInfo  string `json:"versionInfo"`
			ExternalRefs []struct {
				ReferenceLocator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	g.Expect(json.NewDecoder(rc).Decode(&doc)).To(Succeed())
	g.Expect(doc.SPDXVersion).To(Equal("SPDX-2.3"))
	g.Expect(doc.Name).To(HaveSuffix(testVersion + " " + p.String()))
	g.Expect(doc.DocumentNamespace).To(HavePrefix(testSource + "/spdx/"))
	versions := map[string]string{}
	purls := map[string]string{}
	for _, pkg := range doc.Packages {
		versions[pkg.Name] = pkg.VersionInfo
		if len(pkg.ExternalRefs) > 0 {
			purls[pkg.Name] = pkg.ExternalRefs[0].ReferenceLocator
		}
	}
	crVersion := goModVersion(t, "sigs.k8s.io/controller-runtime")
	g.Expect(versions).To(HaveKeyWithValue("sigs.k8s.io/controller-runtime", crVersion))
	g.Expect(purls).To(HaveKeyWithValue("sigs.k8s.io/controller-runtime", "pkg:golang/sigs.k8s.io/controller-runtime@"+crVersion))
	g.Expect(versions).To(HaveKeyWithValue("stdlib", runtime.Version()))
	g.Expect(versions).To(HaveKey("golang.org/x/crypto/x509roots/fallback"), "the CA bundle's source")
}

// goModVersion is the version go.mod requires of a module.
func goModVersion(t *testing.T, module string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("go.mod does not require %s", module)
	}
	return string(m[1])
}

// checkFiles reads the flattened file system of the image: the base (users, /tmp, CA bundle)
// and the binary, root-owned and not writable by the user the image runs as. It returns the
// binary's bytes.
func checkFiles(t *testing.T, img v1.Image, spec image.Spec) []byte {
	t.Helper()
	g := NewWithT(t)
	files := map[string]*tar.Header{}
	contents := map[string][]byte{}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		g.Expect(err).NotTo(HaveOccurred())
		hdr.Name = strings.TrimSuffix(hdr.Name, "/") // mutate.Extract cleans directory names
		files[hdr.Name] = hdr
		g.Expect(hdr.ModTime.Equal(testCreated)).To(BeTrue(), "%s has the fixed timestamp", hdr.Name)
		data, err := io.ReadAll(tr)
		g.Expect(err).NotTo(HaveOccurred())
		contents[hdr.Name] = data
	}
	g.Expect(files).To(HaveKey("tmp"))
	g.Expect(files["tmp"].Mode).To(Equal(int64(0o1777)))
	g.Expect(files).To(HaveKey("home/nonroot"))
	g.Expect(files["home/nonroot"].Uid).To(Equal(65532))
	g.Expect(string(contents["etc/passwd"])).To(ContainSubstring("nonroot:x:65532:65532:"))
	g.Expect(string(contents["etc/group"])).To(ContainSubstring("nonroot:x:65532:"))
	roots := x509.NewCertPool()
	g.Expect(roots.AppendCertsFromPEM(contents["etc/ssl/certs/ca-certificates.crt"])).To(BeTrue())
	g.Expect(countCerts(contents["etc/ssl/certs/ca-certificates.crt"])).To(BeNumerically(">", 100))
	bin := strings.TrimPrefix(spec.Path, "/")
	g.Expect(files).To(HaveKey(bin))
	g.Expect(files[bin].Mode).To(Equal(int64(0o755)))
	g.Expect(files[bin].Uid).To(Equal(0))
	return contents[bin]
}

func countCerts(data []byte) int {
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return n
		}
		n++
	}
}

// checkBinary checks the extracted binary: static, for the image's platform, stamped with the
// version and commit; on the machine's own platform it runs it.
func checkBinary(t *testing.T, data []byte, p v1.Platform, args []string, want string) {
	t.Helper()
	g := NewWithT(t)
	path := filepath.Join(t.TempDir(), "binary")
	g.Expect(os.WriteFile(path, data, 0o755)).To(Succeed())
	bi, err := buildinfo.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	g.Expect(settings).To(HaveKeyWithValue("GOOS", p.OS))
	g.Expect(settings).To(HaveKeyWithValue("GOARCH", p.Architecture))
	g.Expect(settings).To(HaveKeyWithValue("CGO_ENABLED", "0"))
	g.Expect(settings).To(HaveKeyWithValue("-trimpath", "true"))
	// -trimpath leaves -ldflags out of the build settings; the stamped strings are in the binary.
	g.Expect(bytes.Contains(data, []byte(testVersion))).To(BeTrue(), "%s: the version is stamped", p.String())
	g.Expect(bytes.Contains(data, []byte(testCommit))).To(BeTrue(), "%s: the commit is stamped", p.String())
	if runtime.GOOS != p.OS || runtime.GOARCH != p.Architecture {
		return
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(ContainSubstring(want))
}

// checkLayout writes the image as the OCI layout `make image` leaves under bin/image and reads it
// back: the index named by its tag, and one SBOM artifact per platform image, each naming its
// subject, with every blob present.
func checkLayout(t *testing.T, built *image.Image) {
	t.Helper()
	g := NewWithT(t)
	dir := filepath.Join(t.TempDir(), built.Spec.Name)
	digest, err := built.WriteLayout(dir, image.Tag(testVersion))
	g.Expect(err).NotTo(HaveOccurred())

	root, err := layout.ImageIndexFromPath(dir)
	g.Expect(err).NotTo(HaveOccurred())
	list, err := root.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(list.Manifests[0].Digest).To(Equal(digest))
	g.Expect(list.Manifests[0].Annotations).To(HaveKeyWithValue("org.opencontainers.image.ref.name", testVersion))
	idx, err := root.ImageIndex(digest)
	g.Expect(err).NotTo(HaveOccurred())
	platforms, err := idx.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(list.Manifests).To(HaveLen(1+len(platforms.Manifests)), "the index and one SBOM per platform")
	for i, p := range platforms.Manifests {
		sbom := list.Manifests[1+i]
		g.Expect(sbom.ArtifactType).To(Equal(image.SPDXMediaType))
		art, err := root.Image(sbom.Digest)
		g.Expect(err).NotTo(HaveOccurred())
		m, err := art.Manifest()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(m.Subject).NotTo(BeNil())
		g.Expect(m.Subject.Digest).To(Equal(p.Digest))
		img, err := idx.Image(p.Digest)
		g.Expect(err).NotTo(HaveOccurred())
		layers, err := img.Layers()
		g.Expect(err).NotTo(HaveOccurred())
		for _, l := range layers {
			rc, err := l.Compressed()
			g.Expect(err).NotTo(HaveOccurred())
			_, err = io.Copy(io.Discard, rc)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(rc.Close()).To(Succeed())
		}
	}
}
