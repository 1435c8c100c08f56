package repo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Media types of Helm chart artifacts in OCI registries.
const (
	// MediaTypeHelmConfig is the config blob: Chart.yaml's metadata as JSON.
	MediaTypeHelmConfig = "application/vnd.cncf.helm.config.v1+json"
	// MediaTypeHelmChart is the chart layer: the .tgz archive.
	MediaTypeHelmChart = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	// MediaTypeHelmLegacyChart is the chart layer of old pushes, still accepted as Helm does.
	MediaTypeHelmLegacyChart = "application/tar+gzip"
	// maxTagPages bounds tag-list pagination, so a registry cannot make us page forever.
	maxTagPages = 100
)

// OCIRepository is a namespace in an OCI registry holding Helm charts: chart "x" lives in the
// repository <namespace>/x, its versions are tags. It is safe for concurrent use.
type OCIRepository struct {
	host      string
	namespace string
	opts      Options
	client    *auth.Client
	scope     string
}

// ociLayer is what Resolve learnt from the manifest, so Fetch can pull the layer by digest
// without asking for the tag again (a tag moved in between cannot swap the content).
type ociLayer struct {
	repository string
	manifest   ocispec.Descriptor
	tag        string
	layer      ocispec.Descriptor
}

// NewOCIRepository returns a client for oci://host[:port]/namespace. Userinfo in the URL is
// taken as credentials when opts has none.
func NewOCIRepository(rawURL string, opts Options) (*OCIRepository, error) {
	u, err := parseURL(rawURL, "oci")
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Path, ":@") {
		return nil, newError(ErrInvalidURL, "repository URL %s must name a registry namespace, without tag, digest or query", redact(u))
	}
	if u.User != nil && opts.Username == "" && opts.Password == "" && opts.BearerToken == "" {
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	opts = opts.withDefaults()
	cred, err := ociCredential(u.Host, opts)
	if err != nil {
		return nil, err
	}
	scheme := "https"
	if opts.PlainHTTP {
		scheme = "http"
	}
	tr, err := newAuthTransport(&url.URL{Scheme: scheme, Host: u.Host}, opts, false)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{CheckRedirect: checkRedirect,
		Transport: &retryTransport{base: tr, policy: opts.Retry, timeout: opts.Timeout}}
	client := &auth.Client{Client: hc, Credential: auth.StaticCredential(u.Host, cred), Cache: auth.NewCache()}
	client.SetUserAgent(opts.UserAgent)
	return &OCIRepository{host: u.Host, namespace: strings.Trim(u.Path, "/"), opts: opts, client: client,
		scope: scopeKey(&url.URL{Scheme: "oci", Host: u.Host, Path: u.Path}, credentialKey(cred), opts)}, nil
}

func credentialKey(c auth.Credential) string {
	return strings.Join([]string{c.Username, c.Password, c.RefreshToken, c.AccessToken}, "\x00")
}

// URL returns the repository URL without credentials.
func (r *OCIRepository) URL() string {
	return "oci://" + path.Join(r.host, r.namespace)
}

// repository returns the registry repository holding chart.
func (r *OCIRepository) repository(chart string) (*remote.Repository, error) {
	if chart == "" || strings.ContainsAny(chart, "/\\") || chart == "." || chart == ".." {
		return nil, newError(ErrInvalidURL, "chart name %q is not a valid OCI repository name", truncate(chart, 64))
	}
	return r.repositoryAt(path.Join(r.namespace, chart))
}

func (r *OCIRepository) repositoryAt(repoPath string) (*remote.Repository, error) {
	ref := registry.Reference{Registry: r.host, Repository: repoPath}
	if ref.ValidateRepository() != nil {
		return nil, newError(ErrInvalidURL, "%q is not a valid OCI repository name", truncate(repoPath, 128))
	}
	return &remote.Repository{Client: r.client, Reference: ref, PlainHTTP: r.opts.PlainHTTP,
		MaxMetadataBytes: maxManifestSize, TagListMaxPages: maxTagPages}, nil
}

// Check pings the registry's /v2/ endpoint with the configured credentials. OCI registries have
// no index, so the statistics are nil.
func (r *OCIRepository) Check(ctx context.Context) (*IndexStats, error) {
	reg, err := remote.NewRegistry(r.host)
	if err != nil {
		return nil, newError(ErrInvalidURL, "registry host %q is invalid", truncate(r.host, 64))
	}
	reg.Client, reg.PlainHTTP = r.client, r.opts.PlainHTTP
	if err := reg.Ping(ctx); err != nil {
		return nil, ociError(err)
	}
	return nil, nil
}

// Resolve picks the version of chart that constraint selects, as Helm does for OCI: a
// constraint that is itself a strict semver version is used as the tag directly; otherwise
// the tags are listed, '_' read back as '+', non-semver tags dropped, and the constraint
// resolved like an index's. The manifest is then fetched and checked, and the result carries
// the chart layer's digest.
func (r *OCIRepository) Resolve(ctx context.Context, chart, constraint string) (*ChartVersion, error) {
	if _, err := ParseConstraint(constraint); err != nil {
		return nil, err
	}
	repo, err := r.repository(chart)
	if err != nil {
		return nil, err
	}
	cv, err := r.pickVersion(ctx, repo, chart, constraint)
	if err != nil {
		return nil, err
	}
	if err := r.describe(ctx, repo, cv, tagOf(cv.Version)); err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return nil, versionNotFound(chart, constraint, nil)
		}
		return nil, err
	}
	return cv, nil
}

