package health_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/health"
)

// managedDeployment is a Deployment carrying Helm's managed-by label, as every object Capstan
// applies does.
func managedDeployment(ns, name string) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: %[2]s, namespace: %[1]s, labels: {app.kubernetes.io/managed-by: Helm}}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[2]s}}
  template:
    metadata: {labels: {app: %[2]s}}
    spec:
      containers: [{name: c, image: example.invalid/app}]
`, ns, name)
}

func withWatch(t *testing.T, cfg *rest.Config) client.WithWatch {
	t.Helper()
	c, err := client.NewWithWatch(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// event is one notification of Watches.
type event struct {
	ref apply.ObjectRef
	obj *unstructured.Unstructured
}

// events collects the notifications of Watches.
type events struct {
	ch chan event
	// available is set once an event carried the Deployment with an available replica.
	available bool
}

// count counts the notifications by name, and notes whether one carried an available replica.
func (e *events) count(names map[string]int) {
	for {
		select {
		case ev := <-e.ch:
			names[ev.ref.Name]++
			if ev.obj != nil {
				n, _, _ := unstructured.NestedInt64(ev.obj.Object, "status", "availableReplicas")
				e.available = e.available || n > 0
			}
		default:
			return
		}
	}
}

func TestWatches_notifyChangesOfManagedObjects(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	ev := &events{ch: make(chan event, 1000)}
	w := health.NewWatches(func(r apply.ObjectRef, obj *unstructured.Unstructured) { ev.ch <- event{r, obj} }, 300*time.Millisecond)
	defer w.Stop()
	c := withWatch(t, restConfig(t))

	refs := create(t, managedDeployment(ns, "web"), deployment(ns, "plain", 1, ""))
	release, watched := w.Watch(c, "admin", refs[:1])
	g.Expect(watched).To(BeTrue())
	seen := map[string]int{}
	// The watch announces the Deployment as it is, then each change kwok and the controllers make
	// while it becomes available.
	g.Eventually(func() int { ev.count(seen); return seen["web"] }).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 2))
	// The events carry the whole object, status included, so a wake-up can judge it unread.
	g.Eventually(func() bool { ev.count(seen); return ev.available }).WithTimeout(30 * time.Second).Should(BeTrue())
	g.Expect(seen).NotTo(HaveKey("plain"), "objects without Helm's managed-by label are not watched")
	g.Expect(w.Opened()).To(BeEquivalentTo(1))

	// A second wait on the same kind and namespace shares the watch.
	release2, watched := w.Watch(c, "admin", refs[:1])
	g.Expect(watched).To(BeTrue())
	g.Expect(w.Opened()).To(BeEquivalentTo(1))
	release()
	release2()
	release2() // giving back twice changes nothing
	time.Sleep(time.Second)
	// The linger is over: the watch was closed, and a new wait opens a new one.
	release3, _ := w.Watch(c, "admin", refs[:1])
	defer release3()
	g.Eventually(w.Opened).WithTimeout(10 * time.Second).Should(BeEquivalentTo(2))
}

func TestWatches_kindsReadyOnceTheyExistNeedNoWatch(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	w := health.NewWatches(func(apply.ObjectRef, *unstructured.Unstructured) {}, time.Second)
	defer w.Stop()
	release, watched := w.Watch(withWatch(t, restConfig(t)), "admin",
		[]apply.ObjectRef{{Version: "v1", Kind: "ConfigMap", Namespace: "x", Name: "y"}})
	defer release()
	g.Expect(watched).To(BeTrue())
	g.Consistently(w.Opened).WithTimeout(time.Second).Should(BeZero())
}

func TestWatches_anIdentityThatMayNotWatchPolls(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	cfg := restConfig(t)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":nobody"}
	w := health.NewWatches(func(apply.ObjectRef, *unstructured.Unstructured) {}, time.Second)
	defer w.Stop()
	refs := []apply.ObjectRef{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web"}}
	c := withWatch(t, cfg)
	release, _ := w.Watch(c, "nobody", refs)
	defer release()
	// The first wait cannot know yet; once the watch was refused, later waits are told to poll.
	g.Eventually(func() bool {
		r, watched := w.Watch(c, "nobody", refs)
		r()
		return watched
	}).WithTimeout(10 * time.Second).Should(BeFalse())
	g.Expect(w.Opened()).To(BeZero())
}

func TestWatches_stopped(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	w := health.NewWatches(func(apply.ObjectRef, *unstructured.Unstructured) {}, time.Second)
	w.Stop()
	release, watched := w.Watch(withWatch(t, restConfig(t)), "admin",
		[]apply.ObjectRef{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "x", Name: "y"}})
	defer release()
	g.Expect(watched).To(BeFalse())
}
