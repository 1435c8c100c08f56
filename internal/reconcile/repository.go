package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/repo"
)

// DefaultMaxChartSources bounds the repository clients a ChartSources keeps when
// ChartSourcesOptions.MaxSources is zero.
const DefaultMaxChartSources = 1024

// repoMaxResolved bounds the resolved versions remembered per repository client.
const repoMaxResolved = 64

// ChartSourcesOptions are the manager-wide settings of every repository client.
type ChartSourcesOptions struct {
	// MaxIndexSize bounds an index.yaml download; repo.DefaultMaxIndexSize when zero.
	MaxIndexSize int64
	// MaxChartSize bounds a chart archive download; repo.DefaultMaxChartSize when zero.
	MaxChartSize int64
	// IndexCacheSize is the byte budget of the shared index cache; the repo default when zero.
	IndexCacheSize int64
	// ArchiveCacheSize is the byte budget of the shared archive cache; the repo default when zero.
	ArchiveCacheSize int64
	// DenyPrivateNetworks refuses connections to loopback, RFC 1918, CGNAT and ULA addresses;
	// link-local and cloud metadata addresses are refused regardless.
	DenyPrivateNetworks bool
	// AllowNetworks are private ranges still reachable under DenyPrivateNetworks.
	AllowNetworks []netip.Prefix
	// Retry bounds the retries of one request; the repo defaults when zero.
	Retry repo.RetryPolicy
	// UserAgent is sent with every request; repo.DefaultUserAgent when empty.
	UserAgent string
	// MaxSources bounds the repository clients kept; DefaultMaxChartSources when zero.
	MaxSources int
}

// ChartSources hands out one repository client (repo.Source) per ChartRepository
// configuration, built from the repository's spec and the Secrets it names, and shares one
// index cache and one archive cache between all of them. A client is reused for as long as the
// repository's spec and the resourceVersions of its Secrets stay the same, so conditional index
// requests, connection pools and cached archives serve every reconcile of the repository and
// every Release that uses it. Build one per manager; it is safe for concurrent use.
type ChartSources struct {
	opts     ChartSourcesOptions
	indexes  *repo.IndexCache
	archives *repo.ArchiveCache

	mu      sync.Mutex
	entries map[string]*repoEntry
	clock   uint64
}

// repoEntry is the client kept for one ChartRepository, with the configuration it was built
// from and the versions its last resolutions picked.
type repoEntry struct {
	name     types.NamespacedName
	key      string
	source   repo.Source
	used     uint64
	resolved map[string]*repo.ChartVersion
}

// ChartSourcesStats reports what a ChartSources holds.
type ChartSourcesStats struct {
	// Sources is the number of repository clients kept.
	Sources int
	// Indexes describes the shared index cache.
	Indexes repo.CacheStats
	// Archives describes the shared archive cache.
	Archives repo.CacheStats
}

// NewChartSources returns an empty ChartSources with its own shared caches.
func NewChartSources(opts ChartSourcesOptions) *ChartSources {
	if opts.MaxSources <= 0 {
		opts.MaxSources = DefaultMaxChartSources
	}
	return &ChartSources{
		opts:     opts,
		indexes:  repo.NewIndexCache(opts.IndexCacheSize),
		archives: repo.NewArchiveCache(opts.ArchiveCacheSize),
		entries:  map[string]*repoEntry{},
	}
}

// For returns the client of cr. The Secrets named by spec.secretRef and spec.certSecretRef
// are read from cr's namespace through reader on every call, so a reader that impersonates a
// tenant is refused what the tenant may not read, and a changed Secret is noticed at once.
// Errors about Secrets match ErrRepositorySecretNotFound, ErrRepositoryCredentials or
// ErrRepositoryTLS; the others come from repo.New or the reader.
func (s *ChartSources) For(ctx context.Context, reader client.Reader, cr *capstanv1.ChartRepository) (repo.Source, error) {
	e, err := s.entry(ctx, reader, cr)
	if err != nil {
		return nil, err
	}
	return e.source, nil
}

// Resolve picks the version of chart in cr that constraint selects.
func (s *ChartSources) Resolve(ctx context.Context, reader client.Reader, cr *capstanv1.ChartRepository,
	chart, constraint string) (*repo.ChartVersion, error) {
	src, err := s.For(ctx, reader, cr)
	if err != nil {
		return nil, err
	}
	return src.Resolve(ctx, chart, constraint)
}

// Fetch returns the verified archive of cv from cr. Archives are cached by digest within the
// repository and credentials that served them, so many callers download a chart once. The
// bytes are shared and must not be modified.
func (s *ChartSources) Fetch(ctx context.Context, reader client.Reader, cr *capstanv1.ChartRepository,
	cv *repo.ChartVersion) ([]byte, error) {
	src, err := s.For(ctx, reader, cr)
	if err != nil {
		return nil, err
	}
	return src.Fetch(ctx, cv)
}

// Forget drops the client kept for the ChartRepository key, once it is deleted.
func (s *ChartSources) Forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.entries {
		if e.name == key {
			delete(s.entries, id)
		}
	}
}

