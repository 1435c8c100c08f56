package reconcile

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/health"
)

func TestWaitRegistry(t *testing.T) {
	g := NewWithT(t)
	web := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "web"}
	db := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "StatefulSet", Namespace: "ns", Name: "db"}
	a := &waiting{key: types.NamespacedName{Namespace: "ns", Name: "a"}, uid: "uid-a", report: health.NotChecked([]apply.ObjectRef{web, db})}
	b := &waiting{key: types.NamespacedName{Namespace: "ns", Name: "b"}, uid: "uid-b", report: health.NotChecked([]apply.ObjectRef{web})}
	var reg waitRegistry
	g.Expect(reg.take("uid-a")).To(BeNil())
	g.Expect(reg.changed(web, nil)).To(BeEmpty())

	reg.put(a)
	reg.put(b)
	g.Expect(reg.len()).To(Equal(2))
	g.Expect(reg.changed(web, nil)).To(ConsistOf(a.key, b.key))
	// Another version of the same object is the same object.
	g.Expect(reg.changed(apply.ObjectRef{Group: "apps", Version: "v1beta1", Kind: "StatefulSet", Namespace: "ns", Name: "db"}, nil)).
		To(ConsistOf(a.key))

	// A wait taken by a reconcile is no longer parked, but a change of its objects still wakes it.
	g.Expect(reg.take("uid-a")).To(BeIdenticalTo(a))
	g.Expect(reg.take("uid-a")).To(BeNil())
	g.Expect(reg.len()).To(Equal(1))
	g.Expect(reg.changed(db, nil)).To(ConsistOf(a.key))
	reg.put(a) // parked again
	g.Expect(reg.changed(db, nil)).To(ConsistOf(a.key))

	reg.drop(a)
	g.Expect(reg.changed(db, nil)).To(BeEmpty())
	g.Expect(reg.changed(web, nil)).To(ConsistOf(b.key))
	g.Expect(reg.takeAll()).To(ConsistOf(b))
	g.Expect(reg.len()).To(BeZero())
	g.Expect(reg.changed(web, nil)).To(ConsistOf(b.key), "taken, not dropped")
	reg.drop(b)
	g.Expect(reg.changed(web, nil)).To(BeEmpty())
}

// TestWaitRegistry_seen keeps the latest object each watch event delivered for the next look of
// every wait that awaits it, until the look takes them; a deletion forgets it.
func TestWaitRegistry_seen(t *testing.T) {
	g := NewWithT(t)
	web := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "web"}
	other := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "other"}
	a := &waiting{key: types.NamespacedName{Namespace: "ns", Name: "a"}, uid: "uid-a", report: health.NotChecked([]apply.ObjectRef{web})}
	b := &waiting{key: types.NamespacedName{Namespace: "ns", Name: "b"}, uid: "uid-b", report: health.NotChecked([]apply.ObjectRef{web})}
	var reg waitRegistry
	reg.put(a)
	reg.put(b)
	version := func(rv string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetResourceVersion(rv)
		return u
	}
	g.Expect(reg.changed(web, version("1"))).To(ConsistOf(a.key, b.key))
	g.Expect(reg.changed(web, version("2"))).To(ConsistOf(a.key, b.key))
	g.Expect(reg.changed(other, version("9"))).To(BeEmpty(), "nobody awaits it: nothing is kept")
	seen := reg.takeSeen(a)
	g.Expect(seen).To(HaveLen(1))
	g.Expect(seen[web.ID()].GetResourceVersion()).To(Equal("2"), "the latest event wins")
	g.Expect(reg.takeSeen(a)).To(BeEmpty(), "a look takes them")
	g.Expect(reg.changed(web, nil)).To(ConsistOf(a.key, b.key))
	g.Expect(reg.takeSeen(b)).To(BeEmpty(), "a deletion forgets the object: the look reads it")
}

