package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// refNameAnnotation names a manifest in an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout writes the image to dir (replaced if present) as an OCI image layout: index.json
// lists the multi-arch index, named by tag, and the SBOM artifacts, each with its subject and
// artifact type. It returns the index's digest.
func (img *Image) WriteLayout(dir, tag string) (v1.Hash, error) {
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, fmt.Errorf("clearing %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return v1.Hash{}, fmt.Errorf("creating %s: %w", filepath.Dir(dir), err)
	}
	path, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("creating the layout %s: %w", dir, err)
	}
	if err := path.AppendIndex(img.Index, layout.WithAnnotations(map[string]string{refNameAnnotation: tag})); err != nil {
		return v1.Hash{}, fmt.Errorf("writing %s to %s: %w", img.Spec.Name, dir, err)
	}
	for _, art := range img.SBOMs {
		if err := path.WriteImage(art); err != nil {
			return v1.Hash{}, fmt.Errorf("writing an SBOM of %s to %s: %w", img.Spec.Name, dir, err)
		}
		desc, err := ArtifactDescriptor(art)
		if err != nil {
			return v1.Hash{}, err
		}
		if err := path.AppendDescriptor(desc); err != nil {
			return v1.Hash{}, fmt.Errorf("listing an SBOM of %s in %s: %w", img.Spec.Name, dir, err)
		}
	}
	return img.Index.Digest()
}

// Push writes the index to <prefix>/<name>:<tag> and every SBOM artifact by digest to the same
// repository; the registry lists each among its platform image's referrers (or, without the
// referrers API, go-containerregistry maintains the referrers tag the OCI spec falls back to). It
// returns the pushed index by digest.
func (img *Image) Push(ctx context.Context, prefix, tag string, opts ...remote.Option) (name.Digest, error) {
	ref, err := img.Reference(prefix)
	if err != nil {
		return name.Digest{}, err
	}
	repo := ref.Context()
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	if err := remote.WriteIndex(repo.Tag(tag), img.Index, opts...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", repo.Tag(tag), err)
	}
	for _, art := range img.SBOMs {
		digest, err := art.Digest()
		if err != nil {
			return name.Digest{}, fmt.Errorf("hashing an SBOM: %w", err)
		}
		if err := remote.Write(repo.Digest(digest.String()), art, opts...); err != nil {
			return name.Digest{}, fmt.Errorf("pushing the SBOM %s of %s: %w", digest, repo, err)
		}
	}
	return ref, nil
}

// Reference is the index's name by digest under the registry prefix: <prefix>/<name>@<digest>.
// The digest is the content's, so it is the same before and after a push.
func (img *Image) Reference(prefix string) (name.Digest, error) {
	repo, err := name.NewRepository(prefix + "/" + img.Spec.Name)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image repository %q: %w", prefix+"/"+img.Spec.Name, err)
	}
	digest, err := img.Index.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("hashing the index of %s: %w", repo, err)
	}
	return repo.Digest(digest.String()), nil
}
