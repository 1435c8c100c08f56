package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestLRU_add(t *testing.T) {
	g := NewWithT(t)
	c := newLRU[string](10)
	g.Expect(c.add("a", "A", 4)).To(BeTrue())
	g.Expect(c.add("b", "B", 4)).To(BeTrue())
	_, ok := c.get("a") // a becomes the most recently used.
	g.Expect(ok).To(BeTrue())
	g.Expect(c.add("c", "C", 4)).To(BeTrue())
	_, ok = c.get("b")
	g.Expect(ok).To(BeFalse(), "the least recently used item went first")
	g.Expect(c.len()).To(Equal(2))
	g.Expect(c.size).To(BeEquivalentTo(8))
	g.Expect(c.evictions).To(BeEquivalentTo(1))
	g.Expect(c.add("huge", "H", 11)).To(BeFalse(), "an item over the whole budget is not stored")
	g.Expect(c.add("a", "A2", 2)).To(BeTrue())
	v, _ := c.get("a")
	g.Expect(v).To(Equal("A2"))
	g.Expect(c.size).To(BeEquivalentTo(6), "replacing an item replaces its size")
}

func testIndex(digest string, versions int) *Index {
	vs := make([]string, versions)
	for i := range vs {
		vs[i] = fmt.Sprintf("1.0.%d", i)
	}
	return &Index{Digest: digest, entries: map[string][]*ChartVersion{"app": versionsFor(vs...)}, versions: versions}
}

func TestIndexCache_boundedByBytes(t *testing.T) {
	g := NewWithT(t)
	one := testIndex("sha256:1", 10)
	cache := NewIndexCache(one.memSize()*2 + 1)
	cache.Add(one)
	cache.Add(testIndex("sha256:2", 10))
	cache.remember("repo", validator{etag: `"x"`, digest: "sha256:1"})
	v, idx := cache.conditional("repo")
	g.Expect(idx).To(BeIdenticalTo(one))
	g.Expect(v.etag).To(Equal(`"x"`))

	cache.Add(testIndex("sha256:3", 10))
	_, ok := cache.Get("sha256:2")
	g.Expect(ok).To(BeFalse(), "sha256:1 was used more recently through conditional")
	_, ok = cache.Get("sha256:1")
	g.Expect(ok).To(BeTrue())
	cache.Add(testIndex("sha256:4", 10))
	cache.Add(testIndex("sha256:5", 10))
	_, idx = cache.conditional("repo")
	g.Expect(idx).To(BeNil(), "validators are useless once their index is gone, so none are offered")
	s := cache.Stats()
	g.Expect(s.Entries).To(Equal(2))
	g.Expect(s.Bytes).To(BeNumerically("<=", one.memSize()*2+1))
	g.Expect(s.Evictions).To(BeEquivalentTo(3))
	g.Expect(s.Hits).To(BeEquivalentTo(1))
	g.Expect(s.Misses).To(BeEquivalentTo(1))
}

func TestIndexCache_dropsSupersededIndexes(t *testing.T) {
	g := NewWithT(t)
	cache := NewIndexCache(0)
	for _, d := range []string{"sha256:1", "sha256:2", "sha256:3"} {
		cache.Add(testIndex(d, 3))
	}
	cache.remember("a", validator{digest: "sha256:1"})
	cache.remember("b", validator{digest: "sha256:1"})
	cache.remember("a", validator{digest: "sha256:2"})
	_, ok := cache.Get("sha256:1")
	g.Expect(ok).To(BeTrue(), "b still points at sha256:1")
	cache.remember("b", validator{digest: "sha256:3"})
	_, ok = cache.Get("sha256:1")
	g.Expect(ok).To(BeFalse(), "nobody points at sha256:1 any more")
	g.Expect(cache.Stats().Entries).To(Equal(2))
}

func TestArchiveCache_Get(t *testing.T) {
	g := NewWithT(t)
	cache := NewArchiveCache(100)
	_, err := cache.Get(context.Background(), "k", func(context.Context) ([]byte, error) { return nil, errors.New("boom") })
	g.Expect(err).To(MatchError("boom"))
	g.Expect(cache.Stats().Entries).To(BeZero())
	var calls atomic.Int32
	fetch := func(context.Context) ([]byte, error) {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond)
		return []byte("data"), nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			data, err := cache.Get(context.Background(), "k", fetch)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(data)).To(Equal("data"))
		})
	}
	wg.Wait()
	g.Expect(calls.Load()).To(BeEquivalentTo(1))
	_, err = cache.Get(context.Background(), "k", fetch)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(calls.Load()).To(BeEquivalentTo(1))
	g.Expect(cache.Stats().Hits).To(BeNumerically(">=", 1))
}

// TestFlightGroup_contexts checks the two context rules: a waiter leaves when its own context
// ends, and a waiter takes over when the leader's context ends first.
func TestFlightGroup_contexts(t *testing.T) {
	g := NewWithT(t)
	var fg flightGroup[string]
	started := make(chan struct{})
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	var leaderErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, leaderErr = fg.do(leaderCtx, "k", func(ctx context.Context) (string, error) {
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		})
	}()
	<-started

	impatient, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := fg.do(impatient, "k", func(context.Context) (string, error) { return "never", nil })
	g.Expect(err).To(MatchError(context.DeadlineExceeded), "a waiter gives up on its own deadline")

	result := make(chan string, 1)
	go func() {
		v, err := fg.do(context.Background(), "k", func(context.Context) (string, error) { return "taken over", nil })
		g.Expect(err).NotTo(HaveOccurred())
		result <- v
	}()
	time.Sleep(20 * time.Millisecond)
	cancelLeader()
	<-done
	g.Expect(leaderErr).To(MatchError(context.Canceled))
	g.Eventually(result).Should(Receive(Equal("taken over")))
}
