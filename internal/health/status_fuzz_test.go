package health_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-dev/capstan/internal/health"
)

// FuzzCompute feeds arbitrary objects of the kinds with special rules to Compute: it must never panic,
// always give a status, and keep its message on one line and bounded.
func FuzzCompute(f *testing.F) {
	seeds := []string{
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","generation":2},"status":{"observedGeneration":1}}`,
		`{"apiVersion":"batch/v1","kind":"Job","status":{"conditions":[{"type":"Failed","status":"True","reason":"R","message":"m"}]}}`,
		`{"apiVersion":"batch/v1","kind":"Job","status":{"conditions":[7,{"type":"Complete"}],"succeeded":"x"}}`,
		`{"apiVersion":"v1","kind":"Pod","status":{"phase":"Running","containerStatuses":[{"name":1,"state":{"waiting":"x"}}]}}`,
		`{"apiVersion":"v1","kind":"Pod","status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable"}]}}`,
		`{"apiVersion":"apps/v1","kind":"StatefulSet","spec":{"replicas":"two"},"status":{}}`,
		`{"apiVersion":"x/v1","kind":"Widget","status":{"conditions":[{"type":"Stalled","status":"True","message":"a\nb"}]}}`,
		`{"apiVersion":"v1","kind":"Service","spec":{"type":"LoadBalancer"}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u := &unstructured.Unstructured{}
		if json.Unmarshal(data, &u.Object) != nil || u.Object == nil {
			return
		}
		got := health.Compute(u)
		if got.Status == "" {
			t.Fatalf("no status for %s", data)
		}
		if len(got.Message) > 160 {
			t.Fatalf("message of %d bytes", len(got.Message))
		}
		for _, r := range got.Message {
			if r == '\n' || r == '\r' {
				t.Fatalf("message %q spans lines", got.Message)
			}
		}
		if utf8.ValidString(string(data)) && !utf8.ValidString(got.Message) {
			t.Fatalf("message %q is not valid UTF-8", got.Message)
		}
	})
}
