package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// emptyJSON is the OCI empty descriptor's content, the config of an artifact that needs none.
var emptyJSON = []byte("{}")

// sbomArtifact is an OCI 1.1 artifact manifest: artifactType application/spdx+json, the empty
// config, the SPDX document as its one layer, and the platform image as its subject, so the
// registry lists it among that image's referrers.
type sbomArtifact struct {
	manifest []byte
	doc      v1.Layer
}

// newSBOMArtifact wraps an SPDX document as an artifact referring to subject.
func newSBOMArtifact(doc []byte, subject v1.Descriptor, created time.Time) (v1.Image, error) {
	layer := static.NewLayer(doc, types.MediaType(SPDXMediaType))
	digest, err := layer.Digest()
	if err != nil {
		return nil, fmt.Errorf("hashing an SBOM: %w", err)
	}
	configDigest, configSize, err := v1.SHA256(bytes.NewReader(emptyJSON))
	if err != nil {
		return nil, fmt.Errorf("hashing the empty config: %w", err)
	}
	subject = v1.Descriptor{MediaType: subject.MediaType, Size: subject.Size, Digest: subject.Digest}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  SPDXMediaType,
		Config:        v1.Descriptor{MediaType: types.OCIEmptyJSON, Size: configSize, Digest: configDigest},
		Layers:        []v1.Descriptor{{MediaType: types.MediaType(SPDXMediaType), Size: int64(len(doc)), Digest: digest}},
		Subject:       &subject,
		Annotations:   map[string]string{LabelCreated: created.UTC().Format(time.RFC3339)},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("writing an SBOM manifest: %w", err)
	}
	return partial.CompressedToImage(sbomArtifact{manifest: raw, doc: layer})
}

// RawConfigFile implements partial.CompressedImageCore.
func (a sbomArtifact) RawConfigFile() ([]byte, error) { return emptyJSON, nil }

// MediaType implements partial.CompressedImageCore.
func (a sbomArtifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// RawManifest implements partial.CompressedImageCore.
func (a sbomArtifact) RawManifest() ([]byte, error) { return a.manifest, nil }

// LayerByDigest implements partial.CompressedImageCore.
func (a sbomArtifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if d, err := a.doc.Digest(); err == nil && d == h {
		return a.doc, nil
	}
	return nil, fmt.Errorf("the SBOM artifact has no blob %s", h)
}

// describe is an image's descriptor: media type, size, digest.
func describe(img partial.Describable) (v1.Descriptor, error) {
	desc, err := partial.Descriptor(img)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("describing an image: %w", err)
	}
	return v1.Descriptor{MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest}, nil
}

// ArtifactDescriptor is the descriptor of an SBOM artifact, with its artifact type, as an index
// lists it.
func ArtifactDescriptor(art v1.Image) (v1.Descriptor, error) {
	desc, err := describe(art)
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc.ArtifactType = SPDXMediaType
	return desc, nil
}