// TestWaitRegistry_admit holds Releases in line once the waits under way reach the limit, each
// once and oldest first, and gives each ended wait's place to the oldest one held.
func TestWaitRegistry_admit(t *testing.T) {
	g := NewWithT(t)
	web := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "web"}
	key := func(name string) types.NamespacedName { return types.NamespacedName{Namespace: "ns", Name: name} }
	wait := func(name string) *waiting {
		return &waiting{key: key(name), uid: types.UID("uid-" + name), report: health.NotChecked([]apply.ObjectRef{web})}
	}
	var reg waitRegistry
	ok, _ := reg.admit(key("a"), 2)
	g.Expect(ok).To(BeTrue())
	a, b := wait("a"), wait("b")
	reg.put(a)
	reg.put(b)
	ok, n := reg.admit(key("c"), 2)
	g.Expect(ok).To(BeFalse())
	g.Expect(n).To(Equal(2))
	ok, _ = reg.admit(key("d"), 2)
	g.Expect(ok).To(BeFalse())
	ok, _ = reg.admit(key("c"), 2) // asked again: still once in line, still first
	g.Expect(ok).To(BeFalse())
	ok, _ = reg.admit(key("e"), 0)
	g.Expect(ok).To(BeTrue(), "no limit")

	// A wait taken by a reconcile still counts until it ends.
	g.Expect(reg.take(a.uid)).To(BeIdenticalTo(a))
	ok, _ = reg.admit(key("f"), 2)
	g.Expect(ok).To(BeFalse())

	next, woken := reg.drop(a)
	g.Expect(woken).To(BeTrue())
	g.Expect(next).To(Equal(key("c")))
	ok, _ = reg.admit(key("c"), 2)
	g.Expect(ok).To(BeTrue(), "the woken Release takes the place")
	// Admitted, c holds a place before it parks: the workers admitting at once cannot overshoot.
	ok, _ = reg.admit(key("g"), 2)
	g.Expect(ok).To(BeFalse(), "b waits and c is admitted")
	next, woken = reg.unreserve(key("c"))
	g.Expect(woken).To(BeTrue(), "c ended without parking: its place goes on")
	g.Expect(next).To(Equal(key("d")))
	_, woken = reg.unreserve(key("c"))
	g.Expect(woken).To(BeFalse(), "once")
	ok, _ = reg.admit(key("d"), 2)
	g.Expect(ok).To(BeTrue())
	d := wait("d")
	reg.put(d) // the reservation becomes the wait
	_, woken = reg.unreserve(key("d"))
	g.Expect(woken).To(BeFalse(), "a parked Release's place is its wait's")
	next, woken = reg.drop(b)
	g.Expect(woken).To(BeTrue())
	g.Expect(next).To(Equal(key("f")))
	next, woken = reg.drop(d)
	g.Expect(woken).To(BeTrue())
	g.Expect(next).To(Equal(key("g")))

	next, woken = reg.drop(wait("never-parked"))
	g.Expect(woken).To(BeFalse(), "a wait that never counted frees no place")
	g.Expect(next).To(BeZero())
	g.Expect(reg.held).To(BeEmpty())
}

// TestWaitRegistry_holdIfFull puts a Release in line only while every place is taken, once, and
// the line wakes it like one admit refused.
func TestWaitRegistry_holdIfFull(t *testing.T) {
	g := NewWithT(t)
	key := func(name string) types.NamespacedName { return types.NamespacedName{Namespace: "ns", Name: name} }
	var reg waitRegistry
	held, n := reg.holdIfFull(key("b"), 1)
	g.Expect(held).To(BeFalse(), "a place is free")
	g.Expect(n).To(Equal(0))
	g.Expect(reg.held).To(BeEmpty())
	held, _ = reg.holdIfFull(key("b"), 0)
	g.Expect(held).To(BeFalse(), "no limit")

	ok, _ := reg.admit(key("a"), 1)
	g.Expect(ok).To(BeTrue())
	held, n = reg.holdIfFull(key("b"), 1)
	g.Expect(held).To(BeTrue(), "a's reservation takes the only place")
	g.Expect(n).To(Equal(1))
	held, _ = reg.holdIfFull(key("b"), 1)
	g.Expect(held).To(BeTrue())
	held, _ = reg.holdIfFull(key("c"), 1)
	g.Expect(held).To(BeTrue())
	g.Expect(reg.held).To(Equal([]types.NamespacedName{key("b"), key("c")}), "each once, in order")
	held, _ = reg.stillHeld(key("b"), 1)
	g.Expect(held).To(BeTrue(), "held as if admit had refused it")

	next, woken := reg.unreserve(key("a"))
	g.Expect(woken).To(BeTrue())
	g.Expect(next).To(Equal(key("b")), "the oldest held is woken")
	held, _ = reg.holdIfFull(key("b"), 1)
	g.Expect(held).To(BeFalse(), "woken with a place free, it goes through")
	ok, _ = reg.admit(key("b"), 1)
	g.Expect(ok).To(BeTrue())
}

