package reconcile

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestLogsClient_TailLogs(t *testing.T) {
	g := NewWithT(t)
	c := logsClient{WithWatch: clientfake.NewClientBuilder().Build(), pods: fake.NewClientset()}
	data, err := c.TailLogs(context.Background(), "ns", "pod", "c", 20, 4)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(Equal("fake"), "client-go's fake serves \"fake logs\"; the byte limit holds on our side too")
}

func TestWithPodLogs_keepsTheClientAndAddsLogs(t *testing.T) {
	g := NewWithT(t)
	inner := clientfake.NewClientBuilder().Build()
	c := withPodLogs(&rest.Config{Host: "https://127.0.0.1:1"}, inner)
	lc, ok := c.(logsClient)
	g.Expect(ok).To(BeTrue())
	g.Expect(lc.WithWatch).To(BeIdenticalTo(inner))
}
