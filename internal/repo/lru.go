package repo

import "container/list"

// lru is a least-recently-used map bounded by the sum of its items' sizes. It is not safe for
// concurrent use; the caches that embed it hold their own lock.
type lru[V any] struct {
	maxSize   int64
	size      int64
	order     list.List // front = most recently used; values are *lruItem[V].
	items     map[string]*list.Element
	evictions int64
}

type lruItem[V any] struct {
	key  string
	val  V
	size int64
}

func newLRU[V any](maxSize int64) *lru[V] {
	return &lru[V]{maxSize: maxSize, items: make(map[string]*list.Element)}
}

func (c *lru[V]) get(key string) (V, bool) {
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem[V]).val, true
}

// add stores val under key, evicting the least recently used items to make room. An item larger
// than the whole budget is not stored; add reports whether it was.
func (c *lru[V]) add(key string, val V, size int64) bool {
	if size > c.maxSize {
		return false
	}
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	c.items[key] = c.order.PushFront(&lruItem[V]{key: key, val: val, size: size})
	c.size += size
	for c.size > c.maxSize {
		c.remove(c.order.Back())
		c.evictions++
	}
	return true
}

func (c *lru[V]) remove(el *list.Element) {
	it := el.Value.(*lruItem[V])
	c.order.Remove(el)
	delete(c.items, it.key)
	c.size -= it.size
}

func (c *lru[V]) len() int { return len(c.items) }

// delete drops key if present.
func (c *lru[V]) delete(key string) {
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
}

// each calls fn with every value, in no particular order.
func (c *lru[V]) each(fn func(V)) {
	for _, el := range c.items {
		fn(el.Value.(*lruItem[V]).val)
	}
}