// TestWaitRegistry_stillHeld lets a held Release's reconcile stop before any read while the
// places are all taken, and only then; unhold takes a Release out of the line.
func TestWaitRegistry_stillHeld(t *testing.T) {
	g := NewWithT(t)
	web := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "web"}
	key := func(name string) types.NamespacedName { return types.NamespacedName{Namespace: "ns", Name: name} }
	var reg waitRegistry
	held, _ := reg.stillHeld(key("b"), 1)
	g.Expect(held).To(BeFalse(), "not in line")
	ok, _ := reg.admit(key("a"), 1)
	g.Expect(ok).To(BeTrue())
	ok, _ = reg.admit(key("b"), 1)
	g.Expect(ok).To(BeFalse())
	held, n := reg.stillHeld(key("b"), 1)
	g.Expect(held).To(BeTrue(), "in line, and a's reservation takes the only place")
	g.Expect(n).To(Equal(1))
	held, _ = reg.stillHeld(key("c"), 1)
	g.Expect(held).To(BeFalse(), "never refused: it reads and decides, and admit answers")
	held, _ = reg.stillHeld(key("b"), 0)
	g.Expect(held).To(BeFalse(), "no limit")

	a := &waiting{key: key("a"), uid: "uid-a", report: health.NotChecked([]apply.ObjectRef{web})}
	reg.put(a)
	held, _ = reg.stillHeld(key("b"), 1)
	g.Expect(held).To(BeTrue(), "a's wait takes the place")
	next, woken := reg.drop(a)
	g.Expect(woken).To(BeTrue())
	g.Expect(next).To(Equal(key("b")), "the oldest held is woken")
	held, _ = reg.stillHeld(key("b"), 1)
	g.Expect(held).To(BeFalse(), "woken, it goes through")

	ok, _ = reg.admit(key("x"), 1)
	g.Expect(ok).To(BeTrue())
	ok, _ = reg.admit(key("y"), 1)
	g.Expect(ok).To(BeFalse())
	reg.unhold(key("y"))
	held, _ = reg.stillHeld(key("y"), 1)
	g.Expect(held).To(BeFalse())
	g.Expect(reg.held).To(BeEmpty())
}

// TestWaitRegistry_early hands a wait the events of its objects that came after their apply's
// own and before the wait was listed, which nothing else would wake it for. Events it cannot
// order after the apply (an older state still in flight when the apply answered) are not handed
// over, and nothing is kept for objects nobody expects.
func TestWaitRegistry_early(t *testing.T) {
	g := NewWithT(t)
	web := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "web"}
	db := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "StatefulSet", Namespace: "ns", Name: "db"}
	version := func(rv string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetResourceVersion(rv)
		return u
	}
	newWait := func(name string) *waiting {
		return &waiting{key: types.NamespacedName{Namespace: "ns", Name: name}, uid: types.UID("uid-" + name),
			report: health.NotChecked([]apply.ObjectRef{web, db}), appliedVersions: map[string]string{web.ID(): "5", db.ID(): "7"}}
	}
	var reg waitRegistry

	g.Expect(reg.changed(web, version("6"))).To(BeEmpty())
	done := reg.expect([]string{web.ID(), db.ID()})
	a := newWait("a")
	g.Expect(reg.put(a)).To(BeFalse(), "an event before the expectation is not kept")
	g.Expect(reg.takeSeen(a)).To(BeEmpty())
	reg.drop(a)

	g.Expect(reg.changed(web, version("4"))).To(BeEmpty(), "an older state, delivered after the apply began")
	g.Expect(reg.changed(web, version("5"))).To(BeEmpty(), "the apply's own")
	g.Expect(reg.changed(web, version("6"))).To(BeEmpty(), "a change after the apply, before the wait is listed")
	g.Expect(reg.changed(db, version("6"))).To(BeEmpty(), "an older state of db")
	g.Expect(reg.changed(db, version("7"))).To(BeEmpty(), "db's apply's own, and nothing after it")
	b := newWait("b")
	g.Expect(reg.put(b)).To(BeTrue(), "web changed after its apply")
	seen := reg.takeSeen(b)
	g.Expect(seen).To(HaveKey(web.ID()))
	g.Expect(seen[web.ID()].GetResourceVersion()).To(Equal("6"))
	g.Expect(seen).NotTo(HaveKey(db.ID()), "nothing came after db's apply")
	g.Expect(reg.put(b)).To(BeFalse(), "handed over once, when the wait is first listed")
	reg.drop(b)
	done()

	done = reg.expect([]string{web.ID(), db.ID()})
	g.Expect(reg.changed(web, version("9"))).To(BeEmpty())
	c := newWait("c")
	g.Expect(reg.put(c)).To(BeFalse(), "without the apply's own event, nothing orders web's 9 after it")
	reg.drop(c)
	g.Expect(reg.changed(db, version("7"))).To(BeEmpty())
	g.Expect(reg.changed(db, nil)).To(BeEmpty())
	d := newWait("d")
	g.Expect(reg.put(d)).To(BeTrue(), "a deletion after the apply wakes the wait, which reads the object")
	g.Expect(reg.takeSeen(d)).NotTo(HaveKey(db.ID()))
	reg.drop(d)

	done()
	done()
	g.Expect(reg.expecting).To(BeEmpty(), "once, whatever the calls")
	g.Expect(reg.early).To(BeEmpty())
	g.Expect(reg.changed(web, version("8"))).To(BeEmpty())
	g.Expect(reg.put(newWait("e"))).To(BeFalse(), "nothing is kept once nobody expects the objects")
}
