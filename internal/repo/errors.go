package repo

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Errors callers classify with errors.Is. Each names a class the controllers map to a condition
// reason; docs/repositories.md lists which are terminal and which are worth a retry.
var (
	// ErrEmptyIndex reports an index document with no bytes.
	ErrEmptyIndex = errors.New("empty index.yaml file")
	// ErrNoAPIVersion reports an index without the top-level apiVersion field.
	ErrNoAPIVersion = errors.New("no API version specified")
	// ErrInvalidIndex reports an index that is not valid YAML or JSON, or has the wrong shape.
	ErrInvalidIndex = errors.New("invalid index")
	// ErrTooLarge reports a body, descriptor or file above its configured size limit.
	ErrTooLarge = errors.New("size limit exceeded")
	// ErrChartNotFound reports a chart name the repository does not hold.
	ErrChartNotFound = errors.New("chart not found")
	// ErrVersionNotFound reports a constraint that no version of the chart satisfies.
	ErrVersionNotFound = errors.New("chart version not found")
	// ErrInvalidConstraint reports a version constraint that does not parse.
	ErrInvalidConstraint = errors.New("invalid version constraint")
	// ErrDigestMismatch reports downloaded bytes whose digest differs from the announced one.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrMissingDigest reports an index entry without a digest while verification is required.
	ErrMissingDigest = errors.New("missing digest")
	// ErrInvalidURL reports a repository or chart URL that is malformed or has a forbidden scheme.
	ErrInvalidURL = errors.New("invalid URL")
	// ErrUnsupportedMediaType reports an OCI manifest, config or layer of an unexpected media type.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrUnauthorized reports a 401 or 403 answer: missing, wrong or insufficient credentials.
	ErrUnauthorized = errors.New("authentication failed")
	// ErrNotFound reports a 404 answer for an index, archive or manifest.
	ErrNotFound = errors.New("not found")
	// ErrInvalidOptions reports options that contradict each other or do not parse (PEM, JSON).
	ErrInvalidOptions = errors.New("invalid repository options")
	// ErrUnverified reports a chart whose signature is missing, too large to read, or refused by
	// the caller's check. It is terminal: the same bytes fail the same way next time.
	ErrUnverified = errors.New("chart not verified")
)

// StatusError is an HTTP answer other than success. URL is already redacted: it never holds
// userinfo or a query string, so the error is safe to put in a condition message.
type StatusError struct {
	URL  string
	Code int
}

// Error formats the answer the way Helm's getter does.
func (e *StatusError) Error() string {
	return fmt.Sprintf("failed to fetch %s : %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// Is makes 401 and 403 match ErrUnauthorized and 404 match ErrNotFound.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden
	case ErrNotFound:
		return e.Code == http.StatusNotFound
	}
	return false
}

// redact renders u without userinfo, query or fragment, so that tokens in signed URLs and
// passwords in userinfo never reach an error message or a log line.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}

// redactString parses s and redacts it; an unparsable URL is replaced by a placeholder rather
// than echoed, since it could be anything.
func redactString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	return redact(u)
}

// unwrapURLError removes net/http's *url.Error layer, whose message repeats the full request URL
// (query string included), so the caller can wrap the cause with a redacted URL instead.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
