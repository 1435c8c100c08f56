package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// HTTPRepository is a Helm chart repository served over HTTP(S): an index.yaml next to (or
// pointing at) chart archives. It is safe for concurrent use; create one per repository
// configuration and keep it, since it owns a connection pool.
type HTTPRepository struct {
	url      *url.URL
	opts     Options
	getter   *httpGetter
	cache    *IndexCache
	cacheKey string
	parse    func([]byte) (*Index, []string, error)
}

// NewHTTPRepository returns a client for the repository at rawURL (http or https). Userinfo
// in the URL is taken as basic-auth credentials when opts has none, and is never shown again.
func NewHTTPRepository(rawURL string, opts Options) (*HTTPRepository, error) {
	u, err := parseURL(rawURL, "http", "https")
	if err != nil {
		return nil, err
	}
	if u.User != nil && opts.Username == "" && opts.Password == "" && opts.BearerToken == "" {
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	u.User = nil
	opts = opts.withDefaults()
	tr, err := newAuthTransport(u, opts, true)
	if err != nil {
		return nil, err
	}
	if opts.IndexCache == nil {
		opts.IndexCache = NewIndexCache(0)
	}
	client := &http.Client{Transport: tr, Timeout: opts.Timeout, CheckRedirect: checkRedirect}
	return &HTTPRepository{
		url:      u,
		opts:     opts,
		getter:   &httpGetter{client: client, policy: opts.Retry},
		cache:    opts.IndexCache,
		cacheKey: scopeKey(u, tr.authz, opts),
		parse:    parseIndexBytes,
	}, nil
}

// scopeKey identifies a repository together with the identity used to read it, so that cached
// validators and archives are only reused by callers who would have been served the same bytes.
func scopeKey(u *url.URL, authz string, o Options) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(u.String()), []byte(authz), o.CertPEM, o.CAPEM} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// parseURL parses a repository URL and checks its scheme and host. Errors never echo the URL
// beyond its redacted form.
func parseURL(rawURL string, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, newError(ErrInvalidURL, "repository URL %s does not parse", redactString(rawURL))
	}
	for _, s := range schemes {
		if strings.EqualFold(u.Scheme, s) {
			if u.Host == "" {
				return nil, newError(ErrInvalidURL, "repository URL %s has no host", redact(u))
			}
			u.Scheme = s
			return u, nil
		}
	}
	return nil, newError(ErrInvalidURL, "repository URL %s: scheme %q is not one of %s",
		redact(u), truncate(u.Scheme, 16), strings.Join(schemes, ", "))
}

// URL returns the repository URL without credentials or query string.
func (r *HTTPRepository) URL() string { return redact(r.url) }

// Index returns the repository's parsed index. It asks the server with the validators of the
// last answer, so an unchanged index costs one 304 and neither a download nor a parse; a
// changed one whose bytes are already cached (another client fetched them) costs no parse.
func (r *HTTPRepository) Index(ctx context.Context) (*Index, error) {
	return r.cache.shared(ctx, r.cacheKey, r.fetchIndex)
}

func (r *HTTPRepository) fetchIndex(ctx context.Context) (*Index, error) {
	v, cached := r.cache.conditional(r.cacheKey)
	header := http.Header{}
	if cached != nil && v.etag != "" {
		header.Set("If-None-Match", v.etag)
	}
	if cached != nil && v.lastModified != "" {
		header.Set("If-Modified-Since", v.lastModified)
	}
	indexURL := resolveReference(r.url, &url.URL{Path: "index.yaml"})
	resp, err := r.getter.get(ctx, indexURL, header, r.opts.MaxIndexSize)
	if err != nil {
		return nil, err
	}
	if resp.code == http.StatusNotModified {
		if cached == nil {
			return nil, fmt.Errorf("%s answered 304 Not Modified to an unconditional request", redact(indexURL))
		}
		return cached, nil
	}
	idx, err := r.indexFromBytes(ctx, indexURL, resp.body)
	if err != nil {
		return nil, err
	}
	r.cache.remember(r.cacheKey, validator{etag: resp.header.Get("ETag"),
		lastModified: resp.header.Get("Last-Modified"), digest: idx.Digest})
	return idx, nil
}

