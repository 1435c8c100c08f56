package repo

import (
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// Defaults for Options fields left zero.
const (
	// DefaultMaxChartSize is the compressed chart archive limit: 10 MiB.
	DefaultMaxChartSize int64 = 10 << 20
	// DefaultTimeout bounds one HTTP request, body included.
	DefaultTimeout = 60 * time.Second
	// DefaultUserAgent is sent with every request.
	DefaultUserAgent = "capstan"
	// maxRedirects is the longest redirect chain followed.
	maxRedirects = 5
	// maxManifestSize bounds OCI manifests and config blobs, as oras does by default.
	maxManifestSize int64 = 4 << 20
)

// Options configures a repository client. The zero value is usable: no credentials, system
// roots, default limits, retries and timeouts, and a private cache per repository.
type Options struct {
	// Username and Password are basic-auth credentials (or registry credentials for OCI).
	Username, Password string
	// BearerToken is sent as "Authorization: Bearer" (an OCI registry access token for OCI).
	BearerToken string
	// DockerConfigJSON is a .dockerconfigjson payload; OCI only. The entry for the registry's
	// host is used when Username, Password and BearerToken are empty.
	DockerConfigJSON []byte
	// CAPEM adds PEM certificates to the system roots for verifying servers.
	CAPEM []byte
	// CertPEM and KeyPEM are a client certificate and key, presented to the repository's host.
	CertPEM, KeyPEM []byte
	// InsecureSkipVerify disables server certificate verification. Never implied by anything else.
	InsecureSkipVerify bool
	// PassCredentials sends credentials to chart URLs on other hosts than the repository's,
	// as Helm's pass_credentials_all does. Redirects to another host never carry credentials.
	PassCredentials bool
	// PlainHTTP talks to an OCI registry over http instead of https; OCI only.
	PlainHTTP bool
	// DenyPrivateNetworks refuses to connect to loopback, RFC 1918, CGNAT, unique local and
	// unspecified addresses, checked on the resolved address at dial time so that redirects
	// and DNS answers cannot steer a request inside the cluster. Off by default because
	// in-cluster repositories are common; turn it on for multi-tenant controllers. Link-local
	// and cloud metadata addresses are refused whatever this says.
	DenyPrivateNetworks bool
	// AllowNetworks lists private ranges that stay reachable under DenyPrivateNetworks, such
	// as the cluster's in-cluster chart servers. It never opens link-local or metadata addresses.
	AllowNetworks []netip.Prefix
	// Proxy chooses the proxy of a request; nil reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY from
	// the environment. A request's target is checked against the network policy before it is
	// handed to a proxy, and the proxy's own address is checked when it is dialled.
	Proxy func(*http.Request) (*url.URL, error)
	// AllowMissingDigest accepts index entries without a digest (the archive then cannot be
	// verified or cached). By default such entries fail with ErrMissingDigest.
	AllowMissingDigest bool

	// Timeout bounds each HTTP request including its body; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxIndexSize limits the index; DefaultMaxIndexSize when zero.
	MaxIndexSize int64
	// MaxChartSize limits a chart archive; DefaultMaxChartSize when zero.
	MaxChartSize int64
	// Retry controls retries of failed requests.
	Retry RetryPolicy
	// UserAgent is sent with every request; DefaultUserAgent when empty.
	UserAgent string

	// IndexCache holds parsed indexes and their validators; share one between all clients so
	// that a repository's index is downloaded and parsed once. A private cache when nil.
	IndexCache *IndexCache
	// ArchiveCache holds verified archives by digest; share one between all clients. No
	// archive caching when nil.
	ArchiveCache *ArchiveCache

	// hooks replaces name resolution and dialling in tests.
	hooks *netHooks
}

// withDefaults fills zero fields with the package defaults.
func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxIndexSize <= 0 {
		o.MaxIndexSize = DefaultMaxIndexSize
	}
	if o.MaxChartSize <= 0 {
		o.MaxChartSize = DefaultMaxChartSize
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	o.Retry = o.Retry.withDefaults()
	return o
}
