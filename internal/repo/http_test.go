package repo

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestHTTPRepository_resolveAndFetch(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	d1 := srv.addChart(t, "/sub/charts/app-1.0.0.tgz", "app", "1.0.0")
	d2 := srv.addChart(t, "/abs/app-1.1.0.tgz", "app", "1.1.0")
	srv.put("/sub/index.yaml", []byte(indexYAML(
		testEntry{"app", "1.0.0", d1, "charts/app-1.0.0.tgz"},
		testEntry{"app", "1.1.0", d2, "/abs/app-1.1.0.tgz"},
	)))
	r, err := NewHTTPRepository(srv.URL+"/sub/?sig=s3cret", Options{})
	g.Expect(err).NotTo(HaveOccurred())

	cv, err := r.Resolve(context.Background(), "app", "1.0.x")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cv.Version).To(Equal("1.0.0"))
	data, err := r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sha256Hex(data)).To(Equal(d1))

	cv, err = r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cv.Version).To(Equal("1.1.0"))
	_, err = r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred(), "a path-absolute URL resolves against the host")

	stats, err := r.Check(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stats.Charts).To(Equal(1))
	g.Expect(stats.Versions).To(Equal(2))
	g.Expect(r.URL()).To(Equal(srv.URL + "/sub/"))
}

func TestResolveReference(t *testing.T) {
	cases := map[string]struct{ base, ref, want string }{
		"relative to a base without trailing slash": {"https://h/repo", "charts/x.tgz", "https://h/repo/charts/x.tgz"},
		"relative to a base with trailing slash":    {"https://h/repo/", "x.tgz", "https://h/repo/x.tgz"},
		"path-absolute goes to the host root":       {"https://h/repo", "/x.tgz", "https://h/x.tgz"},
		"absolute stays as it is":                   {"https://h/repo?sig=1", "https://m/x.tgz?a=b", "https://m/x.tgz?a=b"},
		"the base query is copied onto relatives":   {"https://h/repo?sig=1", "x.tgz", "https://h/repo/x.tgz?sig=1"},
		"the base query replaces a relative query":  {"https://h/repo?sig=1", "x.tgz?other=2", "https://h/repo/x.tgz?sig=1"},
		"the index itself":                          {"https://h", "index.yaml", "https://h/index.yaml"},
		"dot segments resolve":                      {"https://h/a/b", "../x.tgz", "https://h/a/x.tgz"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			base, err := url.Parse(tc.base)
			g.Expect(err).NotTo(HaveOccurred())
			ref, err := url.Parse(tc.ref)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(resolveReference(base, ref).String()).To(Equal(tc.want))
		})
	}
}

// countingParse wraps the parser so tests can see how often an index is really parsed.
func countingParse(r *HTTPRepository) *atomic.Int32 {
	var n atomic.Int32
	r.parse = func(b []byte) (*Index, []string, error) {
		n.Add(1)
		return parseIndexBytes(b)
	}
	return &n
}

func TestHTTPRepository_conditionalGET(t *testing.T) {
	cases := map[string]struct {
		etag, modTime bool
		header        func(recorded) string
	}{
		"ETag and If-None-Match":              {etag: true, header: func(r recorded) string { return r.ifNoneMatch }},
		"Last-Modified and If-Modified-Since": {modTime: true, header: func(r recorded) string { return r.ifModifiedSince }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			srv := newRepoServer(t)
			srv.set(func(s *repoServer) { s.etag = tc.etag })
			if !tc.modTime {
				srv.set(func(s *repoServer) { s.modTime = time.Time{} })
			}
			srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", strings.Repeat("a", 64), "app.tgz"})))
			r, err := NewHTTPRepository(srv.URL, Options{})
			g.Expect(err).NotTo(HaveOccurred())
			parses := countingParse(r)

			first, err := r.Index(context.Background())
			g.Expect(err).NotTo(HaveOccurred())
			second, err := r.Index(context.Background())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(second).To(BeIdenticalTo(first), "an unchanged index is the cached one")
			g.Expect(parses.Load()).To(BeEquivalentTo(1), "a 304 costs no parse")
			reqs := srv.rec.all()
			g.Expect(reqs).To(HaveLen(2))
			g.Expect(tc.header(reqs[0])).To(BeEmpty(), "the first request is unconditional")
			g.Expect(tc.header(reqs[1])).NotTo(BeEmpty(), "the second request carries the validator")

			srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "2.0.0", strings.Repeat("b", 64), "app.tgz"})))
			srv.set(func(s *repoServer) { s.modTime = s.modTime.Add(time.Hour) })
			third, err := r.Index(context.Background())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(parses.Load()).To(BeEquivalentTo(2), "a changed index is parsed")
			g.Expect(versionsOf(third.Versions("app"))).To(Equal([]string{"2.0.0"}))
		})
	}
}

