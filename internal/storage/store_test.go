package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/chart"
)

// record returns a small record of one revision.
func record(ns, name string, version int, status Status) *Release {
	return &Release{
		Name: name, Namespace: ns, Version: version,
		Info: Info{Status: status, Description: "test", LastDeployed: time.Unix(1700000000+int64(version), 0).UTC()},
		Chart: Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "demo", Version: "0.1.0", AppVersion: "1.0"},
			Values: map[string]any{"greeting": "hello"}},
		Config:   map[string]any{"rev": float64(version)},
		Manifest: "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n",
	}
}

// storeFixture is a store on the shared control plane and a fresh namespace.
type storeFixture struct {
	ctx   context.Context
	c     client.Client
	store *Store
	ns    string
}

func newFixture(t *testing.T) *storeFixture {
	c := newClient(t)
	return &storeFixture{ctx: context.Background(), c: c, store: NewStore(c, WithReader(c)), ns: newNamespace(t, c)}
}

// seed creates revisions with the given statuses, numbered from 1.
func (f *storeFixture) seed(t *testing.T, name string, statuses ...Status) {
	t.Helper()
	for i, st := range statuses {
		if err := f.store.Create(f.ctx, record(f.ns, name, i+1, st)); err != nil {
			t.Fatalf("seed %s v%d: %v", name, i+1, err)
		}
	}
}

func versionsAndStatuses(rels []*Release) []string {
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		out = append(out, SecretName(r.Name, r.Version)+"="+string(r.Info.Status))
	}
	return out
}

func (f *storeFixture) history(t *testing.T, name string) []string {
	t.Helper()
	rels, err := f.store.List(f.ctx, f.ns, name)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		out = append(out, "v"+strconv.Itoa(r.Version)+"="+string(r.Info.Status))
	}
	return out
}

func TestStore_createListGet(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.seed(t, "web", StatusSuperseded, StatusDeployed, StatusFailed)
	f.seed(t, "web2", StatusDeployed)

	rels, err := f.store.List(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(versionsAndStatuses(rels)).To(Equal([]string{
		"sh.helm.release.v1.web.v1=superseded", "sh.helm.release.v1.web.v2=deployed", "sh.helm.release.v1.web.v3=failed",
	}), "sorted by version; web2's record is not web's")
	g.Expect(rels[1].Config).To(Equal(map[string]any{"rev": float64(2)}))
	g.Expect(rels[1].ResourceVersion()).NotTo(BeEmpty())

	got, err := f.store.Get(f.ctx, f.ns, "web", 2)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Manifest).To(Equal(record(f.ns, "web", 2, StatusDeployed).Manifest))

	last, err := f.store.Last(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(last.Version).To(Equal(3))
	dep, err := f.store.Deployed(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(dep.Version).To(Equal(2))

	_, err = f.store.Get(f.ctx, f.ns, "web", 9)
	g.Expect(err).To(MatchError(ErrNotFound))
	_, err = f.store.Last(f.ctx, f.ns, "nothing")
	g.Expect(err).To(MatchError(ErrNotFound))
	f.seed(t, "never-deployed", StatusFailed)
	_, err = f.store.Deployed(f.ctx, f.ns, "never-deployed")
	g.Expect(err).To(MatchError(ErrNotFound))
	_, err = f.store.List(f.ctx, f.ns, "web,owner!=helm")
	g.Expect(err).To(MatchError(ErrInvalid), "a name must never widen the label selector")
}

func TestStore_createLabels(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	rel := record(f.ns, "web", 1, StatusPendingInstall)
	rel.Labels = map[string]string{"team": "blue"}
	g.Expect(f.store.Create(f.ctx, rel)).To(Succeed())

	var s corev1.Secret
	g.Expect(f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: "sh.helm.release.v1.web.v1"}, &s)).To(Succeed())
	g.Expect(s.Type).To(Equal(SecretType))
	g.Expect(s.Labels).To(HaveKeyWithValue("name", "web"))
	g.Expect(s.Labels).To(HaveKeyWithValue("owner", "helm"))
	g.Expect(s.Labels).To(HaveKeyWithValue("status", "pending-install"))
	g.Expect(s.Labels).To(HaveKeyWithValue("version", "1"))
	g.Expect(s.Labels).To(HaveKeyWithValue("team", "blue"))
	g.Expect(s.Labels).To(HaveKey("createdAt"))
	g.Expect(rel.ResourceVersion()).To(Equal(s.ResourceVersion))

	got, err := f.store.Get(f.ctx, f.ns, "web", 1)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Labels).To(Equal(map[string]string{"team": "blue"}))
}

