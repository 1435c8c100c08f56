package reconcile_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/repo"
)

// Canary credentials: no condition message, event, error or log line may ever contain them.
const (
	repoCanaryUser     = "canary-user-5e1d"
	repoCanaryPassword = "CANARY-pw-7f3a9c"
	repoCanaryToken    = "CANARY-token-91b2d4"
	repoTestNamespace  = "tenant"
)

// The adapter keeps the shape the Release state machine consumes.
var _ reconcile.ChartSource = (*reconcile.ReleaseChartSource)(nil)

// repoServer is a chart repository on a loopback port: files by path, forced statuses,
// optional basic or bearer auth, ETags for conditional requests, an optional delay, and a
// record of the requests and Authorization headers per path.
type repoServer struct {
	*httptest.Server

	mu     sync.Mutex
	files  map[string][]byte
	forced map[string]int
	user   string
	pass   string
	token  string
	delay  time.Duration
	dir    string
	hits   map[string]int
	authz  map[string][]string
}

func newRepoServer(t testing.TB) *repoServer {
	s := &repoServer{files: map[string][]byte{}, forced: map[string]int{}, hits: map[string]int{}, authz: map[string][]string{},
		dir: t.TempDir()}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func newRepoTLSServer(t testing.TB) *repoServer {
	s := &repoServer{files: map[string][]byte{}, forced: map[string]int{}, hits: map[string]int{}, authz: map[string][]string{},
		dir: t.TempDir()}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected.
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *repoServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.authz[r.URL.Path] = append(s.authz[r.URL.Path], r.Header.Get("Authorization"))
	data, ok := s.files[r.URL.Path]
	code, forced := s.forced[r.URL.Path]
	user, pass, token, delay := s.user, s.pass, s.token, s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case forced:
		if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(code)
	case !s.authorized(r, user, pass, token):
		w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
		w.WriteHeader(http.StatusUnauthorized)
	case !ok:
		http.NotFound(w, r)
	default:
		sum := sha256.Sum256(data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
		if r.Header.Get("If-None-Match") == w.Header().Get("ETag") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(data)
	}
}

func (s *repoServer) authorized(r *http.Request, user, pass, token string) bool {
	switch {
	case user != "":
		u, p, ok := r.BasicAuth()
		return ok && u == user && p == pass
	case token != "":
		return r.Header.Get("Authorization") == "Bearer "+token
	}
	return true
}

func (s *repoServer) set(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
}

func (s *repoServer) force(path string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced[path] = code
}

func (s *repoServer) unforce(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.forced, path)
}

func (s *repoServer) requireBasic(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = user, pass
}

func (s *repoServer) requireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

func (s *repoServer) setDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

func (s *repoServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *repoServer) authorizations(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authz[path]...)
}

// publish packages a tiny chart at each version, serves the archives at the root, and
// regenerates index.yaml over everything published so far, with relative URLs (or absolute on
// baseURL when it is not empty).
func (s *repoServer) publish(t testing.TB, baseURL, name string, versions ...string) map[string][]byte {
	t.Helper()
	archives := map[string][]byte{}
	for _, v := range versions {
		archives[v] = repoPackage(t, s.dir, name, v)
		s.set("/"+name+"-"+v+".tgz", archives[v])
	}
	index, err := repo.IndexDirectory(s.dir, baseURL, "")
	if err != nil {
		t.Fatal(err)
	}
	s.set("/index.yaml", index)
	return archives
}

// repoPackage writes a one-template chart and packages it into dir.
func repoPackage(t testing.TB, dir, name, version string) []byte {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	files := map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: " + name + "\nversion: 0.0.1\n",
		"templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
		"values.yaml":         "replicas: 1\n",
		"templates/NOTES.txt": "installed " + version + "\n",
	}
	for p, content := range files {
		full := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := chart.Package(src, dir, chart.PackageOptions{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// repoCR returns a ChartRepository as read from the API server.
func repoCR(name, url string) *capstanv1.ChartRepository {
	return &capstanv1.ChartRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: repoTestNamespace, UID: types.UID("uid-" + name), Generation: 1},
		Spec:       capstanv1.ChartRepositorySpec{URL: url},
		Status:     capstanv1.ChartRepositoryStatus{ObservedGeneration: -1},
	}
}

// repoSecret is a Secret in the test namespace.
func repoSecret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: repoTestNamespace}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// repoReader is a fake client holding objs, standing in for the API reader.
func repoReader(objs ...client.Object) client.WithWatch {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = capstanv1.AddToScheme(scheme)
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

// repoTestOptions are ChartSources settings for tests: no retries, so failures are quick.
func repoTestOptions() reconcile.ChartSourcesOptions {
	return reconcile.ChartSourcesOptions{Retry: repo.RetryPolicy{MaxAttempts: 1}}
}

// repoSelfSignedPEM returns a self-signed certificate and its key, unrelated to any server.
func repoSelfSignedPEM(t testing.TB, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// repoServerCA is the PEM of an httptest TLS server's certificate, to trust it as a CA.
func repoServerCA(s *repoServer) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

// expectNoCanary fails if any text holds a canary credential.
func expectNoCanary(g Gomega, texts ...string) {
	for _, text := range texts {
		for _, canary := range []string{repoCanaryPassword, repoCanaryToken} {
			g.Expect(text).NotTo(ContainSubstring(canary))
		}
	}
}

// repoDigest is the lower-case hex sha256 of data.
func repoDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
