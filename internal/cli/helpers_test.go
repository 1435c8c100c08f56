package cli

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// t0 is the time of revision 1 in the fixtures; revision n is n-1 hours later.
var t0 = time.Date(2024, 3, 5, 8, 8, 9, 0, time.UTC)

// rec returns a readable record of release web, revision n, of chart demo 1.0.0.
func rec(n int, status storage.Status, description string) *storage.Release {
	return &storage.Release{
		Name: "web", Namespace: "team", Version: n,
		Info: storage.Info{FirstDeployed: t0, LastDeployed: t0.Add(time.Duration(n-1) * time.Hour),
			Status: status, Description: description},
		Chart: storage.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "demo", Version: "1.0.0", AppVersion: "2.1"}},
	}
}

// corrupt returns a placeholder for revision n whose record cannot be decoded, as
// storage.Store.List returns it.
func corrupt(n int) *storage.Release {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: storage.SecretName("web", n), Namespace: "team",
			Labels: map[string]string{"owner": "helm", "name": "web", "version": "1", "status": "deployed"}},
		Type: storage.SecretType, Data: map[string][]byte{storage.DataKey: []byte("not a record")},
	}
	r, _ := storage.FromSecret(s, storage.DefaultMaxDecodedSize)
	return r
}

// records returns the records of the given statuses, revision 1 first.
func records(statuses ...storage.Status) []*storage.Release {
	out := make([]*storage.Release, 0, len(statuses))
	for i, s := range statuses {
		out = append(out, rec(i+1, s, "revision"))
	}
	return out
}

// release returns a Release web in namespace team at generation 3.
func release() *capstanv1.Release {
	r := testsupport.MakeRelease("web", "team").Chart("repo", "demo", "1.x").Obj()
	r.Generation = 3
	return r
}

// cond returns a condition observed at generation 3.
func cond(typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: 3,
		LastTransitionTime: metav1.NewTime(t0)}
}