func TestStore_createConflict(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.seed(t, "web", StatusPendingInstall)

	other := record(f.ns, "web", 1, StatusPendingInstall)
	other.Manifest = "another writer's manifest"
	err := f.store.Create(f.ctx, other)
	g.Expect(err).To(MatchError(ErrConflict))
	g.Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "the apiserver's error stays in the chain")

	got, err := f.store.Get(f.ctx, f.ns, "web", 1)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Manifest).NotTo(Equal("another writer's manifest"), "create never overwrites")
}

func TestStore_updateStatus(t *testing.T) {
	cases := map[string]struct {
		from, to Status
		stale    bool
		err      error
	}{
		"a pending install becomes deployed":   {from: StatusPendingInstall, to: StatusDeployed},
		"a pending upgrade fails":              {from: StatusPendingUpgrade, to: StatusFailed},
		"a deployed revision is superseded":    {from: StatusDeployed, to: StatusSuperseded},
		"a deployed revision cannot go back":   {from: StatusDeployed, to: StatusPendingUpgrade, err: ErrIllegalTransition},
		"a failed revision cannot be deployed": {from: StatusFailed, to: StatusDeployed, err: ErrIllegalTransition},
		"deployed to deployed is no change":    {from: StatusDeployed, to: StatusDeployed, err: ErrIllegalTransition},
		"a record changed since it was read":   {from: StatusPendingInstall, to: StatusDeployed, stale: true, err: ErrConflict},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			f.seed(t, "web", tc.from)
			rel, err := f.store.Get(f.ctx, f.ns, "web", 1)
			g.Expect(err).NotTo(HaveOccurred())
			if tc.stale {
				f.touch(t, "web", 1)
			}
			rel.Info.Status = tc.to
			rel.Info.Description = "changed"
			rel.Manifest = "content a status change must not carry"
			err = f.store.UpdateStatus(f.ctx, rel)

			got, gerr := f.store.Get(f.ctx, f.ns, "web", 1)
			g.Expect(gerr).NotTo(HaveOccurred())
			if tc.err != nil {
				g.Expect(err).To(MatchError(tc.err))
				g.Expect(got.Info.Status).To(Equal(tc.from))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Info.Status).To(Equal(tc.to))
			g.Expect(got.Info.Description).To(Equal("changed"))
			g.Expect(got.Manifest).To(Equal(record(f.ns, "web", 1, tc.from).Manifest))
			g.Expect(rel.ResourceVersion()).To(Equal(got.ResourceVersion()))
			f.expectLabels(g, "web", 1, tc.to)
		})
	}
}

// touch changes a record's Secret behind the store's back.
func (f *storeFixture) touch(t *testing.T, name string, version int) {
	t.Helper()
	var s corev1.Secret
	if err := f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: SecretName(name, version)}, &s); err != nil {
		t.Fatal(err)
	}
	s.Annotations = map[string]string{"touched": "yes"}
	if err := f.c.Update(f.ctx, &s); err != nil {
		t.Fatal(err)
	}
}

func (f *storeFixture) expectLabels(g *WithT, name string, version int, status Status) {
	var s corev1.Secret
	g.Expect(f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: SecretName(name, version)}, &s)).To(Succeed())
	g.Expect(s.Labels).To(HaveKeyWithValue("status", string(status)))
	g.Expect(s.Labels).To(HaveKey("createdAt"))
	g.Expect(s.Labels).To(HaveKey("modifiedAt"))
}

