package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// helmConfig is the part of the config blob (Chart.yaml as JSON) a ChartVersion reports.
type helmConfig struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
	APIVersion string `json:"apiVersion"`
	Type       string `json:"type"`
	Deprecated bool   `json:"deprecated"`
}

// describe fetches the manifest tagged tag, checks it is a Helm chart artifact within the size
// limits, and fills cv with the chart layer and the config's metadata.
func (r *OCIRepository) describe(ctx context.Context, repo *remote.Repository, cv *ChartVersion, tag string) error {
	mdesc, m, err := r.manifest(ctx, repo, tag)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%s/%s:%s", repo.Reference.Registry, repo.Reference.Repository, tag)
	layer, err := checkManifest(m, where, r.opts.MaxChartSize)
	if err != nil {
		return err
	}
	cfg, err := r.config(ctx, repo, m.Config)
	if err != nil {
		return err
	}
	cv.AppVersion, cv.APIVersion, cv.Type, cv.Deprecated = sanitize(cfg.AppVersion), sanitize(cfg.APIVersion), sanitize(cfg.Type), cfg.Deprecated
	cv.Digest = layer.Digest.Encoded()
	cv.oci = &ociLayer{repository: repo.Reference.Repository, manifest: mdesc, tag: tag, layer: layer}
	return nil
}

// manifest fetches the image manifest tagged tag and returns its descriptor (whose digest the
// bytes were checked against) and the parsed manifest.
func (r *OCIRepository) manifest(ctx context.Context, repo *remote.Repository, tag string) (ocispec.Descriptor, *ocispec.Manifest, error) {
	desc, rc, err := repo.FetchReference(ctx, tag)
	if err != nil {
		return desc, nil, ociError(err)
	}
	defer drainAndClose(rc)
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return desc, nil, newError(ErrUnsupportedMediaType, "manifest %s:%s has media type %q, want %q",
			repo.Reference.Repository, truncate(tag, 128), truncate(desc.MediaType, 128), ocispec.MediaTypeImageManifest)
	}
	data, err := readBlob(rc, desc, maxManifestSize)
	if err != nil {
		return desc, nil, fmt.Errorf("manifest %s:%s: %w", repo.Reference.Repository, truncate(tag, 128), err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return desc, nil, fmt.Errorf("manifest %s:%s does not parse: %w", repo.Reference.Repository, truncate(tag, 128), err)
	}
	if m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest {
		return desc, nil, newError(ErrUnsupportedMediaType, "manifest %s:%s declares media type %q", repo.Reference.Repository,
			truncate(tag, 128), truncate(m.MediaType, 128))
	}
	return desc, &m, nil
}

// readBlob reads a blob whose descriptor is known, refusing one larger than limit before
// reading, and verifies its size and digest.
func readBlob(r io.Reader, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	if desc.Size < 0 || desc.Size > limit {
		return nil, newError(ErrTooLarge, "%d bytes, larger than the limit of %d bytes", desc.Size, limit)
	}
	data, err := content.ReadAll(r, desc)
	if errors.Is(err, content.ErrMismatchedDigest) {
		return nil, fmt.Errorf("%w: %w", ErrDigestMismatch, err)
	}
	return data, err
}

// checkManifest accepts a manifest with the Helm config media type and exactly one chart layer
// (current or legacy media type) of a size within (0, limit] and a sha256 digest. Other layers,
// such as provenance, are ignored as Helm ignores them.
func checkManifest(m *ocispec.Manifest, where string, limit int64) (ocispec.Descriptor, error) {
	if m.Config.MediaType != MediaTypeHelmConfig {
		return ocispec.Descriptor{}, newError(ErrUnsupportedMediaType, "%s is not a Helm chart: config media type %q, want %q",
			where, truncate(m.Config.MediaType, 128), MediaTypeHelmConfig)
	}
	var layers []ocispec.Descriptor
	for _, l := range m.Layers {
		if l.MediaType == MediaTypeHelmChart || l.MediaType == MediaTypeHelmLegacyChart {
			layers = append(layers, l)
		}
	}
	if len(layers) != 1 {
		return ocispec.Descriptor{}, newError(ErrUnsupportedMediaType, "%s has %d layers of media type %q, want exactly one",
			where, len(layers), MediaTypeHelmChart)
	}
	l := layers[0]
	switch {
	case l.Size <= 0:
		return l, newError(ErrInvalidIndex, "%s: chart layer has size %d", where, l.Size)
	case l.Size > limit:
		return l, newError(ErrTooLarge, "%s: chart layer is %d bytes, larger than the limit of %d bytes", where, l.Size, limit)
	case l.Digest.Validate() != nil || l.Digest.Algorithm() != digest.SHA256:
		return l, newError(ErrInvalidIndex, "%s: chart layer digest %q is not a valid sha256 digest", where, truncate(string(l.Digest), 100))
	}
	return l, nil
}

func (r *OCIRepository) config(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor) (*helmConfig, error) {
	if desc.Size < 0 || desc.Size > maxManifestSize {
		return nil, newError(ErrTooLarge, "chart config is %d bytes, larger than the limit of %d bytes", desc.Size, maxManifestSize)
	}
	rc, err := repo.Blobs().Fetch(ctx, desc)
	if err != nil {
		return nil, ociError(err)
	}
	defer drainAndClose(rc)
	data, err := readBlob(rc, desc, maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("chart config: %w", err)
	}
	var cfg helmConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("chart config does not parse: %w", err)
	}
	return &cfg, nil
}
