package reconcile

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/repo"
)

// ReleaseChartSource is the chart source of the Release state machine (it implements
// ChartSource): it resolves and fetches charts through a shared ChartSources, reading the
// repositories' Secrets through the reader it was built with.
type ReleaseChartSource struct {
	sources *ChartSources
	reader  client.Reader
}

// NewReleaseChartSource returns a chart source over sources that reads Secrets with reader.
func NewReleaseChartSource(sources *ChartSources, reader client.Reader) *ReleaseChartSource {
	return &ReleaseChartSource{sources: sources, reader: reader}
}

// WithReader returns a chart source over the same shared sources that reads the repositories'
// Secrets with reader: the Release's client, so that its identity must be allowed to read them.
func (r *ReleaseChartSource) WithReader(reader client.Reader) ChartSource {
	return &ReleaseChartSource{sources: r.sources, reader: reader}
}

// Resolve returns the version of chart in cr that constraint selects and the lower-case hex
// sha256 of its archive. The choice is remembered, so that a Fetch of that version downloads
// exactly the archive this call described even if the index changes in between.
func (r *ReleaseChartSource) Resolve(ctx context.Context, cr *capstanv1.ChartRepository, chart, constraint string) (version, digest string, err error) {
	e, err := r.sources.entry(ctx, r.reader, cr)
	if err != nil {
		return "", "", err
	}
	cv, err := e.source.Resolve(ctx, chart, constraint)
	if err != nil {
		return "", "", err
	}
	r.sources.remember(e, cv)
	return cv.Version, cv.Digest, nil
}

// Fetch returns the verified archive of chart at version from cr: the one the last Resolve
// that picked this version described, or, when there was none (after a restart), the one the
// repository announces now for that exact version. The bytes are shared and must not be
// modified.
func (r *ReleaseChartSource) Fetch(ctx context.Context, cr *capstanv1.ChartRepository, chart, version string) ([]byte, error) {
	e, err := r.sources.entry(ctx, r.reader, cr)
	if err != nil {
		return nil, err
	}
	cv, err := r.version(ctx, e, chart, version)
	if err != nil {
		return nil, err
	}
	return e.source.Fetch(ctx, cv)
}

// version is the chart version the last Resolve that picked version described, or, when there
// was none, the one the repository announces now for that exact version.
func (r *ReleaseChartSource) version(ctx context.Context, e *repoEntry, chart, version string) (*repo.ChartVersion, error) {
	if cv := r.sources.recall(e, chart, version); cv != nil {
		return cv, nil
	}
	cv, err := e.source.Resolve(ctx, chart, version)
	if err != nil {
		return nil, err
	}
	r.sources.remember(e, cv)
	return cv, nil
}

// FetchVerified is Fetch with a signature check: the archive is returned only if check
// accepts it and its provenance file (see repo.HTTPRepository.FetchVerified). It also returns
// the digest the index announced for the archive, "sha256:<hex>". OCI repositories have no
// provenance files: asking is an error matching repo.ErrUnverified.
func (r *ReleaseChartSource) FetchVerified(ctx context.Context, cr *capstanv1.ChartRepository, chart, version string,
	check repo.ProvenanceCheck) ([]byte, string, error) {
	e, err := r.sources.entry(ctx, r.reader, cr)
	if err != nil {
		return nil, "", err
	}
	httpRepo, ok := e.source.(*repo.HTTPRepository)
	if !ok {
		return nil, "", notHTTPError(cr.Spec.URL)
	}
	cv, err := r.version(ctx, e, chart, version)
	if err != nil {
		return nil, "", err
	}
	digest := "sha256:" + strings.ToLower(strings.TrimPrefix(cv.Digest, "sha256:"))
	data, err := httpRepo.FetchVerified(ctx, cv, check)
	return data, digest, err
}

// FetchSigned is Fetch with a check of the signatures of an OCI chart's manifest (see
// repo.OCIRepository.FetchSigned). It also returns the chart layer's digest, "sha256:<hex>".
// An http(s) repository has no such signatures: asking is an error matching
// repo.ErrUnverified.
func (r *ReleaseChartSource) FetchSigned(ctx context.Context, cr *capstanv1.ChartRepository, chart, version string,
	q repo.SignatureQuery, check repo.SignatureCheck) ([]byte, string, error) {
	e, err := r.sources.entry(ctx, r.reader, cr)
	if err != nil {
		return nil, "", err
	}
	ociRepo, ok := e.source.(*repo.OCIRepository)
	if !ok {
		return nil, "", notOCIError(cr.Spec.URL)
	}
	cv, err := r.version(ctx, e, chart, version)
	if err != nil {
		return nil, "", err
	}
	digest := "sha256:" + strings.ToLower(strings.TrimPrefix(cv.Digest, "sha256:"))
	data, err := ociRepo.FetchSigned(ctx, cv, q, check)
	return data, digest, err
}

// ReadRepositorySecret reads a Secret in cr's namespace the way the repository's credentials
// are read (with the source's reader), for the trust material spec.verify names.
func (r *ReleaseChartSource) ReadRepositorySecret(ctx context.Context, cr *capstanv1.ChartRepository, name string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	if err := r.reader.Get(ctx, client.ObjectKey{Namespace: cr.Namespace, Name: name}, secret); err != nil {
		return nil, err
	}
	return secret, nil
}

// notHTTPError refuses verification of a chart from a repository without provenance files.
type notHTTPError string

func (e notHTTPError) Error() string {
	return fmt.Sprintf("provenance files are only read from http(s) repositories, and %s is not one", string(e))
}

// Is makes the refusal match repo.ErrUnverified.
func (e notHTTPError) Is(target error) bool { return target == repo.ErrUnverified }

// notOCIError refuses cosign or notation verification of a chart from a repository that is
// not an OCI registry.
type notOCIError string

func (e notOCIError) Error() string {
	return fmt.Sprintf("cosign and notation signatures are only read from OCI repositories, and %s is not one", string(e))
}

// Is makes the refusal match repo.ErrUnverified.
func (e notOCIError) Is(target error) bool { return target == repo.ErrUnverified }
