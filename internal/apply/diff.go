package apply

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ChangeKind says how the cluster differs from what a revision wants.
type ChangeKind string

// The kinds of change Diff reports.
const (
	// ChangeMissing means the object does not exist.
	ChangeMissing ChangeKind = "Missing"
	// ChangeDrifted means the object exists and applying the revision would change these fields.
	ChangeDrifted ChangeKind = "Drifted"
)

// Change is one object the cluster has differently from the revision.
type Change struct {
	Ref  ObjectRef
	Kind ChangeKind
	// Fields are the JSON pointers (RFC 6901) that applying would change, sorted.
	Fields []string
}

// IgnoreFunc returns the JSON pointers to leave out of the comparison for one object.
type IgnoreFunc func(ObjectRef) []string

// Diff compares the cluster with objs by a server-side dry-run apply of each object: an object that
// is missing, or whose dry-run result differs from the live object, is a Change. objs must be the
// release's own objects (from its records) or what it is about to write; an object that does not
// carry this release's identity (another release took it over, or its ownership metadata was
// removed) is left out, so that a drift correction never writes it — unless it belongs to no
// release and TakeOwnership is set, as Apply would adopt it then. It writes nothing.
func (a *Applier) Diff(ctx context.Context, objs []*unstructured.Unstructured, ignore IgnoreFunc) ([]Change, error) {
	var changes []Change
	for _, obj := range objs {
		ref := RefOf(obj)
		live, err := a.get(ctx, ref)
		if apierrors.IsNotFound(err) {
			changes = append(changes, Change{Ref: ref, Kind: ChangeMissing})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", ref, err)
		}
		if own := OwnershipOf(live, a.owner); !own.Ours(true) && (own.Holder != HeldByNobody || !a.opts.TakeOwnership) {
			continue
		}
		if a.opts.InSync.unchanged(obj, live.GetResourceVersion()) {
			continue // nobody wrote it since it was last in sync
		}
		dry := obj.DeepCopy()
		if err := a.apply(ctx, dry, client.DryRunAll, client.ForceOwnership); err != nil {
			return nil, fmt.Errorf("dry-run of %s: %w", ref, err)
		}
		var pointers []string
		if ignore != nil {
			pointers = ignore(ref)
		}
		fields := changedFields(normalize(live.Object, pointers), normalize(dry.Object, pointers))
		if len(fields) > 0 {
			changes = append(changes, Change{Ref: ref, Kind: ChangeDrifted, Fields: fields})
			a.opts.InSync.forget(ref)
			continue
		}
		if len(pointers) == 0 {
			a.opts.InSync.note(obj, live.GetResourceVersion())
		}
	}
	return changes, nil
}

// normalize copies an object without the fields every write changes and without the ignored pointers.
func normalize(obj map[string]any, ignored []string) map[string]any {
	out := runtimeDeepCopy(obj)
	for _, f := range []string{"managedFields", "resourceVersion", "generation"} {
		unstructured.RemoveNestedField(out, "metadata", f)
	}
	for _, p := range ignored {
		removePointer(out, p)
	}
	return out
}

func runtimeDeepCopy(obj map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: obj}).DeepCopy().Object
}

// removePointer deletes the value at an RFC 6901 JSON pointer, if it is there.
func removePointer(obj map[string]any, pointer string) {
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	var cur any = obj
	for i, raw := range parts {
		key := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		last := i == len(parts)-1
		switch node := cur.(type) {
		case map[string]any:
			if last {
				delete(node, key)
				return
			}
			cur = node[key]
		case []any:
			idx, err := strconv.Atoi(key)
			if err != nil || idx < 0 || idx >= len(node) {
				return
			}
			if last {
				node[idx] = nil
				return
			}
			cur = node[idx]
		default:
			return
		}
	}
}

// changedFields lists the JSON pointers where want differs from have, sorted.
func changedFields(have, want map[string]any) []string {
	var out []string
	diffValue("", have, want, &out)
	sort.Strings(out)
	return out
}

func diffValue(path string, have, want any, out *[]string) {
	hm, hok := have.(map[string]any)
	wm, wok := want.(map[string]any)
	if hok && wok {
		keys := map[string]bool{}
		for k := range hm {
			keys[k] = true
		}
		for k := range wm {
			keys[k] = true
		}
		for k := range keys {
			diffValue(path+"/"+escapePointer(k), hm[k], wm[k], out)
		}
		return
	}
	if !reflect.DeepEqual(have, want) {
		if path == "" {
			path = "/"
		}
		*out = append(*out, path)
	}
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
