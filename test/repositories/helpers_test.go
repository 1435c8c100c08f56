package repositories_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/google/go-containerregistry/pkg/registry"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/repo"
)

// Canary credentials: no condition message or event may ever contain them.
const (
	canaryUser     = "canary-user-41c7"
	canaryPassword = "CANARY-pw-0d9e1f"
	canaryToken    = "CANARY-token-6a2b88"
)

// chartServer is a Helm chart repository on a loopback port (plain or TLS), serving what was
// published, with forced statuses, optional basic auth and a count of requests per path.
type chartServer struct {
	*httptest.Server
	dir string

	mu     sync.Mutex
	files  map[string][]byte
	forced map[string]int
	user   string
	pass   string
	hits   map[string]int
}

func newChartServer(useTLS bool) *chartServer {
	s := &chartServer{dir: GinkgoT().TempDir(), files: map[string][]byte{}, forced: map[string]int{}, hits: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	DeferCleanup(s.Close)
	return s
}

func (s *chartServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	data, ok := s.files[r.URL.Path]
	code, forced := s.forced[r.URL.Path]
	user, pass := s.user, s.pass
	s.mu.Unlock()
	if u, p, _ := r.BasicAuth(); user != "" && (u != user || p != pass) {
		w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch {
	case forced:
		w.WriteHeader(code)
	case !ok:
		http.NotFound(w, r)
	default:
		_, _ = w.Write(data)
	}
}

// publish packages the chart at each version and regenerates index.yaml over everything
// published so far. It returns the archives by version.
func (s *chartServer) publish(name string, versions ...string) map[string][]byte {
	out := map[string][]byte{}
	for _, v := range versions {
		out[v] = packageChart(s.dir, name, v)
		s.set("/"+name+"-"+v+".tgz", out[v])
	}
	index, err := repo.IndexDirectory(s.dir, "", "")
	Expect(err).NotTo(HaveOccurred())
	s.set("/index.yaml", index)
	return out
}

func (s *chartServer) set(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
}

func (s *chartServer) file(path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[path]
}

func (s *chartServer) force(path string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced[path] = code
}

func (s *chartServer) unforce(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.forced, path)
}

func (s *chartServer) requireBasic(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = user, pass
}

func (s *chartServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// caPEM is the server's certificate as a CA bundle.
func (s *chartServer) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}))
}

// packageChart writes a tiny chart and packages it into dir.
func packageChart(dir, name, version string) []byte {
	src := filepath.Join(GinkgoT().TempDir(), name)
	for p, text := range map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: " + name + "\nversion: 0.0.1\nappVersion: \"1.0\"\n",
		"values.yaml":       "greeting: hello\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting }}\n",
	} {
		Expect(os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o750)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(src, p), []byte(text), 0o600)).To(Succeed())
	}
	path, err := chart.Package(src, dir, chart.PackageOptions{Version: version})
	Expect(err).NotTo(HaveOccurred())
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return data
}

// ociRegistry is an in-process OCI registry (go-containerregistry) behind optional basic auth.
type ociRegistry struct {
	*httptest.Server
	inner http.Handler

	mu   sync.Mutex
	user string
	pass string
}

func newOCIRegistry() *ociRegistry {
	r := &ociRegistry{inner: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.Config.ErrorLog = log.New(io.Discard, "", 0)
	r.Start()
	DeferCleanup(r.Close)
	return r
}

func (r *ociRegistry) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	user, pass := r.user, r.pass
	r.mu.Unlock()
	if u, p, _ := req.BasicAuth(); user != "" && (u != user || p != pass) {
		w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
		return
	}
	r.inner.ServeHTTP(w, req)
}

func (r *ociRegistry) host() string { return strings.TrimPrefix(r.URL, "http://") }

func (r *ociRegistry) requireBasic(user, pass string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.user, r.pass = user, pass
}

