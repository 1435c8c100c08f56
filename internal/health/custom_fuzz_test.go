package health_test

import (
	"encoding/json"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/health"
)

// FuzzChecks_Compute feeds arbitrary objects of the library's kinds to the sample's health
// checks: evaluation must never panic, always give one of its statuses, and keep its message on
// one bounded line.
func FuzzChecks_Compute(f *testing.F) {
	data, err := os.ReadFile(librarySample)
	if err != nil {
		f.Fatal(err)
	}
	var rel capstanv1.Release
	if err := yaml.Unmarshal(data, &rel); err != nil {
		f.Fatal(err)
	}
	checks, err := health.Compile(rel.Spec.HealthChecks, 0)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"metadata":{"generation":2},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":2}]}}`,
		`{"status":{"conditions":"not a list"}}`,
		`{"status":{"conditions":[{"type":"Issuing"},7,null]}}`,
		`{"status":{"phase":3,"abort":"yes"}}`,
		`{"metadata":{"generation":"x"},"status":{"observedGeneration":1}}`,
		`{"status":null,"spec":[1]}`,
	} {
		for _, kind := range []uint8{0, 1, 2} {
			f.Add([]byte(s), kind)
		}
	}
	kinds := [][2]string{{"cert-manager.io/v1", "Certificate"}, {"argoproj.io/v1alpha1", "Rollout"},
		{"database.example.org/v1alpha1", "PostgreSQLInstance"}}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		u := &unstructured.Unstructured{}
		if json.Unmarshal(data, &u.Object) != nil || u.Object == nil {
			return
		}
		k := kinds[int(kind)%len(kinds)]
		u.Object["apiVersion"], u.Object["kind"] = k[0], k[1]
		if _, ok := u.Object["metadata"].(map[string]any); !ok {
			u.Object["metadata"] = map[string]any{"name": "x"}
		}
		got, applies := checks.Compute(u)
		if !applies {
			if u.GetDeletionTimestamp() == nil {
				t.Fatalf("no check applied to %s", k[1])
			}
			return
		}
		switch got.Status {
		case health.Current, health.InProgress, health.Failed:
		default:
			t.Fatalf("status %q", got.Status)
		}
		if len(got.Message) > 160 {
			t.Fatalf("message of %d bytes", len(got.Message))
		}
		for _, r := range got.Message {
			if r == '\n' || r == '\r' {
				t.Fatalf("message %q spans lines", got.Message)
			}
		}
	})
}
