package hooks_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/hooks"
	"github.com/capstan-dev/capstan/internal/testenv"
)

// One local control plane with kwok nodes serves every integration test of the package, started on
// first use.
var (
	cluster testenv.Shared
	nsSeq   atomic.Int32
)

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.Stop()
	os.Exit(code)
}

// kube returns a client of the shared cluster, starting it the first time.
func kube(t *testing.T) client.WithWatch { return cluster.Client(t) }

// release creates a namespace of the test's own and returns the release that lives in it.
func release(t *testing.T) apply.Owner {
	t.Helper()
	name := fmt.Sprintf("hooks-%d", nsSeq.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := kube(t).Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return apply.Owner{Name: "app", Namespace: name}
}

func runner(t *testing.T, owner apply.Owner) *hooks.Runner {
	return hooks.NewRunner(kube(t), owner, hooks.Options{Interval: 100 * time.Millisecond})
}

// hookOf parses a hook from a YAML document, as the reconciler does from a rendered template.
func hookOf(t *testing.T, doc string) hooks.Hook {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	h, isHook, err := hooks.FromObject("chart/templates/"+u.GetName()+".yaml", u)
	if err != nil || !isHook {
		t.Fatalf("not a hook (%v): %s", err, doc)
	}
	return h
}

// jobHook is a hook Job; spec is added to the Job's spec and nodeSelector to its pod's.
func jobHook(t *testing.T, name, annotations, spec, nodeSelector string) hooks.Hook {
	return hookOf(t, fmt.Sprintf(`
apiVersion: batch/v1
kind: Job
metadata:
  name: %s
  annotations: {%s}
spec:
  backoffLimit: 0
  %s
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {%s}
      containers: [{name: c, image: example.invalid/hook}]
`, name, annotations, spec, nodeSelector))
}

func configMapHook(t *testing.T, name, annotations string) hooks.Hook {
	return hookOf(t, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  annotations: {%s}
data: {k: v}
`, name, annotations))
}

// nowhere is a node selector that no kwok node matches.
const nowhere = "capstan.dev/nowhere: \"true\""

// live reads an object of a hook's kind; found is false when it does not exist.
func live(t *testing.T, owner apply.Owner, h hooks.Hook) (obj *unstructured.Unstructured, found bool) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(h.Object.GroupVersionKind())
	err := kube(t).Get(context.Background(), client.ObjectKey{Namespace: owner.Namespace, Name: h.Name}, u)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return u, true
}

// releaseConfig is a release's one regular object at some version.
func releaseConfig(owner apply.Owner, version string) []*unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings"},
		"data":     map[string]any{"version": version},
	}}
	return []*unstructured.Unstructured{u}
}

func liveConfig(t *testing.T, owner apply.Owner) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	if err := kube(t).Get(context.Background(), client.ObjectKey{Namespace: owner.Namespace, Name: "settings"}, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// finishPod plays the kubelet for a Pod that kwok would keep running: once the Pod runs on a node, it
// moves it to phase Succeeded.
func finishPod(ctx context.Context, c client.Client, ns, name string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for ctx.Err() == nil {
		pod := &corev1.Pod{}
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pod)
		if err == nil && pod.Status.Phase == corev1.PodRunning {
			pod.Status.Phase = corev1.PodSucceeded
			for i := range pod.Status.ContainerStatuses {
				pod.Status.ContainerStatuses[i].State = corev1.ContainerState{
					Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"},
				}
				pod.Status.ContainerStatuses[i].Ready = false
			}
			if err = c.Status().Update(ctx, pod); err == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ctx.Err()
}