// tagOf maps a semver version to its OCI tag: '+' is not allowed in tags, Helm writes '_'.
func tagOf(version string) string { return strings.ReplaceAll(version, "+", "_") }

func (r *OCIRepository) pickVersion(ctx context.Context, repo *remote.Repository, chart, constraint string) (*ChartVersion, error) {
	if sv, err := semver.StrictNewVersion(constraint); err == nil {
		return r.chartVersion(repo, chart, constraint, sv), nil
	}
	versions, err := r.versions(ctx, repo, chart)
	if err != nil {
		return nil, err
	}
	cv, err := resolveVersion(chart, constraint, versions)
	if err != nil {
		return nil, err
	}
	return cv.clone(), nil
}

// versions lists the chart's tags as versions, newest first.
func (r *OCIRepository) versions(ctx context.Context, repo *remote.Repository, chart string) ([]*ChartVersion, error) {
	var out []*ChartVersion
	err := repo.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			v := strings.ReplaceAll(t, "_", "+")
			if sv, err := semver.StrictNewVersion(v); err == nil {
				out = append(out, r.chartVersion(repo, chart, v, sv))
			}
		}
		return nil
	})
	if err != nil {
		if isNameUnknown(err) {
			return nil, newError(ErrChartNotFound, "chart %q not found in repository", chart)
		}
		return nil, ociError(err)
	}
	sortNewestFirst(out)
	return out, nil
}

func (r *OCIRepository) chartVersion(repo *remote.Repository, chart, version string, sv *semver.Version) *ChartVersion {
	return &ChartVersion{Name: chart, Version: version, semver: sv,
		URLs: []string{"oci://" + repo.Reference.Registry + "/" + repo.Reference.Repository + ":" + tagOf(version)}}
}

func isNameUnknown(err error) bool {
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) || resp.StatusCode != http.StatusNotFound {
		return false
	}
	return len(resp.Errors) == 0 || resp.Errors[0].Code == errcode.ErrorCodeNameUnknown
}

// ociError classifies registry answers: 401/403 (or a basic-auth challenge without
// credentials) as ErrUnauthorized, 404 as ErrNotFound.
func ociError(err error) error {
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: %w", ErrUnauthorized, err)
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}

// Fetch pulls the chart layer of cv by digest, after checking its descriptor size against
// MaxChartSize, and verifies its digest. A ChartVersion not made by Resolve (no layer known) is
// described again from its URL; if it carries a digest, the layer must match it.
func (r *OCIRepository) Fetch(ctx context.Context, cv *ChartVersion) ([]byte, error) {
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
	pull := func(ctx context.Context) ([]byte, error) { return r.pull(ctx, repo, layer.layer) }
	if r.opts.ArchiveCache == nil {
		return pull(ctx)
	}
	return r.opts.ArchiveCache.Get(ctx, r.scope+"@"+layer.layer.Digest.String(), pull)
}

func (r *OCIRepository) pull(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor) ([]byte, error) {
	rc, err := repo.Blobs().Fetch(ctx, desc)
	if err != nil {
		return nil, ociError(err)
	}
	defer drainAndClose(rc)
	data, err := readLimited(rc, desc.Size)
	if err != nil {
		return nil, fmt.Errorf("pull chart layer %s: %w", desc.Digest, err)
	}
	if int64(len(data)) != desc.Size {
		return nil, fmt.Errorf("pull chart layer %s: got %d bytes, the descriptor says %d", desc.Digest, len(data), desc.Size)
	}
	return data, verifyDigest(data, desc.Digest.Encoded(), "chart layer "+desc.Digest.String())
}

// describeURL re-reads the manifest a ChartVersion's URL names and returns its chart layer.
func (r *OCIRepository) describeURL(ctx context.Context, cv *ChartVersion) (*ociLayer, error) {
	if len(cv.URLs) == 0 {
		return nil, newError(ErrNotFound, "chart %q version %q has no OCI reference", cv.Name, cv.Version)
	}
	ref, err := registry.ParseReference(strings.TrimPrefix(cv.URLs[0], "oci://"))
	if err != nil || ref.Registry != r.host || !r.inNamespace(ref.Repository) {
		return nil, newError(ErrInvalidURL, "chart reference %s is not in repository %s", redactString(cv.URLs[0]), r.URL())
	}
	repo, err := r.repositoryAt(ref.Repository)
	if err != nil {
		return nil, err
	}
	c := cv.clone()
	if err := r.describe(ctx, repo, c, ref.Reference); err != nil {
		return nil, err
	}
	if want := normalizeDigest(cv.Digest); want != "" && want != c.Digest {
		return nil, newError(ErrDigestMismatch, "chart %q version %q: the registry now serves layer sha256:%s, sha256:%s was expected",
			cv.Name, cv.Version, c.Digest, want)
	}
	return c.oci, nil
}

func (r *OCIRepository) inNamespace(repoPath string) bool {
	return r.namespace == "" || strings.HasPrefix(repoPath, r.namespace+"/")
}