func TestStore_updateStatusErrors(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	err := f.store.UpdateStatus(f.ctx, record(f.ns, "web", 1, StatusDeployed))
	g.Expect(err).To(MatchError(ErrNotFound))
	g.Expect(f.store.UpdateStatus(f.ctx, nil)).To(MatchError(ErrInvalid))
}

func TestStore_supersede(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	// Two deployed revisions: what a crash between "deploy v2" and "supersede v1" leaves.
	f.seed(t, "web", StatusDeployed, StatusDeployed, StatusFailed, StatusPendingUpgrade)
	v4, err := f.store.Get(f.ctx, f.ns, "web", 4)
	g.Expect(err).NotTo(HaveOccurred())
	v4.Info.Status = StatusDeployed
	g.Expect(f.store.UpdateStatus(f.ctx, v4)).To(Succeed())

	done, err := f.store.Supersede(f.ctx, f.ns, "web", 4)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(done).To(Equal([]int{1, 2}))
	g.Expect(f.history(t, "web")).To(Equal([]string{"v1=superseded", "v2=superseded", "v3=failed", "v4=deployed"}))

	done, err = f.store.Supersede(f.ctx, f.ns, "web", 4)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(done).To(BeEmpty(), "superseding again changes nothing")
}

func TestStore_recoverPending(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.seed(t, "web", StatusDeployed, StatusPendingUpgrade)

	done, err := f.store.RecoverPending(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(done).To(HaveLen(1))
	g.Expect(done[0].Version).To(Equal(2))
	g.Expect(f.history(t, "web")).To(Equal([]string{"v1=deployed", "v2=failed"}))
	got, err := f.store.Get(f.ctx, f.ns, "web", 2)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Info.Description).To(Equal(`Release "web" was left pending-upgrade by an interrupted operation; marked failed`))

	done, err = f.store.RecoverPending(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(done).To(BeEmpty())
}

func TestStore_prune(t *testing.T) {
	s, d, x, p := StatusSuperseded, StatusDeployed, StatusFailed, StatusPendingUpgrade
	cases := map[string]struct {
		statuses   []Status
		maxHistory int
		deleted    []int
		left       []string
	}{
		"the oldest go first": {
			statuses: []Status{s, s, s, d}, maxHistory: 2, deleted: []int{1, 2},
			left: []string{"v3=superseded", "v4=deployed"},
		},
		"the last deployed revision is kept even when old": {
			statuses: []Status{s, d, x, x, x, x}, maxHistory: 3, deleted: []int{1, 3, 4},
			left: []string{"v2=deployed", "v5=failed", "v6=failed"},
		},
		"the newest revision is kept too, even past the limit": {
			statuses: []Status{d, x, p}, maxHistory: 1, deleted: []int{2},
			left: []string{"v1=deployed", "v3=pending-upgrade"},
		},
		"zero means unlimited": {
			statuses: []Status{s, s, d}, maxHistory: 0, left: []string{"v1=superseded", "v2=superseded", "v3=deployed"},
		},
		"under the limit nothing goes": {
			statuses: []Status{s, d}, maxHistory: 10, left: []string{"v1=superseded", "v2=deployed"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			f.seed(t, "web", tc.statuses...)
			deleted, err := f.store.Prune(f.ctx, f.ns, "web", tc.maxHistory)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(deleted).To(Equal(tc.deleted))
			g.Expect(f.history(t, "web")).To(Equal(tc.left))
		})
	}
}

// putCorrupt stores a Secret that looks like revision version of name but holds garbage.
func (f *storeFixture) putCorrupt(t *testing.T, name string, version int) {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: SecretName(name, version), Namespace: f.ns,
			Labels: map[string]string{"owner": "helm", "name": name, "status": "deployed", "version": "9"}},
		Type: SecretType, Data: map[string][]byte{DataKey: []byte("H4sIAAAA-not-a-record")},
	}
	if err := f.c.Create(f.ctx, s); err != nil {
		t.Fatal(err)
	}
}

