package repo

import (
	"context"
	"errors"
	"sync"
)

// DefaultArchiveCacheSize is the byte budget of an ArchiveCache created with a size <= 0: 256 MiB.
const DefaultArchiveCacheSize int64 = 256 << 20

// ArchiveCache holds verified chart archives, least recently used first out, and makes
// concurrent requests for the same key share one download. Clients key it by the archive's
// digest within the repository and credentials that served it (see archiveKey), so that a
// digest written into one tenant's index never unlocks an archive another tenant downloaded
// with its own credentials. It is safe for concurrent use. The byte slices it returns are
// shared and must not be modified.
type ArchiveCache struct {
	mu           sync.Mutex
	archives     *lru[[]byte]
	flights      flightGroup[[]byte]
	hits, misses int64
}

// NewArchiveCache returns a cache holding at most maxBytes of archives
// (DefaultArchiveCacheSize when maxBytes <= 0).
func NewArchiveCache(maxBytes int64) *ArchiveCache {
	if maxBytes <= 0 {
		maxBytes = DefaultArchiveCacheSize
	}
	return &ArchiveCache{archives: newLRU[[]byte](maxBytes)}
}

// Get returns the archive stored under key, calling fetch at most once for any number of
// concurrent callers. fetch must return bytes already verified against the digest the key
// names; a failed fetch caches nothing. A caller whose context ends stops waiting; if the
// caller running fetch gives up that way, a waiting caller with a live context takes over.
func (c *ArchiveCache) Get(ctx context.Context, key string, fetch func(context.Context) ([]byte, error)) ([]byte, error) {
	if data, ok := c.cached(key, true); ok {
		return data, nil
	}
	return c.flights.do(ctx, key, func(ctx context.Context) ([]byte, error) {
		if data, ok := c.cached(key, false); ok { // a flight may have finished since the first look.
			return data, nil
		}
		data, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.archives.add(key, data, int64(len(data)))
		c.mu.Unlock()
		return data, nil
	})
}

// getVerified returns the archive under key after check accepted it. A cached archive is
// checked before it is returned; a missing one is fetched outside the shared flight (another
// caller's flight may check with other trust material, or none) and enters the cache only
// once check accepted it, so a refused archive is never kept.
func (c *ArchiveCache) getVerified(ctx context.Context, key string, fetch func(context.Context) ([]byte, error),
	check func([]byte) error) ([]byte, error) {
	if data, ok := c.cached(key, true); ok {
		if err := check(data); err != nil {
			return nil, err
		}
		return data, nil
	}
	data, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	if err := check(data); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.archives.add(key, data, int64(len(data)))
	c.mu.Unlock()
	return data, nil
}

func (c *ArchiveCache) cached(key string, count bool) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.archives.get(key)
	switch {
	case !count:
	case ok:
		c.hits++
	default:
		c.misses++
	}
	return data, ok
}

// Stats returns the cache's counters.
func (c *ArchiveCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: c.archives.len(), Bytes: c.archives.size, Hits: c.hits,
		Misses: c.misses, Evictions: c.archives.evictions}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
