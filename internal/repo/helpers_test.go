package repo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// chartFile is one file of a test chart archive.
type chartFile struct {
	name string
	data string
}

// makeChart builds a chart archive the way `helm package` lays it out: everything under a
// top-level folder named after the chart.
func makeChart(t testing.TB, name, version string, extra ...chartFile) []byte {
	t.Helper()
	files := append([]chartFile{
		{name + "/Chart.yaml", fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\nappVersion: \"1.0\"\ndescription: test chart\n", name, version)},
		{name + "/values.yaml", "replicas: 1\n"},
		{name + "/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  v: {{ .Values.replicas | quote }}\n"},
	}, extra...)
	return makeTarGz(t, files)
}

func makeTarGz(t testing.TB, files []chartFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testEntry is one version in a generated index.
type testEntry struct {
	name, version, digest, url string
}

// indexYAML writes an index.yaml for entries, in the layout Helm writes.
func indexYAML(entries ...testEntry) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	byName := map[string][]testEntry{}
	var names []string
	for _, e := range entries {
		if byName[e.name] == nil {
			names = append(names, e.name)
		}
		byName[e.name] = append(byName[e.name], e)
	}
	for _, n := range names {
		fmt.Fprintf(&b, "  %s:\n", n)
		for _, e := range byName[n] {
			fmt.Fprintf(&b, "  - apiVersion: v2\n    appVersion: \"1.0\"\n    created: \"2024-01-01T00:00:00Z\"\n"+
				"    description: A chart\n    digest: %s\n    name: %s\n    urls:\n    - %s\n    version: %s\n",
				e.digest, e.name, e.url, e.version)
		}
	}
	b.WriteString("generated: \"2024-01-01T00:00:00Z\"\n")
	return b.String()
}

// recorder remembers the requests a test server saw.
type recorder struct {
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	method, path, authorization, ifNoneMatch, ifModifiedSince string
}

func (r *recorder) record(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, recorded{method: req.Method, path: req.URL.Path, authorization: req.Header.Get("Authorization"),
		ifNoneMatch: req.Header.Get("If-None-Match"), ifModifiedSince: req.Header.Get("If-Modified-Since")})
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.requests...)
}

func (r *recorder) count(path string) int {
	n := 0
	for _, q := range r.all() {
		if q.path == path {
			n++
		}
	}
	return n
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.record(req)
		h.ServeHTTP(w, req)
	})
}

// testPKI is a throwaway CA that issues server and client certificates.
type testPKI struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	pem   []byte
	count int64
}

func newPKI(t testing.TB, name string) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), count: 1}
}

// issue returns a certificate for the loopback addresses (server) or a client identity,
// as a tls.Certificate and as PEM.
func (p *testPKI) issue(t testing.TB, client bool, notAfter time.Time) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.count++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.count), Subject: pkix.Name{CommonName: "capstan-test"},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

// tlsServerOptions shape a test TLS server before it starts.
type tlsServerOptions struct {
	clientCAs  *testPKI                       // demand a client certificate signed by it
	askForCert bool                           // ask for, but do not demand, a client certificate
	expired    bool                           // serve an expired certificate
	connState  func(net.Conn, http.ConnState) // observe connections
}

// newTLSServer starts h over TLS with a certificate from p.
func newTLSServer(t testing.TB, p *testPKI, h http.Handler, o tlsServerOptions) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	notAfter := time.Now().Add(time.Hour)
	if o.expired {
		notAfter = time.Now().Add(-time.Hour)
	}
	pair, _, _ := p.issue(t, false, notAfter)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if o.clientCAs != nil {
		pool := x509.NewCertPool()
		pool.AddCert(o.clientCAs.cert)
		srv.TLS.ClientCAs = pool
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if o.askForCert {
		srv.TLS.ClientAuth = tls.RequestClientCert
	}
	srv.Config.ConnState = o.connState
	srv.Config.ErrorLog = quietLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// fastRetry keeps retry tests quick.
var fastRetry = RetryPolicy{MaxAttempts: 4, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxElapsed: 10 * time.Second}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
