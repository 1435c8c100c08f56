package manifest

import (
	"log/slog"
	"path"
	"slices"
	"strings"
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
	for _, name := range sortedKeys(files) {
		text := files[name]
		if strings.HasPrefix(path.Base(name), "_") || strings.TrimSpace(text) == "" {
			continue
		}
		for _, doc := range Split(text) {
			head, err := ParseHead(doc)
			if err != nil {
				return nil, nil, &ParseError{Template: name, Err: err}
			}
			hooks, manifests = s.classify(name, doc, head, hooks, manifests)
		}
	}
	order := s.order()
	order.SortHooks(hooks)
	order.SortManifests(manifests)
	return hooks, manifests, nil
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
