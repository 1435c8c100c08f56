package repo

import (
	"context"
	"net/url"
	"strings"
)

// Source is a chart repository as the controllers see it, whatever its protocol.
type Source interface {
	// Resolve picks the version of chart that constraint selects ("" or "*" is the newest
	// stable version).
	Resolve(ctx context.Context, chart, constraint string) (*ChartVersion, error)
	// Fetch returns the verified archive of a resolved version. The bytes may be shared with
	// other callers and must not be modified.
	Fetch(ctx context.Context, cv *ChartVersion) ([]byte, error)
	// Check reaches the repository and returns its index statistics (nil for OCI registries,
	// which have no index).
	Check(ctx context.Context) (*IndexStats, error)
}

// New returns the Source for url: an OCIRepository for oci://, an HTTPRepository for http://
// and https://. Any other scheme is an ErrInvalidURL.
func New(rawURL string, opts Options) (Source, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, newError(ErrInvalidURL, "repository URL %s does not parse", redactString(rawURL))
	}
	if strings.EqualFold(u.Scheme, "oci") {
		return NewOCIRepository(rawURL, opts)
	}
	return NewHTTPRepository(rawURL, opts)
}
