package reconcile

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestImpersonatingClients_NamespaceReader: a read in a namespace goes out as that namespace's
// default service account, and as the manager only when no default is configured.
func TestImpersonatingClients_NamespaceReader(t *testing.T) {
	cases := map[string]struct {
		defaultSA string
		want      string
	}{
		"the namespace's default service account":              {defaultSA: "capstan-release", want: "system:serviceaccount:team-a:capstan-release"},
		"the manager itself without a default (single-tenant)": {defaultSA: "", want: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var mu sync.Mutex
			var seen []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Header.Get("Impersonate-User"))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"auth","namespace":"team-a"}}`))
			}))
			defer srv.Close()
			scheme := runtime.NewScheme()
			g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
			mapper := meta.NewDefaultRESTMapper(nil)
			mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, meta.RESTScopeNamespace)
			f := &ImpersonatingClients{Config: &rest.Config{Host: srv.URL}, Scheme: scheme, Mapper: mapper,
				DefaultServiceAccount: tc.defaultSA}

			err := f.NamespaceReader().Get(context.Background(), client.ObjectKey{Namespace: "team-a", Name: "auth"}, &corev1.Secret{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(seen).To(Equal([]string{tc.want}))
		})
	}
}

func TestImpersonatingClients_NamespaceReader_refusesAllNamespaces(t *testing.T) {
	g := NewWithT(t)
	f := &ImpersonatingClients{Config: &rest.Config{Host: "http://127.0.0.1:1"}, DefaultServiceAccount: "capstan-release"}
	err := f.NamespaceReader().List(context.Background(), &corev1.SecretList{})
	g.Expect(err).To(MatchError(errNoNamespace))
}