func (r *HTTPRepository) indexFromBytes(ctx context.Context, indexURL *url.URL, body []byte) (*Index, error) {
	sum := sha256.Sum256(body)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if idx, ok := r.cache.Get(digest); ok {
		return idx, nil
	}
	idx, err := r.cache.parse(ctx, func() (*Index, error) {
		if idx, ok := r.cache.Get(digest); ok { // another repository parsed the same bytes meanwhile.
			return idx, nil
		}
		idx, _, err := r.parse(body)
		return idx, err
	})
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", redact(indexURL), err)
	}
	r.cache.Add(idx)
	return idx, nil
}

// Check fetches the index and returns its statistics for the ChartRepository status.
func (r *HTTPRepository) Check(ctx context.Context) (*IndexStats, error) {
	idx, err := r.Index(ctx)
	if err != nil {
		return nil, err
	}
	s := idx.Stats()
	return &s, nil
}

// Resolve fetches the index (cheaply when unchanged) and picks the version of chart that
// constraint selects.
func (r *HTTPRepository) Resolve(ctx context.Context, chart, constraint string) (*ChartVersion, error) {
	if _, err := ParseConstraint(constraint); err != nil {
		return nil, err
	}
	idx, err := r.Index(ctx)
	if err != nil {
		return nil, err
	}
	return idx.Resolve(chart, constraint)
}

// Fetch downloads the archive of cv from its first URL, under MaxChartSize, and verifies it
// against cv.Digest; a mismatch is an ErrDigestMismatch and nothing is cached. Verified
// archives are shared through Options.ArchiveCache.
func (r *HTTPRepository) Fetch(ctx context.Context, cv *ChartVersion) ([]byte, error) {
	if len(cv.URLs) == 0 {
		return nil, newError(ErrNotFound, "chart %q version %q has no downloadable URLs", cv.Name, cv.Version)
	}
	u, err := r.chartURL(cv.URLs[0])
	if err != nil {
		return nil, err
	}
	digest := normalizeDigest(cv.Digest)
	if digest == "" {
		if !r.opts.AllowMissingDigest {
			return nil, newError(ErrMissingDigest, "chart %q version %q has no digest in the index, so it cannot be verified",
				cv.Name, cv.Version)
		}
		return r.download(ctx, u, "")
	}
	if !isHexSHA256(digest) {
		return nil, newError(ErrInvalidIndex, "chart %q version %q has a malformed digest %q",
			cv.Name, cv.Version, truncate(digest, 80))
	}
	if r.opts.ArchiveCache == nil {
		return r.download(ctx, u, digest)
	}
	return r.opts.ArchiveCache.Get(ctx, r.cacheKey+"@sha256:"+digest, func(ctx context.Context) ([]byte, error) {
		return r.download(ctx, u, digest)
	})
}

func (r *HTTPRepository) download(ctx context.Context, u *url.URL, digest string) ([]byte, error) {
	resp, err := r.getter.get(ctx, u, nil, r.opts.MaxChartSize)
	if err != nil {
		return nil, err
	}
	if resp.code != http.StatusOK {
		return nil, &StatusError{URL: redact(u), Code: resp.code}
	}
	if err := verifyDigest(resp.body, digest, redact(u)); err != nil {
		return nil, err
	}
	return resp.body, nil
}

// verifyDigest checks data against a lower-case hex sha256; an empty want skips the check.
func verifyDigest(data []byte, want, what string) error {
	if want == "" {
		return nil
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return newError(ErrDigestMismatch, "%s has digest sha256:%s, but sha256:%s was expected", what, got, want)
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// chartURL resolves an index URL entry against the repository and allows only http(s).
func (r *HTTPRepository) chartURL(ref string) (*url.URL, error) {
	ru, err := url.Parse(ref)
	if err != nil {
		return nil, newError(ErrInvalidURL, "chart URL %s does not parse", redactString(ref))
	}
	u := resolveReference(r.url, ru)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, newError(ErrInvalidURL, "chart URL %s: scheme %q is not http or https", redact(u), truncate(u.Scheme, 16))
	}
	return u, nil
}

// resolveReference resolves ref as Helm does: an absolute URL stands as it is; a relative one
// resolves against base with a trailing slash forced onto base's path, and takes base's query
// string (signed URLs keep their signature).
func resolveReference(base, ref *url.URL) *url.URL {
	if ref.IsAbs() {
		return ref
	}
	b := *base
	b.Path = strings.TrimSuffix(b.Path, "/") + "/"
	if b.RawPath != "" {
		b.RawPath = strings.TrimSuffix(b.RawPath, "/") + "/"
	}
	u := b.ResolveReference(ref)
	u.RawQuery = base.RawQuery
	return u
}
