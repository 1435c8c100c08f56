package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/kubeconfig"
	"github.com/capstan-dev/capstan/internal/redact"
)

// RemoteCapabilitiesTTL is how long the capabilities of a remote cluster are reused. The manager
// does not watch a remote cluster's CRDs, so this short TTL (and the invalidation after a chart's
// own CRDs are applied) bounds how stale they are.
const RemoteCapabilitiesTTL = 30 * time.Second

// Target is the cluster a Release's objects go to: the client that applies, prunes, checks drift
// and health, runs hooks, serves lookup and uninstalls, the identity shared things (health
// watches) are keyed by, and the capabilities templates see. The records, status and events
// stay in the managing cluster whatever the target.
type Target struct {
	Client       client.WithWatch
	Identity     string
	Capabilities CapabilitiesSource
}

// RemoteClusters returns the Target of a Release with spec.kubeConfig, reading its kubeconfig
// Secret through reader (the Release's own client in the managing cluster).
type RemoteClusters interface {
	ForRemote(ctx context.Context, rel *capstanv1.Release, reader client.Reader) (*Target, error)
}

// RemoteClients builds the clients of remote clusters from kubeconfig Secrets. A client is built
// once per Secret version (namespace, name, key, resourceVersion) and dropped when a newer
// version of the Secret is read, so a rotated kubeconfig is used from the next reconcile on.
// The Secret is read on every reconcile as the Release's identity: a Release can only use a
// kubeconfig its service account may read.
type RemoteClients struct {
	// Scheme is shared with the manager; each remote client discovers its own REST mappings.
	Scheme *runtime.Scheme
	// QPS and Burst bound each remote client (client-go's defaults when zero).
	QPS   float32
	Burst int
	// UserAgent is sent to remote clusters ("" for client-go's).
	UserAgent string

	mu      sync.Mutex
	targets map[remoteKey]*remoteTarget
}

// remoteKey names one Secret key, whatever its version.
type remoteKey struct {
	secret types.NamespacedName
	key    string
}

type remoteTarget struct {
	version string
	target  *Target
}

// ForRemote returns the Target rel's spec.kubeConfig names. A missing Secret or key waits; a
// kubeconfig Capstan refuses stalls with KubeConfigInvalid. Messages name the Secret and the
// offending field, never a value; the kubeconfig's credentials are registered with ctx's
// Redactor on every call.
func (f *RemoteClients) ForRemote(ctx context.Context, rel *capstanv1.Release, reader client.Reader) (*Target, error) {
	ref := rel.Spec.KubeConfig.SecretRef
	key := remoteKey{secret: types.NamespacedName{Namespace: rel.Namespace, Name: ref.Name}, key: ref.GetKey()}
	sec := &corev1.Secret{}
	if err := reader.Get(ctx, key.secret, sec); err != nil {
		if apierrors.IsNotFound(err) {
			f.Forget(key.secret)
			return nil, waitErr(capstanv1.SecretNotFoundReason, 0,
				fmt.Errorf("the kubeconfig Secret %s (spec.kubeConfig.secretRef) does not exist", key.secret))
		}
		return nil, apiErr(capstanv1.SecretNotFoundReason, fmt.Errorf("reading the kubeconfig Secret %s: %w", key.secret, err))
	}
	data, ok := sec.Data[key.key]
	if !ok {
		return nil, waitErr(capstanv1.SecretNotFoundReason, 0,
			fmt.Errorf("the kubeconfig Secret %s has no key %q (spec.kubeConfig.secretRef.key)", key.secret, key.key))
	}
	redact.FromContext(ctx).Add(kubeconfig.Credentials(data)...)
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.targets[key]; ok && t.version == sec.ResourceVersion {
		return t.target, nil
	}
	cfg, err := kubeconfig.RESTConfig(data)
	if err != nil {
		delete(f.targets, key)
		return nil, stallErr(capstanv1.KubeConfigInvalidReason,
			fmt.Errorf("the kubeconfig in Secret %s key %q: %w", key.secret, key.key, err))
	}
	t, err := f.build(cfg, key, sec.ResourceVersion)
	if err != nil {
		return nil, err
	}
	if f.targets == nil {
		f.targets = map[remoteKey]*remoteTarget{}
	}
	f.targets[key] = &remoteTarget{version: sec.ResourceVersion, target: t}
	return t, nil
}

// build returns the Target of one kubeconfig: an uncached client with its own lazily discovered
// REST mappings, and capabilities from the remote cluster's discovery.
func (f *RemoteClients) build(cfg *rest.Config, key remoteKey, version string) (*Target, error) {
	cfg.QPS, cfg.Burst, cfg.UserAgent = f.QPS, f.Burst, f.UserAgent
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: f.Scheme})
	if err != nil {
		return nil, transientErr(ReasonReconcileFailed, fmt.Errorf("building a client from the kubeconfig in Secret %s: %w", key.secret, err))
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, transientErr(ReasonReconcileFailed, fmt.Errorf("building a discovery client from the kubeconfig in Secret %s: %w", key.secret, err))
	}
	return &Target{
		Client:       withPodLogs(cfg, c),
		Identity:     "remote:" + key.secret.String() + "/" + key.key + "@" + version,
		Capabilities: &DiscoveryCapabilities{Discovery: dc, TTL: RemoteCapabilitiesTTL},
	}, nil
}

// Forget drops the clients built from a Secret's kubeconfig (the Secret was deleted).
func (f *RemoteClients) Forget(secret types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.targets {
		if k.secret == secret {
			delete(f.targets, k)
		}
	}
}

// errNoRemoteClusters refuses spec.kubeConfig in a reconciler built without RemoteClusters.
var errNoRemoteClusters = errors.New("spec.kubeConfig is set but this manager was built without remote cluster support")