// push stores archive as repoPath:tag with a Helm config and one layer of layerType.
func (r *ociRegistry) push(repoPath, tag string, archive []byte, layerType string) {
	ctx := context.Background()
	target, err := remote.NewRepository(r.host() + "/" + repoPath)
	Expect(err).NotTo(HaveOccurred())
	target.PlainHTTP = true
	cfg := []byte(`{"name":"app","version":"` + tag + `","apiVersion":"v2","appVersion":"1.0"}`)
	cdesc := content.NewDescriptorFromBytes(repo.MediaTypeHelmConfig, cfg)
	Expect(target.Push(ctx, cdesc, bytes.NewReader(cfg))).To(Succeed())
	ldesc := content.NewDescriptorFromBytes(layerType, archive)
	Expect(target.Push(ctx, ldesc, bytes.NewReader(archive))).To(Succeed())
	m, err := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest, Config: cdesc, Layers: []ocispec.Descriptor{ldesc}})
	Expect(err).NotTo(HaveOccurred())
	mdesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, m)
	Expect(target.PushReference(ctx, mdesc, bytes.NewReader(m), tag)).To(Succeed())
}

// newNamespace creates a namespace for one spec.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "crepo-"}}
	Expect(k8sClient.Create(context.Background(), ns)).To(Succeed())
	return ns.Name
}

// newRepository creates a ChartRepository; change adjusts its spec first.
func newRepository(ns, name, url string, change func(*capstanv1.ChartRepositorySpec)) *capstanv1.ChartRepository {
	cr := &capstanv1.ChartRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       capstanv1.ChartRepositorySpec{URL: url, Interval: &metav1.Duration{Duration: time.Hour}},
	}
	if change != nil {
		change(&cr.Spec)
	}
	Expect(k8sClient.Create(context.Background(), cr)).To(Succeed())
	return cr
}

// newSecret creates a Secret.
func newSecret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	Expect(k8sClient.Create(context.Background(), s)).To(Succeed())
	return s
}

// getRepository reads a ChartRepository inside an Eventually.
func getRepository(g Gomega, ns, name string) *capstanv1.ChartRepository {
	cr := &capstanv1.ChartRepository{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cr)).To(Succeed())
	return cr
}

// condition returns a condition of cr, or nil.
func condition(cr *capstanv1.ChartRepository, typ string) *metav1.Condition {
	return meta.FindStatusCondition(cr.Status.Conditions, typ)
}

// kstatusOf computes cr's status as Flux, Argo CD and kubectl-based tools read it.
func kstatusOf(g Gomega, cr *capstanv1.ChartRepository) status.Status {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cr)
	g.Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(capstanv1.GroupVersion.WithKind(capstanv1.ChartRepositoryKind))
	res, err := status.Compute(u)
	g.Expect(err).NotTo(HaveOccurred())
	return res.Status
}

// repositoryEvents lists "type reason note" of the events about a ChartRepository.
func repositoryEvents(g Gomega, ns, name string) []string {
	var list eventsv1.EventList
	g.Expect(k8sClient.List(context.Background(), &list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == capstanv1.ChartRepositoryKind && e.Regarding.Name == name {
			out = append(out, fmt.Sprintf("%s %s %s", e.Type, e.Reason, e.Note))
		}
	}
	return out
}

// texts is every message a user can see about cr: conditions and events.
func texts(g Gomega, cr *capstanv1.ChartRepository) []string {
	out := repositoryEvents(g, cr.Namespace, cr.Name)
	for _, c := range cr.Status.Conditions {
		out = append(out, c.Message)
	}
	return out
}

// expectNoCanary fails if any text holds a canary credential.
func expectNoCanary(g Gomega, all []string) {
	for _, text := range all {
		g.Expect(text).NotTo(ContainSubstring(canaryPassword))
		g.Expect(text).NotTo(ContainSubstring(canaryToken))
	}
}

// requestReconcile sets the reconcile-request annotation to value.
func requestReconcile(ns, name, value string) {
	Eventually(func(g Gomega) {
		cr := getRepository(g, ns, name)
		if cr.Annotations == nil {
			cr.Annotations = map[string]string{}
		}
		cr.Annotations[capstanv1.ReconcileRequestAnnotation] = value
		g.Expect(k8sClient.Update(context.Background(), cr)).To(Succeed())
	}).Should(Succeed())
}

// digestOf is sha256:<hex> of data, as status.index shows it.
func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// unrelatedCA is a self-signed CA that signed no server of this suite.
func unrelatedCA() string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "unrelated CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// mustCondition returns a condition of cr, failing the poll while it is absent.
func mustCondition(g Gomega, cr *capstanv1.ChartRepository, typ string) *metav1.Condition {
	c := condition(cr, typ)
	g.Expect(c).NotTo(BeNil(), "condition %s", typ)
	return c
}
