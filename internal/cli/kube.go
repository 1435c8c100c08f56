package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// DefaultPollInterval is how often a waiting command reads the Release again.
const DefaultPollInterval = 500 * time.Millisecond

// userAgent identifies the CLI to the apiserver, in audit logs for example.
const userAgent = "capstan-cli"

// KubeFlags are the standard flags that say which cluster and namespace a command talks to,
// with kubectl's names and meaning.
type KubeFlags struct {
	// Namespace is -n/--namespace; empty means the namespace of the kubeconfig context, or
	// "default".
	Namespace string
	// Kubeconfig is --kubeconfig; empty means $KUBECONFIG, then ~/.kube/config, then the
	// in-cluster service account.
	Kubeconfig string
	// Context is --context; empty means the kubeconfig's current context.
	Context string
}

// AddFlags registers -n/--namespace, --kubeconfig and --context on fs.
func (f *KubeFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&f.Namespace, "namespace", "n", "", "namespace of the Release (default: the kubeconfig context's namespace)")
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&f.Context, "context", "", "name of the kubeconfig context to use (default: the current context)")
}

// clientConfig merges the kubeconfig files and the flags, as kubectl does.
func (f *KubeFlags) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.Context}
	overrides.Context.Namespace = f.Namespace
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
}

// ResolveNamespace returns the namespace the command works in: the flag, else the context's
// namespace, else "default".
func (f *KubeFlags) ResolveNamespace() (string, error) {
	ns, _, err := f.clientConfig().Namespace()
	if err != nil {
		return "", fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	return ns, nil
}

// RESTConfig returns the connection settings of the selected cluster and user.
func (f *KubeFlags) RESTConfig() (*rest.Config, error) {
	cfg, err := f.clientConfig().ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	cfg.UserAgent = userAgent
	return cfg, nil
}

// Connect opens an uncached client on the selected cluster, in the selected namespace.
func (f *KubeFlags) Connect() (*Conn, error) {
	ns, err := f.ResolveNamespace()
	if err != nil {
		return nil, err
	}
	cfg, err := f.RESTConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, fmt.Errorf("creating a client for %s: %w", cfg.Host, err)
	}
	return NewConn(c, ns), nil
}

// Open connects and reads the Release called name.
func (f *KubeFlags) Open(ctx context.Context, name string) (*Target, error) {
	conn, err := f.Connect()
	if err != nil {
		return nil, err
	}
	return conn.Release(ctx, name)
}

// Scheme returns a scheme with Kubernetes' built-in kinds and Capstan's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	// Registering static, well-formed types cannot fail; a failure would be a programming error
	// caught by every test that connects.
	_ = clientgoscheme.AddToScheme(s)
	_ = capstanv1.AddToScheme(s)
	return s
}

// Conn is a client bound to the namespace a command works in.
type Conn struct {
	// Client reads and patches Releases and reads revision records. It must not cache.
	Client client.Client
	// Namespace is where the Release is looked up.
	Namespace string
	// PollInterval is how often a wait reads the Release; DefaultPollInterval when zero.
	PollInterval time.Duration
}

// NewConn binds c to namespace ns.
func NewConn(c client.Client, ns string) *Conn {
	return &Conn{Client: c, Namespace: ns, PollInterval: DefaultPollInterval}
}

// Release reads the Release called name in the connection's namespace.
func (c *Conn) Release(ctx context.Context, name string) (*Target, error) {
	t := &Target{conn: c, Release: &capstanv1.Release{}}
	if err := t.refresh(ctx, name); err != nil {
		return nil, err
	}
	return t, nil
}

// Target is a Release, and through it the revision records of its Helm release.
type Target struct {
	// Release is the Release as last read or patched.
	Release *capstanv1.Release
	conn    *Conn
}

// refresh reads the Release called name again.
func (t *Target) refresh(ctx context.Context, name string) error {
	key := types.NamespacedName{Namespace: t.conn.Namespace, Name: name}
	rel := &capstanv1.Release{}
	if err := t.conn.Client.Get(ctx, key, rel); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: no Release %q in namespace %q", ErrReleaseNotFound, name, key.Namespace)
		}
		return fmt.Errorf("reading Release %s: %w", key, err)
	}
	t.Release = rel
	return nil
}

// ReleaseName returns the Helm release name the records are stored under: the one the controller
// recorded in status, else the one the spec implies.
func (t *Target) ReleaseName() string {
	if n := t.Release.Status.ReleaseName; n != "" {
		return n
	}
	return t.Release.GetReleaseName()
}

// StorageNamespace returns the namespace that holds the revision records.
func (t *Target) StorageNamespace() string { return t.Release.GetStorageNamespace() }

// store returns a revision store that reads through the connection's client.
func (t *Target) store() *storage.Store { return storage.NewStore(t.conn.Client) }

// Records returns every revision record of the release, oldest first. A record that cannot be
// decoded is included as a placeholder (see storage.Store.List). It wraps ErrNoRevision when
// there is none.
func (t *Target) Records(ctx context.Context) ([]*storage.Release, error) {
	recs, err := t.store().List(ctx, t.StorageNamespace(), t.ReleaseName())
	if err != nil {
		return nil, fmt.Errorf("reading the revisions of release %q: %w", t.ReleaseName(), err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: release %q of Release %s/%s has no revisions yet", ErrNoRevision,
			t.ReleaseName(), t.Release.Namespace, t.Release.Name)
	}
	return recs, nil
}

// Record returns revision n, or the newest revision (whatever its status, as helm get does) when n
// is 0. It wraps ErrNoRevision when the revision does not exist and storage.ErrCorrupt when its
// record cannot be decoded.
func (t *Target) Record(ctx context.Context, n int) (*storage.Release, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: revision %d: want a positive number, or 0 for the newest", ErrInvalidArgument, n)
	}
	if n == 0 {
		recs, err := t.Records(ctx)
		if err != nil {
			return nil, err
		}
		n = recs[len(recs)-1].Version
	}
	rec, err := t.store().Get(ctx, t.StorageNamespace(), t.ReleaseName(), n)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, fmt.Errorf("%w: release %q has no revision %d", ErrNoRevision, t.ReleaseName(), n)
	case err != nil:
		return nil, fmt.Errorf("reading revision %d of release %q: %w", n, t.ReleaseName(), err)
	}
	return rec, nil
}
