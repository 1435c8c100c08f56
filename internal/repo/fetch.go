package repo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// httpGetter performs GET requests with retries and reads bodies under a size limit.
type httpGetter struct {
	client *http.Client
	policy RetryPolicy
}

// response is a finished GET: a 200 with its whole body, or a 304.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// get fetches u, retrying what the policy allows. header is added to each attempt. A 200 body
// is read whole but never beyond limit bytes; a 304 is returned as is; any other status is a
// *StatusError. Errors name u redacted.
func (g *httpGetter) get(ctx context.Context, u *url.URL, header http.Header, limit int64) (*response, error) {
	var resp *response
	err := g.policy.run(ctx, func() error {
		var err error
		resp, err = g.attempt(ctx, u, header, limit)
		return err
	})
	return resp, err
}

func (g *httpGetter) attempt(ctx context.Context, u *url.URL, header http.Header, limit int64) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", redact(u), unwrapURLError(err))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := g.client.Do(req)
	if err != nil {
		err = fmt.Errorf("fetch %s: %w", redact(u), unwrapURLError(err))
		if retryableTransportError(ctx, err) {
			return nil, &retryableError{err: err}
		}
		return nil, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // lets the connection be reused.
		_ = resp.Body.Close()
	}()
	return g.read(ctx, u, resp, limit)
}

func (g *httpGetter) read(ctx context.Context, u *url.URL, resp *http.Response, limit int64) (*response, error) {
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return &response{code: resp.StatusCode, header: resp.Header}, nil
	case resp.StatusCode != http.StatusOK:
		err := &StatusError{URL: redact(u), Code: resp.StatusCode}
		if retryableStatus(resp.StatusCode) {
			return nil, &retryableError{err: err, after: retryAfter(resp.Header)}
		}
		return nil, err
	case resp.ContentLength > limit:
		return nil, newError(ErrTooLarge, "%s is %d bytes, larger than the limit of %d bytes",
			redact(u), resp.ContentLength, limit)
	}
	body, err := readLimitedHint(resp.Body, limit, resp.ContentLength)
	if err != nil {
		err = fmt.Errorf("fetch %s: %w", redact(u), err)
		if retryableTransportError(ctx, err) {
			return nil, &retryableError{err: err}
		}
		return nil, err
	}
	return &response{code: resp.StatusCode, header: resp.Header, body: body}, nil
}
