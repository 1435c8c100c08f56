package manifest

import (
	"log/slog"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Sorter classifies rendered templates into hooks and regular manifests and orders them.
type Sorter struct {
	// Order is the kind order for manifests and hooks; InstallOrder when nil.
	Order KindOrder
	// Logger receives the "skipping unknown hooks" notice Helm prints; slog.Default() when nil.
	Logger *slog.Logger
}

// Sort is Sorter{Order: order}.Sort(files). The apiVersions argument is accepted for parity with
// Helm's SortManifests, which takes the capabilities' version set and does not use it either.
func Sort(files map[string]string, _ func(string) bool, order KindOrder) (hooks []Hook, manifests []Manifest, err error) {
	return Sorter{Order: order}.Sort(files)
}

// Sort splits every rendered file (template name → text) into documents and classifies them.
//
// Files are visited in template-name order and documents in file order. Partials (base name
// starting with "_") and whitespace-only files are skipped. A document with the helm.sh/hook
// annotation becomes a Hook unless one of its events is unknown, in which case it is dropped
// entirely, as Helm does; every other document is a Manifest. Both lists are then stably sorted by
// kind. A document that is not valid YAML, or not a mapping, fails the sort with a *ParseError.
func (s Sorter) Sort(files map[string]string) (hooks []Hook, manifests []Manifest, err error) {
	docs := splitFiles(files)
	parseHeads(docs)
	for _, d := range docs {
		if d.err != nil {
			return nil, nil, &ParseError{Template: d.name, Err: d.err}
		}
		hooks, manifests = s.classify(d.name, d.text, d.head, hooks, manifests)
	}
	order := s.order()
	order.SortHooks(hooks)
	order.SortManifests(manifests)
	return hooks, manifests, nil
}

// document is one document of a rendered file and its parsed head.
type document struct {
	name, text string
	head       *Head
	err        error
}

// splitFiles splits the rendered files in name order into their documents, skipping partials
// and whitespace-only files.
func splitFiles(files map[string]string) []document {
	var docs []document
	for _, name := range sortedKeys(files) {
		text := files[name]
		if strings.HasPrefix(path.Base(name), "_") || strings.TrimSpace(text) == "" {
			continue
		}
		for _, doc := range Split(text) {
			docs = append(docs, document{name: name, text: doc})
		}
	}
	return docs
}

// parseHeads parses every document's head, on up to GOMAXPROCS goroutines: each parse is
// independent, and Sort reads the results in document order, so the first error is the same.
func parseHeads(docs []document) {
	workers := min(runtime.GOMAXPROCS(0), len(docs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(docs); i = int(next.Add(1)) - 1 {
				docs[i].head, docs[i].err = ParseHead(docs[i].text)
			}
		})
	}
	wg.Wait()
}

func (s Sorter) classify(name, doc string, head *Head, hooks []Hook, manifests []Manifest) ([]Hook, []Manifest) {
	value, isHook := head.Annotation(AnnotationHook)
	if !isHook {
		return hooks, append(manifests, Manifest{Name: name, Content: doc, Head: head})
	}
	events, err := ParseHookEvents(value)
	if err != nil {
		s.logger().Info("skipping unknown hooks", "hookTypes", value)
		return hooks, manifests
	}
	return append(hooks, newHook(name, doc, head, events)), manifests
}

func (s Sorter) order() KindOrder {
	if s.Order == nil {
		return InstallOrder
	}
	return s.Order
}

func (s Sorter) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
