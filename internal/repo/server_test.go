package repo

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// repoServer is a small Helm repository: files by path, optional ETag/Last-Modified, optional
// basic or bearer auth, and a record of every request.
type repoServer struct {
	*httptest.Server
	rec recorder

	mu      sync.Mutex
	files   map[string][]byte
	etags   map[string]string
	etag    bool
	modTime time.Time
	user    string
	pass    string
	token   string
	handler http.Handler // replaces the default handler when set
}

func newRepoServer(t testing.TB) *repoServer {
	t.Helper()
	s := &repoServer{files: map[string][]byte{}, etags: map[string]string{}, etag: true, modTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := s.handler
		s.mu.Unlock()
		if h == nil {
			h = s.defaultHandler()
		}
		h.ServeHTTP(w, r)
	}))
	s.Config.ErrorLog = quietLog()
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// defaultHandler records the request and serves the stored files.
func (s *repoServer) defaultHandler() http.Handler { return s.rec.wrap(http.HandlerFunc(s.serve)) }

// setHandler replaces the default handler (which the replacement may call).
func (s *repoServer) setHandler(h http.Handler) { s.set(func(s *repoServer) { s.handler = h }) }

// set changes the server's settings under its lock, since it may be serving.
func (s *repoServer) set(change func(*repoServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(s)
}

func (s *repoServer) put(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
	s.etags[path] = `"` + sha256Hex(data)[:16] + `"`
}

// addChart stores an archive and returns its digest.
func (s *repoServer) addChart(t testing.TB, path, name, version string) string {
	data := makeChart(t, name, version)
	s.put(path, data)
	return sha256Hex(data)
}

func (s *repoServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	user, pass, token := s.user, s.pass, s.token
	data, ok := s.files[r.URL.Path]
	etag, modTime := s.etag && ok, s.modTime
	tag := s.etags[r.URL.Path]
	s.mu.Unlock()
	if !authorized(r, user, pass, token) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if etag {
		w.Header().Set("ETag", tag)
	}
	http.ServeContent(w, r, "", modTime, bytes.NewReader(data))
}

func authorized(r *http.Request, user, pass, token string) bool {
	switch {
	case user != "":
		u, p, ok := r.BasicAuth()
		return ok && u == user && p == pass
	case token != "":
		return r.Header.Get("Authorization") == "Bearer "+token
	}
	return true
}

// expectNoSecrets fails if any canary appears in the text of err.
func expectNoSecrets(g Gomega, err error, canaries ...string) {
	g.Expect(err).To(HaveOccurred())
	for _, c := range canaries {
		g.Expect(strings.Contains(err.Error(), c)).To(BeFalse(), "error %q leaks %q", err.Error(), c)
	}
}
