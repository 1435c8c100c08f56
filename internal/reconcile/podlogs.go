package reconcile

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// logsClient is a Release's client that can also read the end of a container's log (the pods/log
// subresource, which the controller-runtime client cannot read) as the same identity. The hook
// runner uses it for helm.sh/hook-output-log-policy.
type logsClient struct {
	client.WithWatch
	pods kubernetes.Interface
}

// withPodLogs adds log reading through cfg to c; c is returned unchanged when no clientset can be
// built from cfg.
func withPodLogs(cfg *rest.Config, c client.WithWatch) client.WithWatch {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return c
	}
	return logsClient{WithWatch: c, pods: cs}
}

// TailLogs returns at most limitBytes of the last lines of a container's log.
func (c logsClient) TailLogs(ctx context.Context, namespace, pod, container string, lines, limitBytes int64) ([]byte, error) {
	req := c.pods.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: container, TailLines: &lines, LimitBytes: &limitBytes,
	})
	rc, err := req.Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the log of pod %s/%s container %s: %w", namespace, pod, container, err)
	}
	defer func() { _ = rc.Close() }()
	return io.ReadAll(io.LimitReader(rc, limitBytes))
}
