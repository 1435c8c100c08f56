package health_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/health"
)

func object(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	// The unstructured decoder keeps integers as int64, as objects read from the API server have them.
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCompute(t *testing.T) {
	cases := map[string]struct {
		doc     string
		status  string
		message string
	}{
		"a Deployment whose pods are not ready is in progress with kstatus's reason": {
			doc: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, generation: 1}
spec: {replicas: 2}
status: {observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 0, availableReplicas: 0}`,
			status: "InProgress", message: "Available: 0/2",
		},
		"a Deployment whose controller has not seen the new generation is in progress": {
			doc: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, generation: 3}
spec: {replicas: 1}
status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}`,
			status: "InProgress", message: "Deployment generation is 3, but latest observed generation is 2",
		},
		"an available Deployment is current": {
			doc: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, generation: 1}
spec: {replicas: 1}
status:
  observedGeneration: 1
  replicas: 1
  updatedReplicas: 1
  readyReplicas: 1
  availableReplicas: 1
  conditions:
  - {type: Available, status: "True"}
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}`,
			status: "Current", message: "Deployment is available. Replicas: 1",
		},
		"a Deployment past its progress deadline has failed": {
			doc: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, generation: 1}
spec: {replicas: 1}
status:
  observedGeneration: 1
  conditions:
  - {type: Progressing, status: "False", reason: ProgressDeadlineExceeded}`,
			status: "Failed", message: "Progress deadline exceeded",
		},
		"a running Job is in progress, though kstatus alone calls it current": {
			doc: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: ns}
status: {startTime: "2026-01-01T00:00:00Z", active: 1}`,
			status: "InProgress", message: "job in progress: 0 succeeded, 1 active, 0 failed",
		},
		"a Job that has not started is in progress": {
			doc: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: ns}`,
			status: "InProgress", message: "Job not started",
		},
		"a complete Job is current": {
			doc: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: ns}
status:
  startTime: "2026-01-01T00:00:00Z"
  succeeded: 1
  conditions: [{type: Complete, status: "True"}]`,
			status: "Current", message: "Job Completed. succeeded: 1/1",
		},
		"a failed Job names its failure condition": {
			doc: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: ns}
status:
  startTime: "2026-01-01T00:00:00Z"
  failed: 1
  conditions:
  - {type: Failed, status: "True", reason: DeadlineExceeded, message: Job was active longer than specified deadline}`,
			status: "Failed", message: "Job failed: DeadlineExceeded: Job was active longer than specified deadline",
		},
		"a Pod that failed has failed, though kstatus alone calls it current": {
			doc: `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
status: {phase: Failed, reason: Evicted, message: "The node was low on resource: memory."}`,
			status: "Failed", message: "Pod failed: Evicted: The node was low on resource: memory.",
		},
		"a Pod that succeeded is current": {
			doc: `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
status: {phase: Succeeded}`,
			status: "Current", message: "Pod has completed successfully",
		},
		"an established CRD is current": {
			doc: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
status:
  conditions: [{type: NamesAccepted, status: "True"}, {type: Established, status: "True"}]`,
			status: "Current", message: "CRD is established",
		},
		"a custom resource that is not Ready is in progress with its own message": {
			doc: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: ns}
status:
  conditions: [{type: Ready, status: "False", reason: Waiting, message: "waiting for\n  the database"}]`,
			status: "InProgress", message: "waiting for the database",
		},
		"an object being deleted is terminating": {
			doc: `
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns, deletionTimestamp: "2026-01-01T00:00:00Z"}`,
			status: "Terminating", message: "Resource scheduled for deletion",
		},
		"a malformed container status is unknown instead of a panic": {
			doc: `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
status: {phase: Running, containerStatuses: ["not a map"]}`,
			status: "Unknown", message: "status cannot be read: malformed status",
		},
		"a status of the wrong shape is unknown": {
			doc: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: ns}
status: {conditions: "ready"}`,
			status: "Unknown",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got := health.Compute(object(t, tc.doc))
			g.Expect(string(got.Status)).To(Equal(tc.status))
			if tc.message != "" {
				g.Expect(got.Message).To(Equal(tc.message))
			}
			g.Expect(got.Message).NotTo(ContainSubstring("\n"))
		})
	}
}

func TestCompute_boundsLongMessages(t *testing.T) {
	g := NewWithT(t)
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'x'
	}
	u := object(t, `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: ns}`)
	_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{
		"type": "Ready", "status": "False", "reason": "R", "message": "é" + string(long),
	}}, "status", "conditions")
	got := health.Compute(u)
	g.Expect(len(got.Message)).To(BeNumerically("<=", 160))
	g.Expect(got.Message).To(HaveSuffix("…"))
	g.Expect(got.Message).To(HavePrefix("é"))
}