func TestHTTPRepository_sharedIndexCache(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.set(func(s *repoServer) { s.etag = false })
	srv.set(func(s *repoServer) { s.modTime = time.Time{} })
	srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", strings.Repeat("a", 64), "app.tgz"})))
	cache := NewIndexCache(0)
	a, err := NewHTTPRepository(srv.URL, Options{IndexCache: cache})
	g.Expect(err).NotTo(HaveOccurred())
	b, err := NewHTTPRepository(srv.URL, Options{IndexCache: cache, Username: "other", Password: "x"})
	g.Expect(err).NotTo(HaveOccurred())
	pa, pb := countingParse(a), countingParse(b)

	ia, err := a.Index(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	ib, err := b.Index(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ib).To(BeIdenticalTo(ia), "the same bytes map to the same parsed index")
	g.Expect(pa.Load() + pb.Load()).To(BeEquivalentTo(1))
	g.Expect(srv.rec.count("/index.yaml")).To(Equal(2), "each client downloads, without validators to share")
	g.Expect(cache.Stats().Entries).To(Equal(1))
}

func TestHTTPRepository_concurrentIndexFetchesShareOne(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", strings.Repeat("a", 64), "app.tgz"})))
	slow := srv.defaultHandler()
	srv.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		slow.ServeHTTP(w, r)
	}))
	r, err := NewHTTPRepository(srv.URL, Options{})
	g.Expect(err).NotTo(HaveOccurred())
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, err := r.Index(context.Background())
			g.Expect(err).NotTo(HaveOccurred())
		})
	}
	wg.Wait()
	g.Expect(srv.rec.count("/index.yaml")).To(Equal(1))
}

func TestHTTPRepository_indexFailures(t *testing.T) {
	cases := map[string]struct {
		handler http.HandlerFunc
		opts    Options
		want    error
		text    string
		tries   int32
	}{
		"404 is a not-found status error, not retried": {
			handler: func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) },
			want:    ErrNotFound, text: "failed to fetch http://127.0.0.1", tries: 1,
		},
		"403 is an authentication error": {
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) },
			want:    ErrUnauthorized, text: "403 Forbidden", tries: 1,
		},
		"an announced oversized body is refused before reading": {
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "2048")
				_, _ = w.Write(make([]byte, 2048))
			},
			opts: Options{MaxIndexSize: 1024}, want: ErrTooLarge, text: "larger than the limit of 1024 bytes", tries: 1,
		},
		"an empty body is an empty index": {
			handler: func(http.ResponseWriter, *http.Request) {},
			want:    ErrEmptyIndex, tries: 1,
		},
		"a body that is not an index": {
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>hello</html>")) },
			want:    ErrInvalidIndex, tries: 1,
		},
		"a truncated body is retried, then reported": {
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "1000")
				_, _ = w.Write([]byte("apiVersion: v1\n"))
			},
			want: errAny, text: "unexpected EOF", tries: 4,
		},
		"a 500 is retried up to the attempt limit": {
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
			want:    errAny, text: "500 Internal Server Error", tries: 4,
		},
		"a 501 is not retried": {
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotImplemented) },
			want:    errAny, text: "501", tries: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var tries atomic.Int32
			srv := newRepoServer(t)
			srv.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tries.Add(1)
				tc.handler(w, r)
			}))
			tc.opts.Retry = fastRetry
			r, err := NewHTTPRepository(srv.URL, tc.opts)
			g.Expect(err).NotTo(HaveOccurred())
			_, err = r.Index(context.Background())
			g.Expect(err).To(HaveOccurred())
			if !errors.Is(tc.want, errAny) {
				g.Expect(err).To(MatchError(tc.want))
			}
			g.Expect(err.Error()).To(ContainSubstring(tc.text))
			g.Expect(tries.Load()).To(Equal(tc.tries))
		})
	}
}

