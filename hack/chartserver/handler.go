package main

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"strings"
	"time"
)

// contentTypes are the media types of the files a chart repository holds; anything else is sent
// as application/octet-stream.
var contentTypes = map[string]string{
	".yaml": "application/yaml",
	".yml":  "application/yaml",
	".json": "application/json",
	".tgz":  "application/gzip",
	".gz":   "application/gzip",
	".prov": "text/plain; charset=utf-8",
}

// fileHandler serves regular files from root, read-only.
type fileHandler struct {
	root *os.Root
}

// newHandler returns the repository handler for root, read-only, with a request log around it.
func newHandler(root *os.Root, logger *slog.Logger) http.Handler {
	return logRequests(readOnly(&fileHandler{root: root}), logger)
}

// readOnly lets only GET and HEAD requests through.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: the chart repository is read-only", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *fileHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := fileName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, err := h.root.Open(name)
	if err != nil {
		http.Error(w, statusText(err), statusOf(err))
		return
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		w.Header().Set("Content-Type", ct)
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, info.ModTime(), f)
}

// fileName maps a URL path to a slash-separated name inside the root. It refuses the root itself,
// any element starting with a dot (dotfiles and "..") and empty elements.
func fileName(urlPath string) (string, bool) {
	name := strings.TrimPrefix(urlPath, "/")
	if name == "" || strings.HasSuffix(name, "/") {
		return "", false
	}
	for _, elem := range strings.Split(name, "/") {
		if elem == "" || strings.HasPrefix(elem, ".") || strings.ContainsRune(elem, '\\') {
			return "", false
		}
	}
	return name, true
}

// statusOf maps an open error to a status: 403 for permissions, 404 for everything else, so that a
// path escaping the root reads like a missing file.
func statusOf(err error) int {
	if errors.Is(err, fs.ErrPermission) {
		return http.StatusForbidden
	}
	return http.StatusNotFound
}

func statusText(err error) string {
	return http.StatusText(statusOf(err))
}

// statusRecorder remembers the status and size of a response for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// logRequests logs one line per request: method, path, status, bytes and duration.
func logRequests(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr)
	})
}
