package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/capstan-dev/capstan/internal/image"
)

// config holds the command line.
type config struct {
	out, moduleDir, workDir             string
	version, commit, buildDate, created string
	source, repo, pinFile               string
	platforms, images                   string
	push                                bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.out, "out", "bin/image", "directory receiving one OCI image layout per image, and images.txt")
	fs.StringVar(&c.moduleDir, "module", ".", "root of Capstan's module")
	fs.StringVar(&c.workDir, "work", "", "directory for the compiled binaries (default: OUT/.build)")
	fs.StringVar(&c.version, "version", "", "version: label and tag of the images, stamped into the binaries (required)")
	fs.StringVar(&c.commit, "commit", "", "git commit: revision label, stamped into the binaries (required)")
	fs.StringVar(&c.created, "created", "", "RFC 3339 time of every timestamp in the images, the commit date (required)")
	fs.StringVar(&c.buildDate, "build-date", "", "build date stamped into the binaries (default: --created)")
	fs.StringVar(&c.source, "source", "https://github.com/capstan-dev/capstan", "source label: the repository URL")
	fs.StringVar(&c.repo, "repo", "", "registry prefix the images are named under, e.g. ghcr.io/acme (REPO/capstan, REPO/capstan-cli)")
	fs.BoolVar(&c.push, "push", false, "push the images and their SBOMs to --repo")
	fs.StringVar(&c.pinFile, "pin", "", "kustomization whose images: entry capstan is set to REPO/capstan@digest (needs --repo)")
	fs.StringVar(&c.platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated platforms of every image")
	fs.StringVar(&c.images, "images", "capstan,capstan-cli", "comma-separated images to build: capstan (the manager), capstan-cli")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.version == "" || c.commit == "" || c.created == "":
		return c, errors.New("--version, --commit and --created are required")
	case (c.pinFile != "" || c.push) && c.repo == "":
		return c, errors.New("--push and --pin need --repo, the registry prefix the images are named under")
	}
	if c.workDir == "" {
		c.workDir = filepath.Join(c.out, ".build")
	}
	if c.buildDate == "" {
		c.buildDate = c.created
	}
	return c, nil
}

// build turns the command line into an image.Build and the specs to build.
func (c config) build() (image.Build, []image.Spec, error) {
	created, err := time.Parse(time.RFC3339, c.created)
	if err != nil {
		return image.Build{}, nil, fmt.Errorf("--created %q is not an RFC 3339 time: %w", c.created, err)
	}
	var platforms []v1.Platform
	for _, s := range strings.Split(c.platforms, ",") {
		p, err := v1.ParsePlatform(strings.TrimSpace(s))
		if err != nil || p.OS == "" || p.Architecture == "" {
			return image.Build{}, nil, fmt.Errorf("--platforms: %q is not os/arch", s)
		}
		platforms = append(platforms, *p)
	}
	known := map[string]image.Spec{image.Manager.Name: image.Manager, image.CLI.Name: image.CLI}
	var specs []image.Spec
	for _, n := range strings.Split(c.images, ",") {
		spec, ok := known[strings.TrimSpace(n)]
		if !ok {
			return image.Build{}, nil, fmt.Errorf("--images: no image %q (capstan, capstan-cli)", n)
		}
		specs = append(specs, spec)
	}
	moduleDir, err := filepath.Abs(c.moduleDir)
	if err != nil {
		return image.Build{}, nil, fmt.Errorf("--module: %w", err)
	}
	workDir, err := filepath.Abs(c.workDir)
	if err != nil {
		return image.Build{}, nil, fmt.Errorf("--work: %w", err)
	}
	return image.Build{ModuleDir: moduleDir, Platforms: platforms, Version: c.version, Commit: c.commit,
		BuildDate: c.buildDate, Created: created, Source: c.source, WorkDir: workDir}, specs, nil
}

// run builds, writes, pushes and pins as the command line says, and writes the summary table to
// stdout and OUT/images.txt.
func run(ctx context.Context, c config, stdout io.Writer) error {
	b, specs, err := c.build()
	if err != nil {
		return err
	}
	tag := image.Tag(c.version)
	var summary strings.Builder
	tw := tabwriter.NewWriter(&summary, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tTAG\tMANIFEST\tDIGEST\tBYTES")
	for _, spec := range specs {
		img, err := b.Image(ctx, spec)
		if err != nil {
			return err
		}
		if _, err := img.WriteLayout(filepath.Join(c.out, spec.Name), tag); err != nil {
			return err
		}
		rows, err := summarize(img)
		if err != nil {
			return err
		}
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", spec.Name, tag, r.what, r.digest, r.size)
		}
		if err := c.publish(ctx, img, tag, stdout); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := os.RemoveAll(b.WorkDir); err != nil {
		return fmt.Errorf("removing the compiled binaries: %w", err)
	}
	fmt.Fprint(stdout, summary.String())
	return os.WriteFile(filepath.Join(c.out, "images.txt"), []byte(summary.String()), 0o644)
}

// publish pushes the image when --push is given and pins the kustomization of --pin to the
// manager image's digest; without --repo it does nothing.
func (c config) publish(ctx context.Context, img *image.Image, tag string, stdout io.Writer) error {
	if c.repo == "" {
		return nil
	}
	ref, err := img.Reference(c.repo)
	if err != nil {
		return err
	}
	if c.push {
		// Credentials as docker and crane find them: ~/.docker/config.json and its helpers.
		if ref, err = img.Push(ctx, c.repo, tag, remote.WithAuthFromKeychain(authn.DefaultKeychain),
			remote.WithUserAgent("capstan-imagebuild")); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pushed %s (%s:%s)\n", ref, ref.Context(), tag)
	}
	if c.pinFile == "" || img.Spec.Name != image.Manager.Name {
		return nil
	}
	if err := pinKustomization(c.pinFile, image.Manager.Name, ref.Context().String(), ref.DigestStr()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pinned %s to %s\n", c.pinFile, ref)
	return nil
}

// row is one line of the summary: the index, a platform image or an SBOM.
type row struct {
	what, digest string
	size         int64
}

// summarize lists the index (its manifest size), each platform image (what a pull downloads:
// manifest, config and layers) and each SBOM artifact.
func summarize(img *image.Image) ([]row, error) {
	manifest, err := img.Index.IndexManifest()
	if err != nil {
		return nil, err
	}
	digest, err := img.Index.Digest()
	if err != nil {
		return nil, err
	}
	size, err := img.Index.Size()
	if err != nil {
		return nil, err
	}
	rows := []row{{what: "index", digest: digest.String(), size: size}}
	for _, d := range manifest.Manifests {
		platformImage, err := img.Index.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		total, err := pullSize(platformImage)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{what: d.Platform.String(), digest: d.Digest.String(), size: total})
	}
	for i, art := range img.SBOMs {
		total, err := pullSize(art)
		if err != nil {
			return nil, err
		}
		digest, err := art.Digest()
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{what: "sbom " + manifest.Manifests[i].Platform.String(), digest: digest.String(), size: total})
	}
	return rows, nil
}

// pullSize is the bytes of an image's manifest, config and layers.
func pullSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	total, err := img.Size()
	if err != nil {
		return 0, err
	}
	total += m.Config.Size
	for _, l := range m.Layers {
		total += l.Size
	}
	return total, nil
}

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}
