package repo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestHTTPRepository_Fetch_verification(t *testing.T) {
	chart := makeChart(t, "app", "1.0.0")
	good := sha256Hex(chart)
	cases := map[string]struct {
		digest, url string
		opts        Options
		want        error
		text        string
	}{
		"a matching digest is accepted":                        {digest: good},
		"an upper-case, prefixed digest is accepted":           {digest: "sha256:" + strings.ToUpper(good)},
		"a mismatch is refused":                                {digest: strings.Repeat("ab", 32), want: ErrDigestMismatch, text: "but sha256:abab"},
		"a missing digest is refused by default":               {digest: "", want: ErrMissingDigest, text: `chart "app" version "1.0.0" has no digest`},
		"a missing digest is accepted when explicitly allowed": {digest: "", opts: Options{AllowMissingDigest: true}},
		"a malformed digest is refused":                        {digest: "xyz", want: ErrInvalidIndex, text: "malformed digest"},
		"an archive over the limit is refused":                 {digest: good, opts: Options{MaxChartSize: 100}, want: ErrTooLarge},
		"a file URL in the index is refused":                   {digest: good, url: "file:///etc/passwd", want: ErrInvalidURL, text: `scheme "file"`},
		"a missing archive is a not-found":                     {digest: good, url: "missing.tgz", want: ErrNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			srv := newRepoServer(t)
			srv.put("/app-1.0.0.tgz", chart)
			u := tc.url
			if u == "" {
				u = "app-1.0.0.tgz"
			}
			srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", tc.digest, u})))
			tc.opts.ArchiveCache = NewArchiveCache(0)
			tc.opts.Retry = fastRetry
			r, err := NewHTTPRepository(srv.URL, tc.opts)
			g.Expect(err).NotTo(HaveOccurred())
			cv, err := r.Resolve(context.Background(), "app", "1.0.0")
			g.Expect(err).NotTo(HaveOccurred())
			data, err := r.Fetch(context.Background(), cv)
			if tc.want == nil {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(data).To(Equal(chart))
				return
			}
			g.Expect(err).To(MatchError(tc.want))
			g.Expect(err.Error()).To(ContainSubstring(tc.text))
			g.Expect(tc.opts.ArchiveCache.Stats().Entries).To(BeZero(), "nothing is cached after a failure")
		})
	}
}

func TestHTTPRepository_Fetch_mismatchIsNeverCached(t *testing.T) {
	g := NewWithT(t)
	chart := makeChart(t, "app", "1.0.0")
	srv := newRepoServer(t)
	srv.put("/app.tgz", []byte("tampered"))
	srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", sha256Hex(chart), "app.tgz"})))
	r, err := NewHTTPRepository(srv.URL, Options{ArchiveCache: NewArchiveCache(0)})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Fetch(context.Background(), cv)
	g.Expect(err).To(MatchError(ErrDigestMismatch))

	srv.put("/app.tgz", chart)
	data, err := r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred(), "the next fetch downloads again and succeeds")
	g.Expect(data).To(Equal(chart))
	g.Expect(srv.rec.count("/app.tgz")).To(Equal(2))
	_, err = r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(srv.rec.count("/app.tgz")).To(Equal(2), "a verified archive is served from the cache")
}

func TestHTTPRepository_Fetch_concurrentCallersDownloadOnce(t *testing.T) {
	g := NewWithT(t)
	chart := makeChart(t, "app", "1.0.0")
	srv := newRepoServer(t)
	srv.put("/app.tgz", chart)
	srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", sha256Hex(chart), "app.tgz"})))
	inner := srv.defaultHandler()
	srv.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		inner.ServeHTTP(w, r)
	}))
	cache := NewArchiveCache(0)
	r, err := NewHTTPRepository(srv.URL, Options{ArchiveCache: cache})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred())
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			data, err := r.Fetch(context.Background(), cv)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(data).To(Equal(chart))
		})
	}
	wg.Wait()
	g.Expect(srv.rec.count("/app.tgz")).To(Equal(1))
	g.Expect(cache.Stats().Entries).To(Equal(1))
}

func TestHTTPRepository_Fetch_noURLs(t *testing.T) {
	g := NewWithT(t)
	r, err := NewHTTPRepository("https://charts.example.com", Options{})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Fetch(context.Background(), &ChartVersion{Name: "app", Version: "1.0.0"})
	g.Expect(err).To(MatchError(ErrNotFound))
	g.Expect(err.Error()).To(ContainSubstring("has no downloadable URLs"))
}

func TestNew(t *testing.T) {
	cases := map[string]struct {
		url  string
		kind string
		err  error
	}{
		"https is an HTTP repository":          {url: "https://charts.example.com/stable", kind: "*repo.HTTPRepository"},
		"http is allowed":                      {url: "http://charts.example.com", kind: "*repo.HTTPRepository"},
		"upper-case schemes are fine":          {url: "HTTPS://charts.example.com", kind: "*repo.HTTPRepository"},
		"oci is an OCI repository":             {url: "oci://registry.example.com/charts", kind: "*repo.OCIRepository"},
		"a bare registry host is fine for OCI": {url: "oci://registry.example.com:5000", kind: "*repo.OCIRepository"},
		"file is refused":                      {url: "file:///etc", err: ErrInvalidURL},
		"ftp is refused":                       {url: "ftp://user:s3cret@h/x?token=t0k", err: ErrInvalidURL},
		"no scheme is refused":                 {url: "charts.example.com", err: ErrInvalidURL},
		"no host is refused":                   {url: "https:///path", err: ErrInvalidURL},
		"an OCI tag is refused":                {url: "oci://registry.example.com/charts/app:1.0.0", err: ErrInvalidURL},
		"an OCI query is refused":              {url: "oci://registry.example.com/charts?x=1", err: ErrInvalidURL},
		"a control character does not parse":   {url: "https://h/\x7f s3cret", err: ErrInvalidURL},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			src, err := New(tc.url, Options{})
			if tc.err != nil {
				g.Expect(err).To(MatchError(tc.err))
				expectNoSecrets(g, err, "s3cret", "t0k")
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(fmt.Sprintf("%T", src)).To(Equal(tc.kind))
		})
	}
}