var errAny = errors.New("any error")

// TestHTTPRepository_endlessIndex streams index bytes forever; the client must stop at the
// limit, and the server must have been able to send little more than that.
func TestHTTPRepository_endlessIndex(t *testing.T) {
	g := NewWithT(t)
	var sent atomic.Int64
	srv := newRepoServer(t)
	srv.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte("# " + strings.Repeat("x", 1021) + "\n")
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	const limit = 1 << 20
	r, err := NewHTTPRepository(srv.URL, Options{MaxIndexSize: limit, Retry: fastRetry})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ErrTooLarge))
	g.Expect(err.Error()).To(ContainSubstring("larger than the limit of 1048576 bytes"))
	srv.CloseClientConnections()
	g.Expect(sent.Load()).To(BeNumerically("<", 8*limit), "the client stopped reading near the limit")
}

func TestHTTPRepository_retries(t *testing.T) {
	cases := map[string]struct {
		failures   int
		status     int
		retryAfter string
		policy     RetryPolicy
		ok         bool
		minElapsed time.Duration
		tries      int32
	}{
		"429 with Retry-After is honoured, then succeeds": {failures: 1, status: http.StatusTooManyRequests, retryAfter: "1",
			policy: fastRetry, ok: true, minElapsed: time.Second, tries: 2},
		"503 twice, then success": {failures: 2, status: http.StatusServiceUnavailable, policy: fastRetry, ok: true, tries: 3},
		"a Retry-After beyond the longest wait ends the retries at once": {failures: 1, status: http.StatusTooManyRequests,
			retryAfter: "3600", policy: fastRetry, tries: 1},
		"one attempt means no retry": {failures: 1, status: http.StatusBadGateway, policy: RetryPolicy{MaxAttempts: 1}, tries: 1},
		"the time budget ends the retries": {failures: 10, status: http.StatusBadGateway, retryAfter: "1",
			policy: RetryPolicy{MaxAttempts: 10, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 1500 * time.Millisecond},
			tries:  2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var tries atomic.Int32
			srv := newRepoServer(t)
			srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", strings.Repeat("a", 64), "app.tgz"})))
			inner := srv.defaultHandler()
			srv.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if int(tries.Add(1)) <= tc.failures {
					if tc.retryAfter != "" {
						w.Header().Set("Retry-After", tc.retryAfter)
					}
					w.WriteHeader(tc.status)
					return
				}
				inner.ServeHTTP(w, r)
			}))
			r, err := NewHTTPRepository(srv.URL, Options{Retry: tc.policy})
			g.Expect(err).NotTo(HaveOccurred())
			start := time.Now()
			_, err = r.Index(context.Background())
			g.Expect(err == nil).To(Equal(tc.ok), "error: %v", err)
			g.Expect(time.Since(start)).To(BeNumerically(">=", tc.minElapsed))
			g.Expect(tries.Load()).To(Equal(tc.tries))
		})
	}
}

func TestHTTPRepository_retryWaitHonoursContext(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.setHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	r, err := NewHTTPRepository(srv.URL, Options{Retry: RetryPolicy{MaxBackoff: 10 * time.Second}})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = r.Index(ctx)
	g.Expect(err).To(MatchError(context.Canceled))
	g.Expect(err.Error()).To(ContainSubstring("503"), "the last server answer is kept in the error")
	g.Expect(time.Since(start)).To(BeNumerically("<", time.Second))
}

func TestHTTPRepository_timeouts(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"a server that never answers": func(_ http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		},
		"a body that trickles": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte("#")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			srv := newRepoServer(t)
			srv.setHandler(h)
			r, err := NewHTTPRepository(srv.URL, Options{Timeout: 300 * time.Millisecond,
				Retry: RetryPolicy{MaxAttempts: 2, InitialBackoff: 10 * time.Millisecond}})
			g.Expect(err).NotTo(HaveOccurred())
			start := time.Now()
			_, err = r.Index(context.Background())
			g.Expect(err).To(HaveOccurred())
			g.Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second), "two attempts of 300ms each")
			srv.CloseClientConnections()
		})
	}
}
