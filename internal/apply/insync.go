package apply

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// InSync remembers, per object, the resourceVersion at which the live object was last known to
// be what a desired object asks for: after Apply wrote it (the answer to an apply is what was
// applied), or after a Diff whose dry-run changed nothing. Diff skips the dry-run of an object whose
// live resourceVersion is still that one, for the same desired object (compared by a SHA-256 of its
// JSON): nobody has written it since, so applying it again would change nothing. Any write by
// anyone (a person, a controller, a status update) moves the resourceVersion, and the next Diff
// compares again. Safe for concurrent use.
type InSync struct {
	mu      sync.Mutex
	objects map[string]syncedAt
}

// syncedAt is the desired object (by hash) and the resourceVersion it was last seen in sync at.
type syncedAt struct {
	desired         [sha256.Size]byte
	resourceVersion string
}

// NewInSync returns an empty memory.
func NewInSync() *InSync { return &InSync{objects: map[string]syncedAt{}} }

// Len returns how many objects are remembered.
func (s *InSync) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// note remembers that the live object is desired at resourceVersion rv; an empty rv forgets it.
func (s *InSync) note(desired *unstructured.Unstructured, rv string) {
	if s == nil {
		return
	}
	id := RefOf(desired).ID()
	h, ok := hashObject(desired)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || rv == "" {
		delete(s.objects, id)
		return
	}
	s.objects[id] = syncedAt{desired: h, resourceVersion: rv}
}

// at returns the resourceVersion an object is remembered in sync at, or "".
func (s *InSync) at(ref ObjectRef) string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objects[ref.ID()].resourceVersion
}

// forget drops what is remembered of an object.
func (s *InSync) forget(ref ObjectRef) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, ref.ID())
}

// unchanged reports whether the live object at rv is known to be the desired object.
func (s *InSync) unchanged(desired *unstructured.Unstructured, rv string) bool {
	if s == nil || rv == "" {
		return false
	}
	h, ok := hashObject(desired)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, found := s.objects[RefOf(desired).ID()]
	return found && at.resourceVersion == rv && at.desired == h
}

func hashObject(obj *unstructured.Unstructured) ([sha256.Size]byte, bool) {
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		return [sha256.Size]byte{}, false
	}
	return sha256.Sum256(raw), true
}
