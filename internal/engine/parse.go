package engine

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"text/template"
	"text/template/parse"
)

// parsedSet is a chart's template set, parsed and guarded once. It is never executed itself and
// never changed after it is built: every render executes its own Clone, whose functions are bound
// to that render. Clones share the parse trees, which text/template only reads while executing, so
// any number of renders may use one parsedSet at the same time.
type parsedSet struct {
	set   *template.Template
	token string               // the guard token written into the trees
	trees map[*parse.Tree]bool // the trees the guard has rewritten; read-only
	size  int64                // bytes of template source, what the cache counts
}

// errStaleFunc is what a parsedSet's placeholder functions return. Every clone replaces all of
// them, so a template never sees it.
var errStaleFunc = errors.New("template function not bound to a render")

// placeholders returns a function for every name in names that only fails. A parsedSet holds
// these instead of functions bound to the render that happened to parse it.
func placeholders(names template.FuncMap) template.FuncMap {
	out := make(template.FuncMap, len(names))
	for name := range names {
		out[name] = func() (string, error) { return "", errStaleFunc }
	}
	return out
}

// stubs are the placeholders of every function a render defines (funcMap) and of the guard's,
// and the former again in the form parse.Parse takes. The names are the same for every render.
var stubs = sync.OnceValue(func() (s struct {
	funcs, guard template.FuncMap
	known        map[string]any
}) {
	r := newRenderer(context.Background(), newBudget(Limits{}), Options{})
	s.funcs = placeholders(r.funcMap(nil))
	s.guard = placeholders(r.guard.funcs())
	s.known = make(map[string]any, len(s.funcs))
	for name, fn := range s.funcs {
		s.known[name] = fn
	}
	return s
})

// parseSources parses every template in names (in Helm's parse order) into one set named gotpl
// and guards it. Files are parsed in parallel, each on its own, and then added to the set in
// order, which gives the same set, the same "last definition wins" and the same first error as
// parsing them one after the other.
func parseSources(sources map[string]source, names []string, missingKey string) (*parsedSet, error) {
	files := parseFiles(sources, names)
	t := template.New("gotpl").Option(missingKey).Funcs(stubs().funcs)
	var size int64
	for i, name := range names {
		if files[i].err != nil {
			return nil, parseError(name, files[i].err)
		}
		size += int64(len(sources[name].text))
		nt := t.New(name)
		for treeName, tree := range files[i].trees {
			if _, err := nt.AddParseTree(treeName, tree); err != nil {
				return nil, parseError(name, err)
			}
		}
	}
	t.Funcs(stubs().guard)
	g := &guard{token: rand.Text(), done: map[*parse.Tree]bool{}}
	g.rewriteAll(t)
	return &parsedSet{set: t, token: g.token, trees: g.done, size: size}, nil
}

// parsedFile is one file parsed on its own: its top-level template and its defines by name.
type parsedFile struct {
	trees map[string]*parse.Tree
	err   error
}

// builtinNames are text/template's predefined functions, which parse.Parse must be told about
// to accept them (template.Template.Parse adds them itself).
var builtinNames = func() map[string]any {
	out := map[string]any{}
	for _, name := range []string{
		"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
		"println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
	} {
		out[name] = true
	}
	return out
}()

// parseFiles parses each named file on its own, as template.Template.Parse would, on up to
// GOMAXPROCS goroutines.
func parseFiles(sources map[string]source, names []string) []parsedFile {
	known := stubs().known
	out := make([]parsedFile, len(names))
	workers := min(runtime.GOMAXPROCS(0), len(names))
	next := make(chan int, len(names))
	for i := range names {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				out[i].trees, out[i].err = parse.Parse(names[i], sources[names[i]].text, "", "", known, builtinNames)
			}
		})
	}
	wg.Wait()
	return out
}

// TemplateCache keeps parsed template sets so that a chart's templates are parsed once and reused
// by every later render of the same templates (the same chart digest and enabled subcharts give
// the same sources). It is bounded by the bytes of template source it holds (the parse trees
// take a small multiple of that) and forgets the least recently used sets first. It is safe for
// concurrent use; renders that share a set each execute their own clone of it.
type TemplateCache struct {
	maxBytes int64

	mu      sync.Mutex
	bytes   int64
	lru     *list.List // of *cacheEntry, most recently used first
	entries map[[sha256.Size]byte]*list.Element
	hits    uint64
	misses  uint64
}

type cacheEntry struct {
	key [sha256.Size]byte
	set *parsedSet
}

// DefaultTemplateCacheBytes is the template source the manager's cache holds by default. Parsed
// and guarded, a set takes 1.7 (cert-manager, mostly text) to 7.5 (cilium, mostly logic) times its
// source on the heap, so the default holds at most about 15 MiB: cilium four times over, or a few
// dozen charts of ordinary size.
const DefaultTemplateCacheBytes = 2 << 20

// NewTemplateCache returns a cache holding at most maxBytes of template source; maxBytes ≤ 0
// means DefaultTemplateCacheBytes.
func NewTemplateCache(maxBytes int64) *TemplateCache {
	if maxBytes <= 0 {
		maxBytes = DefaultTemplateCacheBytes
	}
	return &TemplateCache{maxBytes: maxBytes, lru: list.New(), entries: map[[sha256.Size]byte]*list.Element{}}
}

// Stats returns how many renders found their templates in the cache and how many parsed them.
func (c *TemplateCache) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

func (c *TemplateCache) get(key [sha256.Size]byte) *parsedSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		c.misses++
		return nil
	}
	c.hits++
	c.lru.MoveToFront(e)
	ce, _ := e.Value.(*cacheEntry)
	return ce.set
}

func (c *TemplateCache) put(key [sha256.Size]byte, p *parsedSet) {
	if p.size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, set: p})
	c.bytes += p.size
	for c.bytes > c.maxBytes {
		last := c.lru.Back()
		ce, _ := last.Value.(*cacheEntry)
		c.lru.Remove(last)
		delete(c.entries, ce.key)
		c.bytes -= ce.set.size
	}
}

// sourcesKey identifies a template set by everything parsing depends on: the missingkey option
// and every file's name and text, in parse order.
func sourcesKey(sources map[string]source, names []string, missingKey string) [sha256.Size]byte {
	h := sha256.New()
	writeField := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	writeField(missingKey)
	for _, name := range names {
		writeField(name)
		writeField(sources[name].text)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}
