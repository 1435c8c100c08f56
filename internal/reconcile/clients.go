package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// ImpersonatingClients gives each Release an uncached client that impersonates
// system:serviceaccount:<namespace>:<spec.serviceAccountName or DefaultServiceAccount>; only
// when both are empty (the single-tenant opt-in) is it the manager's own identity. Clients are
// built once per identity and shared. The service account must exist; until it does the
// Release waits.
type ImpersonatingClients struct {
	// Config is the manager's REST config.
	Config *rest.Config
	// Scheme and Mapper are shared with the manager.
	Scheme *runtime.Scheme
	Mapper meta.RESTMapper
	// Reader checks that service accounts exist (the manager's uncached API reader).
	Reader client.Reader
	// DefaultServiceAccount is impersonated for Releases that name none ("" for none).
	DefaultServiceAccount string

	mu      sync.Mutex
	clients map[string]client.WithWatch
}

// ForRelease returns the client for rel.
func (f *ImpersonatingClients) ForRelease(ctx context.Context, rel *capstanv1.Release) (client.WithWatch, error) {
	sa := rel.Spec.ServiceAccountName
	if sa == "" {
		sa = f.DefaultServiceAccount
	}
	if sa == "" {
		return f.clientFor("")
	}
	if err := f.Reader.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: sa}, &corev1.ServiceAccount{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitErr(capstanv1.ServiceAccountNotFoundReason, 0,
				fmt.Errorf("service account %s/%s does not exist", rel.Namespace, sa))
		}
		return nil, apiErr(capstanv1.ServiceAccountNotFoundReason, fmt.Errorf("reading service account %s/%s: %w", rel.Namespace, sa, err))
	}
	return f.clientFor(serviceAccountUser(rel.Namespace, sa))
}

// Identity names the identity rel's client acts as: the impersonated user, or "" for the
// manager's own. Clients of one identity are shared, so what is shared per identity (the health
// watches) is keyed by it.
func (f *ImpersonatingClients) Identity(rel *capstanv1.Release) string {
	sa := rel.Spec.ServiceAccountName
	if sa == "" {
		sa = f.DefaultServiceAccount
	}
	if sa == "" {
		return ""
	}
	return serviceAccountUser(rel.Namespace, sa)
}

// NamespaceReader returns a reader that reads each object as the default service account of
// the object's namespace, or as the manager itself when no default is configured. The
// ChartRepository controller reads the Secrets a repository names with it: a ChartRepository
// names no service account, so it acts as its namespace's default one, like a Release that
// names none.
func (f *ImpersonatingClients) NamespaceReader() client.Reader {
	return namespaceReader{f: f}
}

// namespaceReader is the reader NamespaceReader returns.
type namespaceReader struct{ f *ImpersonatingClients }

// errNoNamespace refuses a read across namespaces, which has no single identity.
var errNoNamespace = errors.New("a read as a namespace's default service account needs a namespace")

func (r namespaceReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c, err := r.f.forNamespace(key.Namespace)
	if err != nil {
		return err
	}
	return c.Get(ctx, key, obj, opts...)
}

func (r namespaceReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	c, err := r.f.forNamespace(lo.Namespace)
	if err != nil {
		return err
	}
	return c.List(ctx, list, opts...)
}

// forNamespace returns the client of namespace's default service account.
func (f *ImpersonatingClients) forNamespace(namespace string) (client.WithWatch, error) {
	if f.DefaultServiceAccount == "" {
		return f.clientFor("")
	}
	if namespace == "" {
		return nil, errNoNamespace
	}
	return f.clientFor(serviceAccountUser(namespace, f.DefaultServiceAccount))
}

// serviceAccountUser is the user name of a service account.
func serviceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// clientFor returns the shared client of one identity ("" for the manager's own).
func (f *ImpersonatingClients) clientFor(user string) (client.WithWatch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[user]; ok {
		return c, nil
	}
	cfg := rest.CopyConfig(f.Config)
	if user != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: f.Scheme, Mapper: f.Mapper})
	if err != nil {
		return nil, transientErr(ReasonReconcileFailed, fmt.Errorf("building a client for %q: %w", user, err))
	}
	c = withPodLogs(cfg, c)
	if f.clients == nil {
		f.clients = map[string]client.WithWatch{}
	}
	f.clients[user] = c
	return c, nil
}