func TestStore_corruptRecord(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.putCorrupt(t, "web", 1)
	f.seed(t, "other", StatusDeployed)
	g.Expect(f.store.Create(f.ctx, record(f.ns, "web", 2, StatusSuperseded))).To(Succeed())
	g.Expect(f.store.Create(f.ctx, record(f.ns, "web", 3, StatusDeployed))).To(Succeed())
	f.putCorrupt(t, "web", 4)

	rels, err := f.store.List(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred(), "one bad record does not hide the others")
	g.Expect(f.history(t, "web")).To(Equal([]string{"v1=unknown", "v2=superseded", "v3=deployed", "v4=unknown"}))
	g.Expect(rels[0].DecodeError()).To(MatchError(ErrCorrupt))

	last, err := f.store.Last(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(last.Version).To(Equal(4), "the next revision number stays above a corrupt one")
	dep, err := f.store.Deployed(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(dep.Version).To(Equal(3), "the status label of a corrupt record is not trusted")

	_, err = f.store.Get(f.ctx, f.ns, "web", 1)
	g.Expect(err).To(MatchError(ErrCorrupt))
	rels[0].Info.Status = StatusSuperseded
	g.Expect(f.store.UpdateStatus(f.ctx, rels[0])).To(MatchError(ErrCorrupt), "a corrupt record is never rewritten")

	deleted, err := f.store.Prune(f.ctx, f.ns, "web", 1)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(deleted).To(Equal([]int{2}), "corrupt records are left for a human")
}

func TestStore_ignoresForeignSecrets(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.seed(t, "web", StatusDeployed)
	lbl := map[string]string{"owner": "helm", "name": "web"}
	foreign := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "web-credentials", Namespace: f.ns, Labels: lbl}},
		{ObjectMeta: metav1.ObjectMeta{Name: SecretName("web-other", 1), Namespace: f.ns, Labels: lbl}},
	}
	for _, s := range foreign {
		g.Expect(f.c.Create(f.ctx, s)).To(Succeed())
	}
	other := newNamespace(t, f.c)
	g.Expect(f.store.Create(f.ctx, record(other, "web", 2, StatusDeployed))).To(Succeed())

	g.Expect(f.history(t, "web")).To(Equal([]string{"v1=deployed"}))
	g.Expect(f.store.DeleteAll(f.ctx, f.ns, "web")).To(Succeed())
	g.Expect(f.history(t, "web")).To(BeEmpty())
	for _, s := range foreign {
		g.Expect(f.c.Get(f.ctx, client.ObjectKeyFromObject(s), &corev1.Secret{})).To(Succeed(), s.Name+" is not a record of web")
	}
	_, err := f.store.Get(f.ctx, other, "web", 2)
	g.Expect(err).NotTo(HaveOccurred(), "another namespace's history is untouched")
}

func TestStore_delete(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.seed(t, "web", StatusSuperseded, StatusDeployed)
	g.Expect(f.store.Delete(f.ctx, f.ns, "web", 1)).To(Succeed())
	g.Expect(f.store.Delete(f.ctx, f.ns, "web", 1)).To(Succeed(), "deleting a deleted revision is not an error")
	g.Expect(f.history(t, "web")).To(Equal([]string{"v2=deployed"}))

	plain := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: SecretName("web", 7), Namespace: f.ns}}
	g.Expect(f.c.Create(f.ctx, plain)).To(Succeed())
	g.Expect(f.store.Delete(f.ctx, f.ns, "web", 7)).To(MatchError(ErrInvalid), "only release records are deleted")
}

