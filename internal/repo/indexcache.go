package repo

import (
	"context"
	"sync"
)

// DefaultIndexCacheSize is the byte budget of an IndexCache created with a size <= 0: 128 MiB
// of compact indexes, which holds dozens of indexes of ten thousand versions each.
const DefaultIndexCacheSize int64 = 128 << 20

// maxValidators bounds the number of repositories whose ETag and Last-Modified are remembered.
const maxValidators = 4096

// CacheStats reports a cache's occupancy and effectiveness.
type CacheStats struct {
	// Entries is the number of items held.
	Entries int
	// Bytes is the estimated size of the items held.
	Bytes int64
	// Hits and Misses count lookups.
	Hits, Misses int64
	// Evictions counts items dropped to stay within the budget.
	Evictions int64
}

// IndexCache holds parsed indexes keyed by the digest of their bytes, least recently used
// first out when the byte budget is reached, plus the HTTP validators (ETag, Last-Modified)
// of each repository's last answer so that an unchanged index costs a 304 and nothing more.
// One cache is meant to be shared by every client; it is safe for concurrent use.
type IndexCache struct {
	mu           sync.Mutex
	indexes      *lru[*Index]
	validators   *lru[validator]
	flights      flightGroup[*Index]
	parseGate    chan struct{}
	hits, misses int64
}

// validator is what a repository answered last: enough to ask "has it changed?".
type validator struct {
	etag, lastModified, digest string
}

// NewIndexCache returns a cache holding at most maxBytes of compact indexes
// (DefaultIndexCacheSize when maxBytes <= 0).
func NewIndexCache(maxBytes int64) *IndexCache {
	if maxBytes <= 0 {
		maxBytes = DefaultIndexCacheSize
	}
	return &IndexCache{indexes: newLRU[*Index](maxBytes), validators: newLRU[validator](maxValidators),
		parseGate: make(chan struct{}, 1)}
}

// Get returns the index whose bytes have the given digest ("sha256:<hex>").
func (c *IndexCache) Get(digest string) (*Index, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	idx, ok := c.indexes.get(digest)
	if ok {
		c.hits++
	} else {
		c.misses++
	}
	return idx, ok
}

// Add stores an index under its digest. An index larger than the whole budget is not kept.
func (c *IndexCache) Add(idx *Index) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.indexes.add(idx.Digest, idx, idx.memSize())
}

// Stats returns the cache's counters.
func (c *IndexCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: c.indexes.len(), Bytes: c.indexes.size, Hits: c.hits,
		Misses: c.misses, Evictions: c.indexes.evictions}
}

// conditional returns the validators remembered for key together with the index they
// describe, but only while that index is still cached: without it a 304 would be useless.
func (c *IndexCache) conditional(key string) (validator, *Index) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.validators.get(key)
	if !ok {
		return validator{}, nil
	}
	idx, ok := c.indexes.get(v.digest)
	if !ok {
		return validator{}, nil
	}
	return v, idx
}

// remember stores what a repository answered. The index the repository served before is
// dropped at once when no other repository's validators still point at it: it is stale, and
// waiting for the LRU to reach it would only hold memory.
func (c *IndexCache) remember(key string, v validator) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, had := c.validators.get(key)
	c.validators.add(key, v, 1)
	if !had || old.digest == v.digest {
		return
	}
	referenced := false
	c.validators.each(func(o validator) { referenced = referenced || o.digest == old.digest })
	if !referenced {
		c.indexes.delete(old.digest)
	}
}

// shared runs fetch once for all concurrent callers asking for the same repository key, so
// that a burst of Releases reconciling at once downloads and parses an index once.
func (c *IndexCache) shared(ctx context.Context, key string, fetch func(context.Context) (*Index, error)) (*Index, error) {
	return c.flights.do(ctx, key, fetch)
}

// parse runs one index parse at a time per cache. Parsing a large index allocates about twenty
// times its size while it runs, so a burst of repositories refreshing together must not parse
// side by side.
func (c *IndexCache) parse(ctx context.Context, fn func() (*Index, error)) (*Index, error) {
	select {
	case c.parseGate <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.parseGate }()
	return fn()
}
