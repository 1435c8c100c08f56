package openset

import (
	"context"
	"maps"
	"os"
	"slices"
	"sort"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/storage"
)

// expectation is helm template's output for a release, sorted into what must be live.
type expectation struct {
	// manifest are the rendered objects that are neither hooks nor from crds/: the release's
	// objects, in its inventory and carrying its ownership metadata.
	manifest map[objKey]rendered
	// crdDir are the CRDs of the charts' crds/ directories: applied, never owned.
	crdDir map[objKey]rendered
	// hooks are the hook objects by hookID: stored in the record, never applied here (hooks
	// are off).
	hooks map[string]rendered
	// caps are the capabilities helm template was given.
	caps capabilities
}

// expect renders the release with the reference helm and sorts the objects.
func (s *suite) expect(ctx context.Context, t *testing.T, c openChart, values map[string]any, caps capabilities) expectation {
	g := NewWithT(t)
	workDir, err := os.MkdirTemp(s.workDir, "render-")
	g.Expect(err).NotTo(HaveOccurred())
	docs, err := helmTemplate(ctx, s.helm, workDir, c.name, c.name, s.archives[c.name], values, caps)
	g.Expect(err).NotTo(HaveOccurred())
	e := expectation{manifest: map[objKey]rendered{}, crdDir: map[objKey]rendered{}, hooks: map[string]rendered{}, caps: caps}
	for _, d := range docs {
		if d.isHook() {
			e.hooks[hookID(d.obj.GetKind(), d.obj.GetName(), d.source)] = d
			continue
		}
		k, err := renderedKey(s.client, d, c.name)
		g.Expect(err).NotTo(HaveOccurred())
		into := e.manifest
		if d.fromCRDDir() {
			into = e.crdDir
		}
		g.Expect(into).NotTo(HaveKey(k), "helm template rendered %s twice", k)
		into[k] = d
	}
	g.Expect(e.manifest).NotTo(BeEmpty(), "helm template rendered nothing")
	return e
}

// compare checks the live release against helm template, one to one: the inventory and the
// objects carrying the release's ownership annotations are exactly the rendered non-hook
// objects; the crds/ CRDs exist; no hook was applied and the record holds exactly the rendered
// hooks; every live object has the rendered labels and annotations and contains every field the
// chart rendered.
func (s *suite) compare(ctx context.Context, t *testing.T, c openChart, rel *capstanv1.Release, e expectation) {
	g := NewWithT(t)
	want := keysOf(e.manifest)

	inventory, err := inventoryKeys(rel)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sortedKeys(inventory)).To(Equal(want), "status.inventory is helm template's objects, one to one")

	owned, err := ownedKeys(ctx, s.cfg, c.name, c.name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sortedKeys(owned)).To(Equal(want), "the objects annotated as the release's are helm template's objects, one to one")

	rec, err := storage.NewStore(s.client).Get(ctx, c.name, c.name, rel.Status.CurrentRevision)
	g.Expect(err).NotTo(HaveOccurred())
	stored := make([]string, 0, len(rec.Hooks))
	for _, h := range rec.Hooks {
		stored = append(stored, hookID(h.Kind, h.Name, h.Path))
	}
	sort.Strings(stored)
	g.Expect(stored).To(Equal(append([]string{}, slices.Sorted(maps.Keys(e.hooks))...)), "the record's hooks are helm template's hooks")

	for id, d := range e.hooks {
		ns := d.obj.GetNamespace()
		if ns == "" {
			ns = c.name
		}
		live, err := getLive(ctx, s.client, d, objKey{Namespace: ns, Name: d.obj.GetName()})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(),
			"hook %s was not applied with hooks disabled (found uid %q, err %v)", id, live.GetUID(), err)
	}
	for k, d := range e.manifest {
		s.compareObject(ctx, t, c.name, k, d, true)
	}
	for k, d := range e.crdDir {
		s.compareObject(ctx, t, c.name, k, d, false)
	}
	t.Logf("%s revision %d: %d objects and %d crds/ CRDs live as helm template (%s, %d API versions) renders them; %d hooks stored, none applied",
		c.name, rel.Status.CurrentRevision, len(e.manifest), len(e.crdDir), e.caps.kubeVersion, len(e.caps.apiVersions), len(e.hooks))
}

// compareObject checks one live object against its rendering. An owned object names the
// release and its namespace (every open-set release is named after its namespace); a crds/ CRD
// carries no ownership metadata.
func (s *suite) compareObject(ctx context.Context, t *testing.T, release string, k objKey, d rendered, owned bool) {
	g := NewWithT(t)
	live, err := getLive(ctx, s.client, d, k)
	g.Expect(err).NotTo(HaveOccurred(), "%s is live", k)
	g.Expect(live.GetLabels()).To(Equal(wantLabels(d, owned)), "labels of %s", k)
	annotations := live.GetAnnotations()
	for key, v := range d.obj.GetAnnotations() {
		g.Expect(annotations).To(HaveKeyWithValue(key, v), "annotations of %s", k)
	}
	if owned {
		g.Expect(annotations).To(HaveKeyWithValue(apply.ReleaseNameAnnotation, release), "owner of %s", k)
		g.Expect(annotations).To(HaveKeyWithValue(apply.ReleaseNamespaceAnnotation, release), "owner of %s", k)
	} else {
		g.Expect(annotations).NotTo(HaveKey(apply.ReleaseNameAnnotation), "a crds/ CRD carries no ownership: %s", k)
	}
	body := func(o map[string]any) map[string]any {
		out := map[string]any{}
		for key, v := range o {
			if key != "metadata" && key != "status" {
				out[key] = v
			}
		}
		return out
	}
	g.Expect(containedIn(k.String(), body(d.obj.Object), body(live.Object))).To(BeEmpty(),
		"every field helm template renders for %s is live with the same value", k)
}

// hookID identifies a hook as a record stores it: kind, name and template path.
func hookID(kind, name, path string) string {
	return kind + "/" + name + " from " + path
}

// keysOf returns the sorted key strings of a set of rendered objects.
func keysOf(m map[objKey]rendered) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k.String())
	}
	sort.Strings(out)
	return out
}