func TestStore_sizeLimit(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	rel := record(f.ns, "web", 1, StatusPendingInstall)
	rel.Manifest = randomText(t, 1100<<10)
	err := f.store.Create(f.ctx, rel)
	g.Expect(err).To(MatchError(ErrTooLarge))
	g.Expect(f.history(t, "web")).To(BeEmpty(), "nothing is written")

	// Our limit is the apiserver's: exactly 1 MiB of data is stored, one byte more is refused.
	for size, ok := range map[int]bool{MaxSecretSize: true, MaxSecretSize + 1: false} {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "size-", Namespace: f.ns},
			Data:       map[string][]byte{DataKey: bytes.Repeat([]byte("a"), size)},
		}
		err := f.c.Create(f.ctx, s)
		if ok {
			g.Expect(err).NotTo(HaveOccurred())
			continue
		}
		g.Expect(mapWriteError(err)).To(MatchError(ErrTooLarge), "the apiserver's refusal maps to ErrTooLarge")
	}
}

// TestStore_wireFormat reads a record the way kubectl does: data.release on the wire is base64 of
// the base64 text, which itself decodes to gzip.
func TestStore_wireFormat(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.seed(t, "web", StatusDeployed)
	cs, err := kubernetes.NewForConfig(startEnv(t))
	g.Expect(err).NotTo(HaveOccurred())
	raw, err := cs.CoreV1().RESTClient().Get().Namespace(f.ns).Resource("secrets").
		Name(SecretName("web", 1)).DoRaw(f.ctx)
	g.Expect(err).NotTo(HaveOccurred())
	var obj struct {
		Data map[string]string `json:"data"`
	}
	g.Expect(json.Unmarshal(raw, &obj)).To(Succeed())
	once, err := base64.StdEncoding.DecodeString(obj.Data["release"])
	g.Expect(err).NotTo(HaveOccurred())
	twice, err := base64.StdEncoding.DecodeString(string(once))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(twice[:3]).To(Equal([]byte{0x1f, 0x8b, 0x08}))
}

