package reconcile

import (
	"testing"

	. "github.com/onsi/gomega"
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
	g.Expect(reg.waitingFor(web)).To(BeEmpty())

	reg.put(a)
	reg.put(b)
	g.Expect(reg.len()).To(Equal(2))
	g.Expect(reg.waitingFor(web)).To(ConsistOf(a.key, b.key))
	// Another version of the same object is the same object.
	g.Expect(reg.waitingFor(apply.ObjectRef{Group: "apps", Version: "v1beta1", Kind: "StatefulSet", Namespace: "ns", Name: "db"})).
		To(ConsistOf(a.key))

	// A wait taken by a reconcile is no longer parked, but a change of its objects still wakes it.
	g.Expect(reg.take("uid-a")).To(BeIdenticalTo(a))
	g.Expect(reg.take("uid-a")).To(BeNil())
	g.Expect(reg.len()).To(Equal(1))
	g.Expect(reg.waitingFor(db)).To(ConsistOf(a.key))
	reg.put(a) // parked again
	g.Expect(reg.waitingFor(db)).To(ConsistOf(a.key))

	reg.drop(a)
	g.Expect(reg.waitingFor(db)).To(BeEmpty())
	g.Expect(reg.waitingFor(web)).To(ConsistOf(b.key))
	g.Expect(reg.takeAll()).To(ConsistOf(b))
	g.Expect(reg.len()).To(BeZero())
	g.Expect(reg.waitingFor(web)).To(ConsistOf(b.key), "taken, not dropped")
	reg.drop(b)
	g.Expect(reg.waitingFor(web)).To(BeEmpty())
}
