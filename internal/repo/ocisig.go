package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
)

// Bounds on what a registry may hand over as the signatures of one chart.
const (
	// MaxSignatureArtifacts bounds the signature manifests read per chart: the cosign tag and
	// the referrers of the wanted artifact types together.
	MaxSignatureArtifacts = 16
	// MaxSignatureLayers bounds the layers read from one signature manifest.
	MaxSignatureLayers = 8
	// MaxSignatureSize bounds one signature manifest and one of its layers (a cosign payload, a
	// Sigstore bundle, a notation envelope): real ones are a few KiB.
	MaxSignatureSize int64 = 256 << 10
)

// SignatureQuery says where a chart's signatures are looked for.
type SignatureQuery struct {
	// CosignTag reads the manifest tagged "sha256-<hex of the chart manifest digest>.sig" in the
	// chart's repository, where cosign stores signatures by default.
	CosignTag bool
	// ArtifactTypes are the artifact types of the referrers (OCI 1.1 referrers API, or the
	// referrers tag schema where the registry has no API) that are read.
	ArtifactTypes []string
}

// SignatureSubject is the chart manifest the signatures are about.
type SignatureSubject struct {
	// Repository is the chart's repository, "host[:port]/path", as trust policies scope it.
	Repository string
	// Tag is the tag the chart was resolved by.
	Tag string
	// Manifest is the descriptor of the chart's manifest: its digest is what is signed, and the
	// manifest's bytes were checked against it before its chart layer was taken from them.
	Manifest ocispec.Descriptor
}

// SignatureArtifact is one signature manifest found for a chart.
type SignatureArtifact struct {
	// Where names it in messages: "tag sha256-….sig" or "referrer sha256:…".
	Where string
	// ArtifactType is the manifest's artifact type (or its config media type when it has none).
	ArtifactType string
	// Manifest is the signature manifest itself.
	Manifest ocispec.Manifest
	// Layers holds the bytes of Manifest.Layers, in order, each checked against its digest.
	Layers [][]byte
	// Err says why the artifact could not be read (too large, malformed); Manifest and Layers
	// are then incomplete. A check reports it among the reasons no signature verified.
	Err error
}

// SignatureCheck verifies the signatures found for a chart's manifest. An error refuses the
// chart. It must not keep the slices it is given.
type SignatureCheck func(ctx context.Context, subject SignatureSubject, sigs []SignatureArtifact) error

// FetchSigned is Fetch preceded by a signature check: the signatures q asks for are read from
// the chart's repository and handed to check with the chart manifest's descriptor, and the
// chart layer is pulled only once check accepts them. The manifest's digest is what is signed
// and the layer's digest is taken from that manifest, so the archive returned is the signed
// one; the archive cache is keyed by that digest and never holds a refused chart's bytes. A
// refusal matches ErrUnverified; a transient registry failure does not.
func (r *OCIRepository) FetchSigned(ctx context.Context, cv *ChartVersion, q SignatureQuery, check SignatureCheck) ([]byte, error) {
	layer := cv.oci
	if layer == nil {
		var err error
		if layer, err = r.describeURL(ctx, cv); err != nil {
			return nil, err
		}
	}
	repo, err := r.repositoryAt(layer.repository)
	if err != nil {
		return nil, err
	}
	subject := SignatureSubject{Repository: r.host + "/" + layer.repository, Tag: layer.tag, Manifest: layer.manifest}
	sigs, err := r.signatures(ctx, repo, layer.manifest, q)
	if err != nil {
		return nil, err
	}
	if err := check(ctx, subject, sigs); err != nil {
		return nil, &refusal{err: err}
	}
	return r.Fetch(ctx, cv)
}