func TestStore_supersedeAndPrune(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.seed(t, "web", StatusSuperseded, StatusSuperseded, StatusDeployed, StatusFailed, StatusPendingUpgrade)
	v5, err := f.store.Get(f.ctx, f.ns, "web", 5)
	g.Expect(err).NotTo(HaveOccurred())
	v5.Info.Status = StatusDeployed
	g.Expect(f.store.UpdateStatus(f.ctx, v5)).To(Succeed())

	reader := &countingReader{Reader: f.c}
	store := NewStore(f.c, WithReader(reader))
	rels, err := store.List(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	left, err := store.SupersedeAndPruneFrom(f.ctx, f.ns, "web", rels, 5, 3)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(reader.lists).To(Equal(1), "one list for both")
	want := []string{"v3=superseded", "v4=failed", "v5=deployed"}
	g.Expect(f.history(t, "web")).To(Equal(want))
	got := make([]string, 0, len(left))
	for _, r := range left {
		got = append(got, fmt.Sprintf("v%d=%s", r.Version, r.Info.Status))
	}
	g.Expect(got).To(Equal(want), "what it returns is what is stored")
}

func TestStore_pruneFrom(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.seed(t, "web", StatusSuperseded, StatusSuperseded, StatusDeployed)
	rels, err := f.store.List(f.ctx, f.ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	// Another writer deletes v1 and adds v4 after the list: PruneFrom knows neither.
	g.Expect(f.store.Delete(f.ctx, f.ns, "web", 1)).To(Succeed())
	g.Expect(f.store.Create(f.ctx, record(f.ns, "web", 4, StatusPendingUpgrade))).To(Succeed())

	deleted, err := f.store.PruneFrom(f.ctx, f.ns, "web", rels, 1)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(deleted).To(Equal([]int{1, 2}), "a record deleted meanwhile counts as deleted")
	g.Expect(f.history(t, "web")).To(Equal([]string{"v3=deployed", "v4=pending-upgrade"}),
		"the listed newest and last deployed are kept, and the record it did not know is left alone")
}

// countingReader counts the lists and gets made through it.
type countingReader struct {
	client.Reader
	lists, gets int
}

func (r *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.lists++
	return r.Reader.List(ctx, list, opts...)
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.gets++
	return r.Reader.Get(ctx, key, obj, opts...)
}

// TestStore_rewritesWhatItWroteWithoutReading changes the status of a record it created, and
// then again, without reading the Secret; a Secret changed or deleted meanwhile still fails the
// write as ErrConflict or ErrNotFound, and a record too large to keep is read first.
func TestStore_rewritesWhatItWroteWithoutReading(t *testing.T) {
	cases := map[string]struct {
		meanwhile func(f *storeFixture, t *testing.T)
		large     bool
		gets      int
		err       error
	}{
		"created, then deployed, then superseded": {},
		"changed meanwhile":                       {meanwhile: func(f *storeFixture, t *testing.T) { f.touch(t, "web", 1) }, err: ErrConflict},
		"deleted meanwhile": {meanwhile: func(f *storeFixture, t *testing.T) {
			if err := f.store.Delete(f.ctx, f.ns, "web", 1); err != nil {
				t.Fatal(err)
			}
		}, err: ErrNotFound},
		"too large to keep": {large: true, gets: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			reader := &countingReader{Reader: f.c}
			store := NewStore(f.c, WithReader(reader))
			rel := record(f.ns, "web", 1, StatusPendingInstall)
			if tc.large {
				rel.Manifest = randomText(t, 2*maxKeptRecord)
			}
			g.Expect(store.Create(f.ctx, rel)).To(Succeed())
			if tc.meanwhile != nil {
				tc.meanwhile(f, t)
			}
			rel.Info.Status = StatusDeployed
			err := store.UpdateStatus(f.ctx, rel)
			if tc.err != nil {
				g.Expect(err).To(MatchError(tc.err))
				g.Expect(reader.gets).To(BeZero())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			rel.Info.Status = StatusSuperseded
			g.Expect(store.UpdateStatus(f.ctx, rel)).To(Succeed())
			g.Expect(reader.gets).To(Equal(tc.gets), "Secrets read")
			g.Expect(f.history(t, "web")).To(Equal([]string{"v1=superseded"}))
			f.expectLabels(g, "web", 1, StatusSuperseded)
			got, err := f.store.Get(f.ctx, f.ns, "web", 1)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Manifest).To(Equal(rel.Manifest), "the stored chart, values and manifest stay")
			g.Expect(got.ResourceVersion()).To(Equal(rel.ResourceVersion()))
		})
	}
}

// A record as listed is rewritten from the listed Secret, and so is a deployed record's summary;
// the rewrite is conditional all the same.
func TestStore_rewritesWhatItListedWithoutReading(t *testing.T) {
	for _, tc := range []struct {
		name    string
		summary bool
		touch   bool
	}{{name: "listed"}, {name: "summarised", summary: true}, {name: "changed since the list", touch: true}} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			g.Expect(f.store.Create(f.ctx, record(f.ns, "web", 1, StatusDeployed))).To(Succeed())
			reader := &countingReader{Reader: f.c}
			store := NewStore(f.c, WithReader(reader))
			rels, err := store.List(f.ctx, f.ns, "web")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(rels).To(HaveLen(1))
			rel := rels[0]
			if tc.summary {
				rel = rel.Summary()
			}
			if tc.touch {
				f.touch(t, "web", 1)
			}
			rel.Info.Status = StatusSuperseded
			err = store.UpdateStatus(f.ctx, rel)
			g.Expect(reader.gets).To(BeZero(), "Secrets read")
			if tc.touch {
				g.Expect(err).To(MatchError(ErrConflict))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			got, err := f.store.Get(f.ctx, f.ns, "web", 1)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Info.Status).To(Equal(StatusSuperseded))
			g.Expect(got.Manifest).NotTo(BeEmpty(), "the stored manifest stays")
		})
	}
}
