package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/redact"
	"github.com/capstan-dev/capstan/internal/storage"
)

// clientWithLogs is a Release client that can read logs, as reconcile.ImpersonatingClients' are.
type clientWithLogs struct {
	client.WithWatch
}

func (clientWithLogs) TailLogs(context.Context, string, string, string, int64, int64) ([]byte, error) {
	return []byte("migrating\nERROR: relation \"users\" already exists\n"), nil
}

// failingPodClient is a fake API server on which every watched Pod fails at once.
func failingPodClient() client.WithWatch {
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("Pod"), meta.RESTScopeNamespace)
	return fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithRESTMapper(mapper).
		WithInterceptorFuncs(interceptor.Funcs{Watch: func(ctx context.Context, inner client.WithWatch, _ client.ObjectList, _ ...client.ListOption) (watch.Interface, error) {
			live := &unstructured.Unstructured{}
			live.SetAPIVersion("v1")
			live.SetKind("Pod")
			if err := inner.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "migrate"}, live); err != nil {
				return nil, err
			}
			_ = unstructured.SetNestedField(live.Object, "Failed", "status", "phase")
			w := watch.NewFakeWithChanSize(1, false)
			w.Modify(live)
			return w, nil
		}}).Build()
}

const loggedHook = `apiVersion: v1
kind: Pod
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-upgrade
spec:
  containers: [{name: main, image: x}]
`

// TestNewHookRunner_reportsHookLogsWhenTheClientReadsThem checks the wiring of a failed hook's
// log: a Release client that can read logs gives the failing hook's last lines (with no
// helm.sh/hook-output-log-policy) to the error the reconciler reports, redacted with the
// reconcile's Redactor; one that cannot gives none.
func TestNewHookRunner_reportsHookLogsWhenTheClientReadsThem(t *testing.T) {
	owner := apply.Owner{Name: "app", Namespace: "ns"}
	hook := func() []*storage.Hook {
		return []*storage.Hook{{Name: "migrate", Kind: "Pod", Path: "t/migrate.yaml", Manifest: loggedHook, Events: []string{"pre-upgrade"}}}
	}
	g := NewWithT(t)
	err := NewHookRunner(clientWithLogs{failingPodClient()}, owner).Run(context.Background(), "pre-upgrade", hook(), 10*time.Second)
	g.Expect(err).To(MatchError(ContainSubstring(
		`HookFailed: pod failed; last log lines of pod migrate container main: migrating | ERROR: relation "users" already exists`)))

	red := redact.New()
	red.Add(`relation "users"`)
	err = NewHookRunner(clientWithLogs{failingPodClient()}, owner).Run(redact.NewContext(context.Background(), red), "pre-upgrade", hook(), 10*time.Second)
	g.Expect(err).To(MatchError(ContainSubstring(`last log lines of pod migrate container main: migrating | ERROR: [redacted] already exists`)))

	err = NewHookRunner(failingPodClient(), owner).Run(context.Background(), "pre-upgrade", hook(), 10*time.Second)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).NotTo(ContainSubstring("last log lines"))
}
