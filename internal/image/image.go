package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/capstan-dev/capstan/internal/version"
)

// The OCI labels (and annotations) every image and index carries.
const (
	LabelSource      = "org.opencontainers.image.source"
	LabelRevision    = "org.opencontainers.image.revision"
	LabelVersion     = "org.opencontainers.image.version"
	LabelCreated     = "org.opencontainers.image.created"
	LabelTitle       = "org.opencontainers.image.title"
	LabelDescription = "org.opencontainers.image.description"
)

// versionPkg is the package whose variables the linker stamps (internal/version).
const versionPkg = "github.com/capstan-dev/capstan/internal/version"

// caModulePath is the module the base layer's CA bundle comes from.
const caModulePath = "golang.org/x/crypto/x509roots/fallback"

// Spec is one image: the program it runs and the name it is published under.
type Spec struct {
	// Name is the repository name under the registry prefix (IMAGE_REPO).
	Name string
	// Package is the Go package of the program, relative to the module root.
	Package string
	// Path is where the program lives in the image; the image's entrypoint.
	Path string
	// Description is the image's description label.
	Description string
}

// Manager and CLI are the two images Capstan ships. The manager's path is the command
// config/manager runs.
var (
	Manager = Spec{Name: "capstan", Package: ".", Path: "/manager",
		Description: "Capstan's manager: Helm releases reconciled from inside the cluster"}
	CLI = Spec{Name: "capstan-cli", Package: "./cmd/capstan", Path: "/capstan",
		Description: "The capstan CLI: template, lint, package, and the release commands"}
)

// Platforms are the platforms a release image is built for.
var Platforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}

// Build is what every image of one build shares.
type Build struct {
	// ModuleDir is the root of Capstan's module.
	ModuleDir string
	// Go is the go command; "go" when empty.
	Go string
	// Platforms are the platforms of every index, in order.
	Platforms []v1.Platform
	// Version and Commit label the images and are stamped into the binaries.
	Version, Commit string
	// BuildDate is the build date stamped into the binaries.
	BuildDate string
	// Created is every timestamp of the images: layer entries, history, config, labels. The
	// commit's date makes a rebuild of the same commit give the same digests.
	Created time.Time
	// Source is the source repository's URL.
	Source string
	// WorkDir receives the compiled binaries, one directory per platform.
	WorkDir string
}

// Image is one built image: its multi-arch index and, for each platform image, the SBOM artifact
// that refers to it.
type Image struct {
	Spec  Spec
	Index v1.ImageIndex
	// SBOMs holds one OCI artifact per platform image, in the order of Build.Platforms; each
	// names its platform image as subject.
	SBOMs []v1.Image
	// Binaries are the compiled programs by platform ("linux/amd64").
	Binaries map[string]string
}

var errInvalid = errors.New("invalid image build")

// validate reports the first setting a build cannot do without.
func (b Build) validate() error {
	switch {
	case b.ModuleDir == "":
		return fmt.Errorf("%w: no module directory", errInvalid)
	case len(b.Platforms) == 0:
		return fmt.Errorf("%w: no platforms", errInvalid)
	case b.Version == "" || b.Commit == "":
		return fmt.Errorf("%w: the version and the commit must be set", errInvalid)
	case b.Created.IsZero():
		return fmt.Errorf("%w: no creation time (the commit date)", errInvalid)
	case b.WorkDir == "":
		return fmt.Errorf("%w: no work directory", errInvalid)
	}
	for _, p := range b.Platforms {
		if p.OS != "linux" || p.Architecture == "" {
			return fmt.Errorf("%w: platform %q: images are linux/<arch>", errInvalid, p.String())
		}
	}
	return nil
}

// Labels are the OCI labels of the spec's images, also the annotations of its manifests.
func (b Build) Labels(spec Spec) map[string]string {
	labels := map[string]string{
		LabelRevision: b.Commit, LabelVersion: b.Version, LabelCreated: b.Created.UTC().Format(time.RFC3339),
		LabelTitle: spec.Name, LabelDescription: spec.Description,
	}
	if b.Source != "" {
		labels[LabelSource] = b.Source
	}
	return labels
}

// Image compiles the spec's program for every platform and assembles its index and SBOMs.
func (b Build) Image(ctx context.Context, spec Spec) (*Image, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	base, err := baseEntries()
	if err != nil {
		return nil, err
	}
	baseLayer, err := layer(base, b.Created)
	if err != nil {
		return nil, err
	}
	ca, err := b.caModule(ctx)
	if err != nil {
		return nil, err
	}
	out := &Image{Spec: spec, Binaries: map[string]string{}}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range b.Platforms {
		binary, err := b.compile(ctx, spec, p)
		if err != nil {
			return nil, err
		}
		out.Binaries[p.String()] = binary
		img, desc, art, err := b.platformImageAndSBOM(spec, p, baseLayer, binary, ca)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: desc})
		out.SBOMs = append(out.SBOMs, art)
	}
	idxWithAnnotations, ok := mutate.Annotations(idx, b.Labels(spec)).(v1.ImageIndex)
	if !ok {
		return nil, fmt.Errorf("annotating the index of %s", spec.Name)
	}
	out.Index = idxWithAnnotations
	return out, nil
}