// signatures reads the signature manifests q asks for, at most MaxSignatureArtifacts of them.
// Missing ones are no error; an artifact too large or malformed is returned with Err set.
func (r *OCIRepository) signatures(ctx context.Context, repo *remote.Repository, subject ocispec.Descriptor, q SignatureQuery) ([]SignatureArtifact, error) {
	var out []SignatureArtifact
	if q.CosignTag {
		tag := strings.Replace(subject.Digest.String(), ":", "-", 1) + ".sig"
		desc, rc, err := repo.FetchReference(ctx, tag)
		switch {
		case errors.Is(err, errdef.ErrNotFound) || isNotFound(err):
		case err != nil:
			return nil, ociError(err)
		default:
			data, rerr := readBlob(rc, desc, MaxSignatureSize)
			drainAndClose(rc)
			a := SignatureArtifact{Where: "tag " + tag}
			if rerr != nil && !errors.Is(rerr, ErrTooLarge) && !errors.Is(rerr, ErrDigestMismatch) {
				return nil, rerr
			}
			a, err = r.readArtifact(ctx, repo, a, data, rerr)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	for _, at := range q.ArtifactTypes {
		if len(out) >= MaxSignatureArtifacts {
			break
		}
		var found []ocispec.Descriptor
		err := repo.Referrers(ctx, subject, at, func(refs []ocispec.Descriptor) error {
			for _, d := range refs {
				if len(out)+len(found) < MaxSignatureArtifacts && d.ArtifactType == at {
					found = append(found, d)
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, errdef.ErrNotFound) && !isNotFound(err) {
			return nil, ociError(err)
		}
		for _, d := range found {
			a := SignatureArtifact{Where: "referrer " + d.Digest.String(), ArtifactType: d.ArtifactType}
			if d.Size < 0 || d.Size > MaxSignatureSize {
				a.Err = newError(ErrTooLarge, "its manifest is %d bytes, larger than the limit of %d bytes", d.Size, MaxSignatureSize)
				out = append(out, a)
				continue
			}
			rc, err := repo.Manifests().Fetch(ctx, d)
			if err != nil {
				return nil, ociError(err)
			}
			data, rerr := readBlob(rc, d, MaxSignatureSize)
			drainAndClose(rc)
			if rerr != nil && !errors.Is(rerr, ErrTooLarge) && !errors.Is(rerr, ErrDigestMismatch) {
				return nil, rerr
			}
			if a, err = r.readArtifact(ctx, repo, a, data, rerr); err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// readArtifact parses a signature manifest and reads its layers within the bounds. Problems of
// the artifact itself (too large, malformed, a layer missing) are recorded in its Err; other
// registry failures are returned, so a transient one does not read as a bad signature.
func (r *OCIRepository) readArtifact(ctx context.Context, repo *remote.Repository, a SignatureArtifact,
	data []byte, readErr error) (SignatureArtifact, error) {
	if readErr != nil {
		a.Err = fmt.Errorf("its manifest cannot be read: %w", readErr)
		return a, nil
	}
	if err := json.Unmarshal(data, &a.Manifest); err != nil {
		a.Err = fmt.Errorf("its manifest does not parse: %w", err)
		return a, nil
	}
	if a.ArtifactType == "" {
		a.ArtifactType = a.Manifest.ArtifactType
	}
	if a.ArtifactType == "" {
		a.ArtifactType = a.Manifest.Config.MediaType
	}
	if len(a.Manifest.Layers) > MaxSignatureLayers {
		a.Err = newError(ErrTooLarge, "it has %d layers, more than the limit of %d", len(a.Manifest.Layers), MaxSignatureLayers)
		return a, nil
	}
	for _, l := range a.Manifest.Layers {
		if l.Size < 0 || l.Size > MaxSignatureSize {
			a.Err = newError(ErrTooLarge, "its layer %s is %d bytes, larger than the limit of %d bytes", l.Digest, l.Size, MaxSignatureSize)
			return a, nil
		}
		if l.Digest.Validate() != nil {
			a.Err = newError(ErrInvalidIndex, "its layer digest %q is not valid", truncate(string(l.Digest), 100))
			return a, nil
		}
		rc, err := repo.Blobs().Fetch(ctx, l)
		if err != nil && !isNotFound(err) && !errors.Is(err, errdef.ErrNotFound) {
			return a, ociError(err)
		}
		if err != nil {
			a.Err = fmt.Errorf("its layer %s is missing from the registry", l.Digest)
			return a, nil
		}
		b, err := readBlob(rc, l, MaxSignatureSize)
		drainAndClose(rc)
		if err != nil {
			a.Err = fmt.Errorf("its layer %s cannot be read: %w", l.Digest, err)
			return a, nil
		}
		a.Layers = append(a.Layers, b)
	}
	return a, nil
}

// isNotFound reports a registry 404 that oras did not map to errdef.ErrNotFound.
func isNotFound(err error) bool {
	return errors.Is(ociError(err), ErrNotFound)
}
