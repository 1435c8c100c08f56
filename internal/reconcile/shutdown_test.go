package reconcile

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestGraceful(t *testing.T) {
	g := NewWithT(t)
	parent, stop := context.WithCancel(context.Background())
	ctx, cancel := Graceful(parent, 200*time.Millisecond)
	defer cancel()
	g.Expect(ShuttingDown(ctx)).To(BeFalse())

	stop()
	g.Eventually(func() bool { return ShuttingDown(ctx) }).Should(BeTrue(), "the reconcile learns of the shutdown at once")
	g.Expect(ctx.Err()).NotTo(HaveOccurred(), "the current step may still finish")
	g.Eventually(ctx.Done()).WithTimeout(2*time.Second).Should(BeClosed(), "the grace ends")

	fresh, done := Fresh(ctx)
	defer done()
	g.Expect(fresh.Err()).NotTo(HaveOccurred(), "the outcome is recorded with a fresh context")
	deadline, ok := fresh.Deadline()
	g.Expect(ok).To(BeTrue())
	g.Expect(time.Until(deadline)).To(BeNumerically("<=", recordTimeout))
}

func TestGraceful_endsWithTheReconcile(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := Graceful(context.Background(), time.Hour)
	cancel()
	g.Expect(ctx.Err()).To(HaveOccurred())
	g.Expect(ShuttingDown(context.Background())).To(BeFalse())
}

func TestShutdownGrace(t *testing.T) {
	g := NewWithT(t)
	g.Expect(ShutdownGrace(30 * time.Second)).To(Equal(20 * time.Second))
	g.Expect(ShutdownGrace(time.Second)).To(Equal(time.Second))
}
