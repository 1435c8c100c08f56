package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/discovery"

	"github.com/capstan-dev/capstan/internal/engine"
)

// DefaultCapabilitiesTTL is how long discovered capabilities are reused when nothing invalidates
// them earlier.
const DefaultCapabilitiesTTL = 10 * time.Minute

// DiscoveryCapabilities serves .Capabilities from the live API server's discovery, cached and
// shared by every Release. Invalidate (called when a CRD changes) makes the next call rediscover.
type DiscoveryCapabilities struct {
	// Discovery is the API server's discovery client.
	Discovery discovery.DiscoveryInterface
	// TTL bounds how long a result is reused (DefaultCapabilitiesTTL when zero).
	TTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	cached  *engine.Capabilities
	fetched time.Time
}

// Capabilities returns the cluster's Kubernetes version and served API versions (each
// "group/version" and "group/version/Kind", as Helm lists them), rediscovering when the cache
// is empty, stale or invalidated. Groups whose discovery failed are left out, as Helm does.
func (d *DiscoveryCapabilities) Capabilities(context.Context) (*engine.Capabilities, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if d.cached != nil && now.Sub(d.fetched) < d.ttl() {
		return copyCapabilities(d.cached), nil
	}
	caps, err := discoverCapabilities(d.Discovery)
	if err != nil {
		return nil, err
	}
	d.cached, d.fetched = caps, now
	return copyCapabilities(caps), nil
}

// Invalidate drops the cached capabilities.
func (d *DiscoveryCapabilities) Invalidate() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cached = nil
}

func (d *DiscoveryCapabilities) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *DiscoveryCapabilities) ttl() time.Duration {
	if d.TTL > 0 {
		return d.TTL
	}
	return DefaultCapabilitiesTTL
}

// discoverCapabilities asks the API server for its version and served resources.
func discoverCapabilities(dc discovery.DiscoveryInterface) (*engine.Capabilities, error) {
	info, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the server version: %w", err)
	}
	kv, err := engine.ParseKubeVersion(info.GitVersion)
	if err != nil {
		return nil, err
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discovering the served APIs: %w", err)
	}
	seen := map[string]bool{}
	for _, l := range lists {
		if l == nil {
			continue
		}
		seen[l.GroupVersion] = true
		for _, r := range l.APIResources {
			seen[l.GroupVersion+"/"+r.Kind] = true
		}
	}
	versions := make([]string, 0, len(seen))
	for v := range seen {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	caps := engine.DefaultCapabilities()
	caps.KubeVersion = kv
	caps.APIVersions = engine.VersionSet(versions)
	return caps, nil
}

// copyCapabilities returns a copy a render may not disturb the cache through.
func copyCapabilities(c *engine.Capabilities) *engine.Capabilities {
	out := *c
	out.APIVersions = slices.Clone(c.APIVersions)
	return &out
}
