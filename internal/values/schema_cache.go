package values

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// DefaultSchemaCacheBytes is the schema JSON a SchemaCache holds when given no bound. A compiled
// schema takes 4 (cert-manager) to 10 (cilium) times its JSON on the heap, so the default holds at
// most about 10 MiB: six schemas of cilium's size, many more of ordinary size.
const DefaultSchemaCacheBytes = 1 << 20

// SchemaCache keeps compiled values schemas, keyed by the digest of their JSON, so that the
// schema of a chart is compiled once, not on every render: compiling is most of the cost of
// validating (about 60% of `capstan template` on cilium). Compiled schemas are only read when
// validating, so one may serve concurrent validations. The cache is bounded by the bytes of
// schema JSON it holds and forgets the least recently used schema first; it is safe for
// concurrent use. A nil *SchemaCache keeps nothing.
type SchemaCache struct {
	maxBytes int64

	mu      sync.Mutex
	bytes   int64
	lru     *list.List // of *schemaEntry, most recently used first
	entries map[schemaDigest]*list.Element
	// pending holds the schemas Precompile is compiling; the channel closes when it is done.
	pending map[schemaDigest]chan struct{}
}

type schemaDigest [sha256.Size]byte

type schemaEntry struct {
	key    schemaDigest
	schema *jsonschema.Schema
	size   int64
}

// NewSchemaCache returns a cache holding at most maxBytes of schema JSON; maxBytes ≤ 0 means
// DefaultSchemaCacheBytes.
func NewSchemaCache(maxBytes int64) *SchemaCache {
	if maxBytes <= 0 {
		maxBytes = DefaultSchemaCacheBytes
	}
	return &SchemaCache{maxBytes: maxBytes, lru: list.New(), entries: map[schemaDigest]*list.Element{}}
}

// Len returns how many compiled schemas the cache holds.
func (c *SchemaCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// schemaKey is the digest of a schema and the object limit it was checked against.
func schemaKey(schemaJSON []byte, limit int) schemaDigest {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(int64(limit))) //nolint:gosec // a bit pattern, any value is fine.
	h := sha256.New()
	h.Write(n[:])
	h.Write(schemaJSON)
	var key schemaDigest
	h.Sum(key[:0])
	return key
}

func (c *SchemaCache) get(key schemaDigest) *jsonschema.Schema {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if done, ok := c.pending[key]; ok {
		c.mu.Unlock()
		<-done
		c.mu.Lock()
	}
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	se, _ := e.Value.(*schemaEntry)
	return se.schema
}

// put keeps s under key; schemaJSON's size is what it counts.
func (c *SchemaCache) put(key schemaDigest, s *jsonschema.Schema, size int64) {
	if c == nil || size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return
	}
	c.entries[key] = c.lru.PushFront(&schemaEntry{key: key, schema: s, size: size})
	c.bytes += size
	for c.bytes > c.maxBytes {
		last := c.lru.Back()
		se, _ := last.Value.(*schemaEntry)
		c.lru.Remove(last)
		delete(c.entries, se.key)
		c.bytes -= se.size
	}
}

// begin marks key as being compiled by Precompile: it reports false when the schema is kept
// already or being compiled, so there is nothing to do. A true answer must be followed by end.
func (c *SchemaCache) begin(key schemaDigest) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return false
	}
	if _, ok := c.pending[key]; ok {
		return false
	}
	if c.pending == nil {
		c.pending = map[schemaDigest]chan struct{}{}
	}
	c.pending[key] = make(chan struct{})
	return true
}

// end finishes what begin started, keeping s (when not nil) and waking the validations that
// wait for it; they compile on their own when s is nil.
func (c *SchemaCache) end(key schemaDigest, s *jsonschema.Schema, size int64) {
	if s != nil {
		c.put(key, s, size)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.pending[key])
	delete(c.pending, key)
}