// Stats returns the number of clients kept and the counters of the shared caches.
func (s *ChartSources) Stats() ChartSourcesStats {
	s.mu.Lock()
	n := len(s.entries)
	s.mu.Unlock()
	return ChartSourcesStats{Sources: n, Indexes: s.indexes.Stats(), Archives: s.archives.Stats()}
}

// Caches returns the shared index and archive caches.
func (s *ChartSources) Caches() (*repo.IndexCache, *repo.ArchiveCache) {
	return s.indexes, s.archives
}

// entry returns the kept client of cr, building it when cr's configuration changed.
func (s *ChartSources) entry(ctx context.Context, reader client.Reader, cr *capstanv1.ChartRepository) (*repoEntry, error) {
	secrets, err := repoReadSecrets(ctx, reader, cr)
	if err != nil {
		return nil, err
	}
	id, key := repoIdentity(cr), repoConfigKey(cr, secrets)
	if e := s.lookup(id, key); e != nil {
		return e, nil
	}
	opts, err := s.options(cr, secrets)
	if err != nil {
		return nil, err
	}
	src, err := repo.New(cr.Spec.URL, opts)
	if err != nil {
		return nil, err
	}
	return s.store(id, &repoEntry{name: client.ObjectKeyFromObject(cr), key: key, source: src}), nil
}

// options turns cr's spec, its Secrets and the manager's settings into client options.
func (s *ChartSources) options(cr *capstanv1.ChartRepository, secrets repoSecrets) (repo.Options, error) {
	o := repo.Options{
		PassCredentials:     cr.Spec.PassCredentials,
		InsecureSkipVerify:  cr.Spec.InsecureSkipTLSVerify,
		PlainHTTP:           cr.Spec.PlainHTTP,
		DenyPrivateNetworks: s.opts.DenyPrivateNetworks,
		AllowNetworks:       s.opts.AllowNetworks,
		Timeout:             cr.GetTimeout(),
		MaxIndexSize:        s.opts.MaxIndexSize,
		MaxChartSize:        s.opts.MaxChartSize,
		Retry:               s.opts.Retry,
		UserAgent:           s.opts.UserAgent,
		IndexCache:          s.indexes,
		ArchiveCache:        s.archives,
	}
	if err := repoApplyCredentials(&o, cr, secrets.auth); err != nil {
		return repo.Options{}, err
	}
	if err := repoApplyTLS(&o, secrets.tls); err != nil {
		return repo.Options{}, err
	}
	return o, nil
}

// lookup returns the entry of id if it was built from the configuration key.
func (s *ChartSources) lookup(id, key string) *repoEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok || e.key != key {
		return nil
	}
	s.clock++
	e.used = s.clock
	return e
}

// store keeps e for id, replacing a client built from an older configuration. When another
// caller stored a client for the same configuration meanwhile, that one is kept and returned.
func (s *ChartSources) store(id string, e *repoEntry) *repoEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[id]; ok && old.key == e.key {
		return old
	}
	if _, ok := s.entries[id]; !ok && len(s.entries) >= s.opts.MaxSources {
		s.evictOldest()
	}
	s.clock++
	e.used = s.clock
	e.resolved = map[string]*repo.ChartVersion{}
	s.entries[id] = e
	return e
}

// evictOldest drops the least recently used entry. The caller holds s.mu.
func (s *ChartSources) evictOldest() {
	oldestID, oldest := "", uint64(0)
	for id, e := range s.entries {
		if oldestID == "" || e.used < oldest {
			oldestID, oldest = id, e.used
		}
	}
	delete(s.entries, oldestID)
}

// remember records that chart version cv.Version of e resolved to cv, so that fetching that
// version later uses the same URL and digest without asking the repository again.
func (s *ChartSources) remember(e *repoEntry, cv *repo.ChartVersion) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(e.resolved) >= repoMaxResolved {
		clear(e.resolved)
	}
	e.resolved[repoVersionKey(cv.Name, cv.Version)] = cv
}

// recall returns what chart version resolved to last, or nil.
func (s *ChartSources) recall(e *repoEntry, chart, version string) *repo.ChartVersion {
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.resolved[repoVersionKey(chart, version)]
}

func repoVersionKey(chart, version string) string { return chart + "\x00" + version }

// repoIdentity names a ChartRepository for the client map: its UID, or its namespaced name for
// an object that never went through the API server.
func repoIdentity(cr *capstanv1.ChartRepository) string {
	if cr.UID != "" {
		return string(cr.UID)
	}
	return client.ObjectKeyFromObject(cr).String()
}

// repoConfigKey identifies the configuration a client is built from: the spec (hashed, so that
// a stale copy of the object and a fresh one with the same spec share a client) and the
// resourceVersions of the Secrets it names. The timeout is part of the spec.
func repoConfigKey(cr *capstanv1.ChartRepository, secrets repoSecrets) string {
	spec, _ := json.Marshal(cr.Spec) // a struct of strings, bools and durations always encodes.
	sum := sha256.Sum256(spec)
	return hex.EncodeToString(sum[:]) + "/" + repoResourceVersion(secrets.auth) + "/" + repoResourceVersion(secrets.tls)
}
