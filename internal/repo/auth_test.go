package repo

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
)

func TestHTTPRepository_auth(t *testing.T) {
	cases := map[string]struct {
		user, pass, token string
		url               func(base string) string
		opts              Options
		ok                bool
	}{
		"basic credentials are accepted": {user: "alice", pass: "pa55word",
			opts: Options{Username: "alice", Password: "pa55word"}, ok: true},
		"wrong basic credentials fail": {user: "alice", pass: "pa55word",
			opts: Options{Username: "alice", Password: "wrong-pa55"}},
		"missing credentials fail": {user: "alice", pass: "pa55word"},
		"a bearer token is accepted": {token: "t0ken-value",
			opts: Options{BearerToken: "t0ken-value"}, ok: true},
		"a wrong bearer token fails": {token: "t0ken-value",
			opts: Options{BearerToken: "other-t0ken"}},
		"userinfo in the URL becomes basic credentials": {user: "alice", pass: "pa55word",
			url: func(b string) string { return strings.Replace(b, "http://", "http://alice:pa55word@", 1) }, ok: true},
		"wrong userinfo in the URL fails": {user: "alice", pass: "pa55word",
			url: func(b string) string { return strings.Replace(b, "http://", "http://alice:wrong-pa55@", 1) }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			srv := newRepoServer(t)
			srv.set(func(s *repoServer) { s.user, s.pass, s.token = tc.user, tc.pass, tc.token })
			d := srv.addChart(t, "/app-1.0.0.tgz", "app", "1.0.0")
			srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", d, "app-1.0.0.tgz"})))
			u := srv.URL + "/?token=qu3ry-secret"
			if tc.url != nil {
				u = tc.url(u)
			}
			r, err := New(u, tc.opts)
			g.Expect(err).NotTo(HaveOccurred())
			cv, err := r.Resolve(context.Background(), "app", "")
			if !tc.ok {
				g.Expect(err).To(MatchError(ErrUnauthorized))
				expectNoSecrets(g, err, "pa55", "t0ken", "qu3ry-secret", "alice")
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			data, err := r.Fetch(context.Background(), cv)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(sha256Hex(data)).To(Equal(d))
		})
	}
}

// TestHTTPRepository_credentialScope serves the index from host A and the archive from host B,
// either directly (an absolute URL in the index) or by a redirect, and looks at what B saw.
func TestHTTPRepository_credentialScope(t *testing.T) {
	cases := map[string]struct {
		redirect  bool
		pass      bool
		wantAuthB bool
	}{
		"an index URL on another host gets no credentials":                  {},
		"PassCredentials sends them to an index URL on another host":        {pass: true, wantAuthB: true},
		"a redirect to another host never carries credentials":              {redirect: true},
		"a redirect to another host carries none even with PassCredentials": {redirect: true, pass: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			b := newRepoServer(t)
			d := b.addChart(t, "/app-1.0.0.tgz", "app", "1.0.0")
			a := newRepoServer(t)
			a.set(func(s *repoServer) { s.user, s.pass = "alice", "pa55word" })
			chartURL := b.URL + "/app-1.0.0.tgz"
			if tc.redirect {
				chartURL = "app-1.0.0.tgz"
				inner := a.defaultHandler()
				a.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/app-1.0.0.tgz" {
						a.rec.record(r)
						http.Redirect(w, r, b.URL+"/app-1.0.0.tgz", http.StatusFound)
						return
					}
					inner.ServeHTTP(w, r)
				}))
			}
			a.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", d, chartURL})))
			r, err := NewHTTPRepository(a.URL, Options{Username: "alice", Password: "pa55word", PassCredentials: tc.pass})
			g.Expect(err).NotTo(HaveOccurred())
			cv, err := r.Resolve(context.Background(), "app", "")
			g.Expect(err).NotTo(HaveOccurred())
			_, err = r.Fetch(context.Background(), cv)
			g.Expect(err).NotTo(HaveOccurred())

			for _, req := range a.rec.all() {
				g.Expect(req.authorization).To(HavePrefix("Basic "), "host A always gets its credentials")
			}
			reqsB := b.rec.all()
			g.Expect(reqsB).To(HaveLen(1))
			g.Expect(reqsB[0].authorization != "").To(Equal(tc.wantAuthB), "Authorization at host B: %q", reqsB[0].authorization)
		})
	}
}

// TestHTTPRepository_urlCredentials checks that credentials written into an index entry's URL
// go to that URL only, and that the repository's own credentials do not follow them.
func TestHTTPRepository_urlCredentials(t *testing.T) {
	g := NewWithT(t)
	b := newRepoServer(t)
	b.set(func(s *repoServer) { s.user, s.pass = "mirror", "m1rror-pw" })
	d := b.addChart(t, "/app.tgz", "app", "1.0.0")
	a := newRepoServer(t)
	a.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", d,
		strings.Replace(b.URL, "http://", "http://mirror:m1rror-pw@", 1) + "/app.tgz"})))
	r, err := NewHTTPRepository(a.URL, Options{Username: "alice", Password: "pa55word"})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred(), "the mirror accepted the credentials from its URL")
	g.Expect(b.rec.all()[0].authorization).To(Equal("Basic bWlycm9yOm0xcnJvci1wdw=="))

	b.set(func(s *repoServer) { s.pass = "rotated" })
	_, err = r.Fetch(context.Background(), cv)
	g.Expect(err).To(MatchError(ErrUnauthorized))
	expectNoSecrets(g, err, "m1rror-pw", "pa55word", "mirror:")
}

func TestHTTPRepository_redirects(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.set(func(s *repoServer) { s.user, s.pass = "alice", "pa55word" })
	srv.put("/real/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", strings.Repeat("a", 64), "app.tgz"})))
	inner := srv.defaultHandler()
	var loops atomic.Int32
	srv.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved/index.yaml":
			http.Redirect(w, r, "/real/index.yaml", http.StatusMovedPermanently)
		case "/loop/index.yaml":
			loops.Add(1)
			http.Redirect(w, r, "/loop/index.yaml", http.StatusFound)
		default:
			inner.ServeHTTP(w, r)
		}
	}))
	opts := Options{Username: "alice", Password: "pa55word", Retry: fastRetry}

	r, err := NewHTTPRepository(srv.URL+"/moved", opts)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).NotTo(HaveOccurred(), "a same-host redirect keeps the credentials")

	r, err = NewHTTPRepository(srv.URL+"/loop", opts)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ContainSubstring("stopped after 5 redirects")))
	expectNoSecrets(g, err, "pa55word")
	g.Expect(loops.Load()).To(BeEquivalentTo(maxRedirects+1), "a redirect loop is not retried")
}

func TestHTTPRepository_refusesDowngrade(t *testing.T) {
	g := NewWithT(t)
	plain := newRepoServer(t)
	plain.put("/index.yaml", []byte(indexYAML()))
	pki := newPKI(t, "downgrade")
	tlsSrv := newTLSServer(t, pki, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/index.yaml", http.StatusFound)
	}), tlsServerOptions{})
	r, err := NewHTTPRepository(tlsSrv.URL, Options{CAPEM: pki.pem, Retry: fastRetry})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ContainSubstring("redirect from https to http://127.0.0.1")))
	g.Expect(plain.rec.all()).To(BeEmpty())
}
