package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// ociRegistry is an in-process OCI registry (go-containerregistry) behind an auth front: no
// auth, basic auth, or the distribution token flow (basic credentials exchanged at /token for a
// bearer token, or a static bearer token). It records requests and can tamper with or redirect
// blob downloads.
type ociRegistry struct {
	*httptest.Server
	rec   recorder
	inner http.Handler

	mu       sync.Mutex
	mode     string // "", "basic" or "token"
	user     string
	pass     string
	static   string
	issued   atomic.Int32
	tamper   map[string][]byte // blob path -> body served instead
	redirect map[string]string // blob path -> URL its GETs are redirected to
}

func newOCIRegistry(t testing.TB) *ociRegistry {
	t.Helper()
	r := &ociRegistry{inner: registry.New(registry.Logger(quietLog())), tamper: map[string][]byte{}, redirect: map[string]string{}}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.Config.ErrorLog = quietLog()
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func (r *ociRegistry) host() string { return strings.TrimPrefix(r.URL, "http://") }

func (r *ociRegistry) setAuth(mode, user, pass, static string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mode, r.user, r.pass, r.static = mode, user, pass, static
}

func (r *ociRegistry) setTamper(path string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tamper[path] = body
}

func (r *ociRegistry) setRedirect(path, to string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.redirect[path] = to
}

func (r *ociRegistry) serve(w http.ResponseWriter, req *http.Request) {
	r.rec.record(req)
	r.mu.Lock()
	mode, user, pass, static := r.mode, r.user, r.pass, r.static
	tampered, isTampered := r.tamper[req.URL.Path]
	redirect := r.redirect[req.URL.Path]
	r.mu.Unlock()
	if req.URL.Path == "/token" {
		r.serveToken(w, req, user, pass)
		return
	}
	if !r.allowed(req, mode, user, pass, static) {
		r.challenge(w, req, mode)
		return
	}
	isBlobGet := req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/sha256:")
	switch {
	case isBlobGet && isTampered:
		_, _ = w.Write(tampered)
	case isBlobGet && redirect != "":
		http.Redirect(w, req, redirect, http.StatusTemporaryRedirect)
	default:
		r.inner.ServeHTTP(w, req)
	}
}

func (r *ociRegistry) allowed(req *http.Request, mode, user, pass, static string) bool {
	authz := req.Header.Get("Authorization")
	switch mode {
	case "basic":
		u, p, ok := req.BasicAuth()
		return ok && u == user && p == pass
	case "token":
		return strings.HasPrefix(authz, "Bearer issued-") || (static != "" && authz == "Bearer "+static)
	}
	return true
}

func (r *ociRegistry) challenge(w http.ResponseWriter, req *http.Request, mode string) {
	if mode == "basic" {
		w.Header().Set("WWW-Authenticate", `Basic realm="test-registry"`)
	} else {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test-registry"`, req.Host))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
}

func (r *ociRegistry) serveToken(w http.ResponseWriter, req *http.Request, user, pass string) {
	u, p, ok := req.BasicAuth()
	if !ok || u != user || p != pass {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	tok := fmt.Sprintf("issued-%d", r.issued.Add(1))
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok, "access_token": tok})
}

// blobGets counts GETs of a blob by digest.
func (r *ociRegistry) blobGets(d string) int {
	n := 0
	for _, q := range r.rec.all() {
		if q.method == http.MethodGet && strings.HasSuffix(q.path, "/blobs/"+d) {
			n++
		}
	}
	return n
}

// artifact describes what pushChart writes.
type artifact struct {
	manifestType, configType string
	layerTypes               []string
	layerSize                int64 // overrides the descriptor size when set (the blob is not pushed)
	config                   string
}

var helmArtifact = artifact{manifestType: ocispec.MediaTypeImageManifest, configType: MediaTypeHelmConfig,
	layerTypes: []string{MediaTypeHelmChart}}

// pushChart pushes chart as repoPath:tag with oras-go (while the registry has no auth) and
// returns the layer descriptor.
func (r *ociRegistry) pushChart(t testing.TB, repoPath, tag string, chart []byte, a artifact) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	repo, err := remote.NewRepository(r.host() + "/" + repoPath)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	cfg := a.config
	if cfg == "" {
		cfg = `{"name":"app","version":"0.0.0","appVersion":"9.9.9","apiVersion":"v2","type":"application"}`
	}
	cdesc := content.NewDescriptorFromBytes(a.configType, []byte(cfg))
	mustPush(t, repo.Push(ctx, cdesc, bytes.NewReader([]byte(cfg))))
	var layers []ocispec.Descriptor
	for _, lt := range a.layerTypes {
		ldesc := content.NewDescriptorFromBytes(lt, chart)
		if a.layerSize != 0 {
			ldesc.Size = a.layerSize
		} else if exists, _ := repo.Exists(ctx, ldesc); !exists {
			mustPush(t, repo.Push(ctx, ldesc, bytes.NewReader(chart)))
		}
		layers = append(layers, ldesc)
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: a.manifestType, Config: cdesc, Layers: layers}
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	mustPush(t, repo.PushReference(ctx, content.NewDescriptorFromBytes(a.manifestType, mb), bytes.NewReader(mb), tag))
	if len(layers) == 0 {
		return ocispec.Descriptor{}
	}
	return layers[0]
}

func mustPush(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