// platformImageAndSBOM assembles one platform's image from its binary, its descriptor for the
// index, and the SBOM artifact that refers to it.
func (b Build) platformImageAndSBOM(spec Spec, p v1.Platform, base v1.Layer, binary string, ca debug.Module) (v1.Image, v1.Descriptor, v1.Image, error) {
	img, err := b.platformImage(spec, p, base, binary)
	if err != nil {
		return nil, v1.Descriptor{}, nil, err
	}
	desc, err := describe(img)
	if err != nil {
		return nil, v1.Descriptor{}, nil, err
	}
	desc.Platform = &p
	doc, err := sbom(sbomInput{image: spec.Name, version: b.Version, platform: p.String(), binary: binary,
		inImage: spec.Path, created: b.Created, source: b.Source, caModule: ca})
	if err != nil {
		return nil, v1.Descriptor{}, nil, err
	}
	art, err := newSBOMArtifact(doc, desc, b.Created)
	if err != nil {
		return nil, v1.Descriptor{}, nil, err
	}
	return img, desc, art, nil
}

// compile builds the spec's program for one platform the way `make build` does (-trimpath, the
// version, commit and date stamped with -ldflags -X), statically (CGO_ENABLED=0).
func (b Build) compile(ctx context.Context, spec Spec, p v1.Platform) (string, error) {
	out := filepath.Join(b.WorkDir, p.OS+"-"+p.Architecture, filepath.Base(spec.Path))
	ldflags := fmt.Sprintf("-X %[1]s.version=%[2]s -X %[1]s.commit=%[3]s -X %[1]s.date=%[4]s", versionPkg, b.Version, b.Commit, b.BuildDate)
	// #nosec G204 -- the go command and a package of this module.
	cmd := exec.CommandContext(ctx, b.goCommand(), "build", "-trimpath", "-tags", version.BuildTags, "-ldflags", ldflags, "-o", out, spec.Package)
	cmd.Dir = b.ModuleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s for %s: %w\n%s", spec.Package, p.String(), err, output)
	}
	return out, nil
}

// platformImage is the base layer, a layer holding the binary at spec.Path (root-owned, 0755),
// and a config that runs it as the non-root user.
func (b Build) platformImage(spec Spec, p v1.Platform, base v1.Layer, binary string) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", binary, err)
	}
	binLayer, err := layer([]entry{{name: spec.Path[1:], mode: 0o755, data: data}}, b.Created)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: b.Created.UTC()}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: created,
			CreatedBy: "capstan imagebuild: base (nonroot user 65532, /tmp, /" + CABundlePath + ")"}},
		mutate.Addendum{Layer: binLayer, MediaType: types.OCILayer, History: v1.History{Created: created,
			CreatedBy: "capstan imagebuild: go build -trimpath " + spec.Package + " to " + spec.Path}})
	if err != nil {
		return nil, fmt.Errorf("assembling %s for %s: %w", spec.Name, p.String(), err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", spec.Name, err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = p.OS, p.Architecture, p.Variant
	cfg.Created = created
	cfg.Config = v1.Config{User: User, Entrypoint: []string{spec.Path}, WorkingDir: "/", Labels: b.Labels(spec)}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("writing the config of %s: %w", spec.Name, err)
	}
	annotated, ok := mutate.Annotations(img, b.Labels(spec)).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("annotating %s", spec.Name)
	}
	return annotated, nil
}

// caModule is the CA bundle module as go.mod requires it (the version this build links into the
// base layer), for the SBOM.
func (b Build) caModule(ctx context.Context) (debug.Module, error) {
	// #nosec G204 -- the go command and a fixed module path.
	cmd := exec.CommandContext(ctx, b.goCommand(), "list", "-m", "-f", "{{.Version}}", caModulePath)
	cmd.Dir = b.ModuleDir
	out, err := cmd.Output()
	if err != nil {
		return debug.Module{}, fmt.Errorf("go list -m %s: %w", caModulePath, err)
	}
	return debug.Module{Path: caModulePath, Version: strings.TrimSpace(string(out))}, nil
}

func (b Build) goCommand() string {
	if b.Go == "" {
		return "go"
	}
	return b.Go
}

// tagChars is what a tag may not hold.
var tagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Tag is the tag a version is pushed under: characters a tag cannot hold ('+' of build metadata)
// become '_' as `helm push` writes them, and it starts with neither '.' nor '-'.
func Tag(version string) string {
	tag := tagChars.ReplaceAllString(version, "_")
	if tag == "" || tag[0] == '.' || tag[0] == '-' {
		tag = "v" + tag
	}
	if len(tag) > 128 {
		tag = tag[:128]
	}
	return tag
}
