package repo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// errRedirectPolicy marks a redirect refused by policy: too many hops or an https->http downgrade.
var errRedirectPolicy = errors.New("redirect refused")

// origin is a URL's scheme, host and port, with default ports made explicit, so that
// "https://h" and "https://h:443" compare equal and "http://h:1" and "http://h:2" do not.
type origin string

func originOf(u *url.URL) origin {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return origin(scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port)
}

// authTransport decides, for every request including each redirect hop, whether credentials
// and the client certificate may go with it. It never trusts headers set above it on a hop that
// left the origin of the chain's first request.
type authTransport struct {
	repo      origin
	authz     string // the Authorization value this transport adds; "" to keep the caller's (OCI).
	addAuth   bool
	pass      bool
	userAgent string
	withCert  http.RoundTripper
	plain     http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.userAgent)
	hop := originOf(req.URL)
	sameChain := hop == originOf(firstRequest(req).URL)
	switch {
	case !sameChain:
		r.Header.Del("Authorization")
	case t.addAuth:
		// The only Authorization a request can carry here is the one net/http derives from
		// userinfo written into the URL itself (an index entry's own credentials); it is kept
		// on that first request and never on a redirect.
		if req.Response != nil || req.URL.User == nil {
			r.Header.Del("Authorization")
		}
		if t.authz != "" && (hop == t.repo || t.pass) {
			r.Header.Set("Authorization", t.authz)
		}
	}
	if hop == t.repo {
		return t.withCert.RoundTrip(r)
	}
	return t.plain.RoundTrip(r)
}

// firstRequest walks a redirected request back to the request that started the chain.
func firstRequest(req *http.Request) *http.Request {
	for depth := 0; req.Response != nil && req.Response.Request != nil && depth <= maxRedirects+1; depth++ {
		req = req.Response.Request
	}
	return req
}

// checkRedirect bounds redirect chains and refuses https->http downgrades.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects at %s", errRedirectPolicy, maxRedirects, redact(req.URL))
	}
	if prev := via[len(via)-1]; strings.EqualFold(prev.URL.Scheme, "https") && !strings.EqualFold(req.URL.Scheme, "https") {
		return fmt.Errorf("%w: redirect from https to %s", errRedirectPolicy, redact(req.URL))
	}
	return nil
}

// newAuthTransport builds the transports for a repository at repoURL.
func newAuthTransport(repoURL *url.URL, o Options, addAuth bool) (*authTransport, error) {
	withCert, err := baseTransport(o, true)
	if err != nil {
		return nil, err
	}
	plain, err := baseTransport(o, false)
	if err != nil {
		return nil, err
	}
	t := &authTransport{repo: originOf(repoURL), addAuth: addAuth, pass: o.PassCredentials,
		userAgent: o.UserAgent, withCert: withCert, plain: plain}
	switch {
	case o.Username != "" || o.Password != "":
		t.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(o.Username+":"+o.Password))
	case o.BearerToken != "":
		t.authz = "Bearer " + o.BearerToken
	}
	return t, nil
}

func baseTransport(o Options, withCert bool) (*http.Transport, error) {
	cfg, err := tlsConfig(o, withCert)
	if err != nil {
		return nil, err
	}
	def, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("http.DefaultTransport is not an *http.Transport")
	}
	tr := def.Clone()
	tr.TLSClientConfig = cfg
	tr.ResponseHeaderTimeout = o.Timeout
	d := newGuardedDialer(NetworkPolicy{DenyPrivate: o.DenyPrivateNetworks, Allow: o.AllowNetworks}, o.hooks)
	tr.DialContext = d.DialContext
	proxy := o.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	tr.Proxy = d.proxy(proxy)
	return tr, nil
}

func tlsConfig(o Options, withCert bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true // only ever by the explicit option.
	}
	if len(o.CAPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(o.CAPEM) {
			return nil, fmt.Errorf("%w: the CA bundle holds no PEM certificate", ErrInvalidOptions)
		}
		cfg.RootCAs = pool
	}
	if (len(o.CertPEM) > 0) != (len(o.KeyPEM) > 0) {
		return nil, fmt.Errorf("%w: a client certificate needs both the certificate and the key", ErrInvalidOptions)
	}
	if withCert && len(o.CertPEM) > 0 {
		pair, err := tls.X509KeyPair(o.CertPEM, o.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate: %w", ErrInvalidOptions, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// retryTransport retries GET and HEAD round trips that fail with a transport error, 429 or a
// 5xx status, honouring Retry-After, and bounds each attempt by timeout. It serves the OCI
// client, whose requests oras issues one by one.
type retryTransport struct {
	base    http.RoundTripper
	policy  RetryPolicy
	timeout time.Duration
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return t.once(req)
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		resp, err := t.once(req)
		var after time.Duration
		switch {
		case err != nil && !retryableTransportError(req.Context(), err):
			return nil, err
		case err == nil && !retryableStatus(resp.StatusCode):
			return resp, nil
		case err == nil:
			after = retryAfter(resp.Header)
		}
		wait, ok := t.policy.next(req.Context(), attempt, start, after)
		if !ok {
			return resp, err
		}
		if resp != nil {
			drainAndClose(resp.Body)
		}
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// once makes one attempt under the per-request timeout; the timeout stays armed until the
// caller closes the body, so a slow body is bounded too.
func (t *retryTransport) once(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// drainAndClose reads a little of a discarded body so the connection can be reused.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 4096))
	_ = body.Close()
}
