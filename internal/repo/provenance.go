package repo

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
)

// MaxProvenanceSize bounds a provenance file download: Helm's are a few KiB.
const MaxProvenanceSize int64 = 64 << 10

// ProvenanceCheck verifies a chart archive against its provenance file. fileName is the last
// element of the archive's URL path, the name helm gives the downloaded archive. An error
// refuses the archive.
type ProvenanceCheck func(archive []byte, fileName string, prov []byte) error

// FetchVerified is Fetch followed by a signature check: it downloads "<archive URL>.prov" from
// the same origin, with the same credentials, redirect and address rules as the archive, and
// returns the archive only if check accepts it. A refused archive is never cached; a cached
// one is checked again with this caller's check. A missing (404) or oversized provenance file,
// or a refusal, matches ErrUnverified; a transient failure to download it does not.
func (r *HTTPRepository) FetchVerified(ctx context.Context, cv *ChartVersion, check ProvenanceCheck) ([]byte, error) {
	if len(cv.URLs) == 0 {
		return nil, newError(ErrNotFound, "chart %q version %q has no downloadable URLs", cv.Name, cv.Version)
	}
	u, err := r.chartURL(cv.URLs[0])
	if err != nil {
		return nil, err
	}
	verify := func(data []byte) error {
		prov, err := r.provenance(ctx, u)
		if err != nil {
			return err
		}
		if err := check(data, path.Base(u.Path), prov); err != nil {
			return &refusal{err: err}
		}
		return nil
	}
	digest := normalizeDigest(cv.Digest)
	if r.opts.ArchiveCache == nil || digest == "" || !isHexSHA256(digest) {
		data, err := r.Fetch(ctx, cv)
		if err != nil {
			return nil, err
		}
		return data, verify(data)
	}
	return r.opts.ArchiveCache.getVerified(ctx, r.cacheKey+"@sha256:"+digest,
		func(ctx context.Context) ([]byte, error) { return r.download(ctx, u, digest) }, verify)
}

// provenance downloads the provenance file next to the archive at u. The query string of u
// (a signed URL's signature) is kept.
func (r *HTTPRepository) provenance(ctx context.Context, archive *url.URL) ([]byte, error) {
	u := *archive
	u.Path += ".prov"
	if u.RawPath != "" {
		u.RawPath += ".prov"
	}
	resp, err := r.getter.get(ctx, &u, nil, MaxProvenanceSize)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, newError(ErrUnverified, "no provenance file at %s", redact(&u))
	case errors.Is(err, ErrTooLarge):
		return nil, newError(ErrUnverified, "provenance file %s is larger than the limit of %d bytes", redact(&u), MaxProvenanceSize)
	case err != nil:
		return nil, err
	case resp.code != http.StatusOK:
		return nil, &StatusError{URL: redact(&u), Code: resp.code}
	}
	return resp.body, nil
}

// refusal is a check's refusal: its message is the check's, and it matches ErrUnverified as
// well as whatever the check's error matches.
type refusal struct{ err error }

func (e *refusal) Error() string   { return e.err.Error() }
func (e *refusal) Unwrap() []error { return []error{ErrUnverified, e.err} }
