package security

import (
	"context"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/storage"
)

// installHelmRelease writes, as the cluster admin, what `helm install name probe -n ns` leaves:
// helm's revision record in ns and the probe's ConfigMap with helm's ownership metadata.
func installHelmRelease(ctx context.Context, ns, name string) {
	manifest := "---\n# Source: probe/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " +
		name + "-probe\ndata:\n  note: from-helm\n"
	now := time.Now().UTC().Truncate(time.Second)
	rec := &storage.Release{Name: name, Namespace: ns, Version: 1, Manifest: manifest,
		Info:  storage.Info{FirstDeployed: now, LastDeployed: now, Status: storage.StatusDeployed, Description: "Install complete"},
		Chart: storage.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "probe", Version: "1.0.0", AppVersion: "1.0.0"}}}
	Expect(storage.NewStore(admin).Create(ctx, rec)).To(Succeed())
	Expect(admin.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-probe",
			Labels:      map[string]string{apply.ManagedByLabel: apply.ManagedByHelm},
			Annotations: map[string]string{apply.ReleaseNameAnnotation: name, apply.ReleaseNamespaceAnnotation: ns}},
		Data: map[string]string{"note": "from-helm"},
	}, client.FieldOwner("helm"))).To(Succeed())
}

// helmNote returns the note of the helm release's ConfigMap.
func helmNote(g Gomega, ctx context.Context, ns, name string) string {
	cm := &corev1.ConfigMap{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-probe"}, cm)).To(Succeed())
	return cm.Data["note"]
}
