package health_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/testenv"
)

// One local control plane with kwok nodes serves every integration test of the package, started on
// first use, so the pure tests (and their fuzz seeds) run without it.
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
func kube(t *testing.T) client.Client { return cluster.Client(t) }

// restConfig returns a copy of the cluster's admin config.
func restConfig(t *testing.T) *rest.Config { return cluster.Config(t) }

// namespace creates a namespace of the test's own.
func namespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("health-%d", nsSeq.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := kube(t).Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return name
}

// create creates the objects of YAML documents (formatted with args) and returns their references.
func create(t *testing.T, docs ...string) []apply.ObjectRef {
	t.Helper()
	refs := make([]apply.ObjectRef, 0, len(docs))
	for _, doc := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		if err := kube(t).Create(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, apply.RefOf(u))
	}
	return refs
}

func deployment(ns, name string, replicas int, nodeSelector string) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  replicas: %[3]d
  selector: {matchLabels: {app: %[2]s}}
  template:
    metadata: {labels: {app: %[2]s}}
    spec:
      nodeSelector: {%[4]s}
      containers: [{name: c, image: example.invalid/app}]
`, ns, name, replicas, nodeSelector)
}

func job(ns, name, extraSpec, nodeSelector string) string {
	return fmt.Sprintf(`
apiVersion: batch/v1
kind: Job
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  backoffLimit: 0
  %[3]s
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {%[4]s}
      containers: [{name: c, image: example.invalid/job}]
`, ns, name, extraSpec, nodeSelector)
}

// nowhere is a node selector that no kwok node matches.
const nowhere = "capstan.dev/nowhere: \"true\""

func getJob(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("batch/v1")
	u.SetKind("Job")
	if err := kube(t).Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatal(err)
	}
	return u
}
