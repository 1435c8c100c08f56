package controllers

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// oneRelease is a reader that holds one Release and counts its reads.
type oneRelease struct {
	client.Reader
	rel   capstanv1.Release
	reads int
}

func (o *oneRelease) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	o.reads++
	o.rel.DeepCopyInto(obj.(*capstanv1.Release))
	return nil
}

func releaseAt(rv string, failures int64) capstanv1.Release {
	return capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team", ResourceVersion: rv},
		Status: capstanv1.ReleaseStatus{UpgradeFailures: failures}}
}

func TestReleaseReconciler_read(t *testing.T) {
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "team", Name: "web"}}
	cases := map[string]struct {
		lastWritten     string // "" for never written
		cacheShowed     string // a version the cache delivered since the write, if any
		wantFailures    int64
		wantServerReads int
	}{
		"a cache that showed the manager's last write, and holds a later version, is trusted": {
			lastWritten: "5", cacheShowed: "5", wantFailures: 0, wantServerReads: 0,
		},
		"a cache that showed another version only is read past": {
			lastWritten: "9", cacheShowed: "8", wantFailures: 1, wantServerReads: 1,
		},
		"a Release this manager never wrote is read from the cache": {
			lastWritten: "", wantFailures: 0, wantServerReads: 0,
		},
		"a cache that shows the manager's last write is trusted": {
			lastWritten: "7", wantFailures: 0, wantServerReads: 0,
		},
		"a cache behind the manager's last write is read past, so a failure counter is not forgotten": {
			lastWritten: "9", wantFailures: 1, wantServerReads: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			cache := &oneRelease{rel: releaseAt("7", 0)}
			server := &oneRelease{rel: releaseAt("9", 1)}
			r := &ReleaseReconciler{Client: fakeClientReading(cache), Reader: server}
			if tc.lastWritten != "" {
				r.awaitShown(req.NamespacedName, tc.lastWritten)
			}
			if tc.cacheShowed != "" {
				shown := releaseAt(tc.cacheShowed, 0)
				g.Expect(r.caughtUp(&shown)).To(BeTrue(), "every event goes on to the other predicates")
			}
			rel, pastCache, err := r.read(context.Background(), req)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(rel.Status.UpgradeFailures).To(Equal(tc.wantFailures))
			g.Expect(server.reads).To(Equal(tc.wantServerReads))
			g.Expect(pastCache).To(Equal(tc.wantServerReads > 0))
		})
	}
}

// fakeClientReading is a client whose reads are r's; nothing else of it is used by read.
func fakeClientReading(r client.Reader) client.Client {
	return readerClient{reader: r}
}

type readerClient struct {
	client.Client
	reader client.Reader
}

func (c readerClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.reader.Get(ctx, key, obj, opts...)
}

// The cache's event of a write may come before the write's answer is noted: the wait ends
// either way.
func TestReleaseReconciler_awaitShown_afterTheEvent(t *testing.T) {
	g := NewWithT(t)
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "team", Name: "web"}}
	cache := &oneRelease{rel: releaseAt("7", 0)}
	server := &oneRelease{rel: releaseAt("7", 0)}
	r := &ReleaseReconciler{Client: fakeClientReading(cache), Reader: server}
	shown := releaseAt("5", 0)
	r.caughtUp(&shown)
	r.awaitShown(req.NamespacedName, "5")
	_, pastCache, err := r.read(context.Background(), req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pastCache).To(BeFalse(), "the cache showed version 5 before it was noted, and holds a later one")
	g.Expect(server.reads).To(BeZero())

	r.awaitShown(req.NamespacedName, "9")
	_, pastCache, err = r.read(context.Background(), req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pastCache).To(BeTrue(), "version 9 is not shown yet")
}
