package apply_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/capstan-dev/capstan/internal/apply"
)

func TestOwnershipOf(t *testing.T) {
	// The release "web" stores its records in team-a and installs into apps.
	web := apply.Owner{Name: "web", Namespace: "apps", StorageNamespace: "team-a"}
	helm := func(name, ns string) map[string]string {
		return map[string]string{apply.ReleaseNameAnnotation: name, apply.ReleaseNamespaceAnnotation: ns}
	}
	withID := func(ann map[string]string, id string) map[string]string {
		ann[apply.ReleaseAnnotation] = id
		return ann
	}
	cases := map[string]struct {
		owner       apply.Owner
		annotations map[string]string
		// managers are the field managers of the live object.
		managers []string
		want     apply.Ownership
		// ours and oursListed are Ours(false) and Ours(true).
		ours, oursListed bool
		problem          string
	}{
		"an object without any release metadata is nobody's": {
			owner: web, want: apply.Ownership{Holder: apply.HeldByNobody},
			problem: "exists and is not managed by any release",
		},
		"an object Capstan wrote for this release is ours": {
			owner: web, annotations: withID(helm("web", "team-a"), "team-a/web"),
			want: apply.Ownership{Holder: apply.HeldByThisRelease}, ours: true, oursListed: true,
		},
		"the same release name stored in another namespace is another release, whatever helm's annotations say": {
			owner: web, annotations: withID(helm("web", "team-a"), "team-b/web"),
			want:    apply.Ownership{Holder: apply.HeldByAnotherRelease, Release: "team-b/web"},
			problem: "owned by release team-b/web",
		},
		"Capstan's identity wins over helm annotations someone copied": {
			owner: web, annotations: withID(helm("other", "elsewhere"), "team-a/web"),
			want: apply.Ownership{Holder: apply.HeldByThisRelease}, ours: true, oursListed: true,
		},
		"a helm release of the same identity is this release (the take-over path)": {
			owner: web, annotations: helm("web", "team-a"),
			want: apply.Ownership{Holder: apply.HeldByThisRelease, Helm: true}, ours: true, oursListed: true,
		},
		"a helm release of another name is another release": {
			owner: web, annotations: helm("db", "team-a"),
			want:    apply.Ownership{Holder: apply.HeldByAnotherRelease, Release: "team-a/db", Helm: true},
			problem: "owned by helm release team-a/db",
		},
		"a helm release of the same name stored in the target namespace is another release": {
			owner: web, annotations: helm("web", "apps"), managers: []string{"helm"},
			want:    apply.Ownership{Holder: apply.HeldByAnotherRelease, Release: "apps/web", Helm: true},
			problem: "owned by helm release apps/web",
		},
		"what an earlier Capstan wrote naming the target namespace is ours only if our records list it": {
			owner: web, annotations: helm("web", "apps"), managers: []string{"helm", apply.FieldManager},
			want:       apply.Ownership{Holder: apply.HeldByAnotherRelease, Release: "apps/web", Helm: true, Legacy: true},
			oursListed: true, problem: "owned by helm release apps/web",
		},
		"when storage and target namespace are one, helm's annotations are the whole identity": {
			owner: apply.Owner{Name: "web", Namespace: "apps"}, annotations: helm("web", "apps"),
			want: apply.Ownership{Holder: apply.HeldByThisRelease, Helm: true}, ours: true, oursListed: true,
		},
		"a Capstan release in the target namespace with the same name is another release": {
			owner: web, annotations: withID(helm("web", "apps"), "apps/web"),
			want:    apply.Ownership{Holder: apply.HeldByAnotherRelease, Release: "apps/web"},
			problem: "owned by release apps/web",
		},
		"half of helm's annotations still names another release": {
			owner: web, annotations: map[string]string{apply.ReleaseNameAnnotation: "web"},
			want:    apply.Ownership{Holder: apply.HeldByAnotherRelease, Release: "/web", Helm: true},
			problem: "owned by helm release /web",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			obj := &metav1.ObjectMeta{Annotations: tc.annotations}
			for _, m := range tc.managers {
				obj.ManagedFields = append(obj.ManagedFields, metav1.ManagedFieldsEntry{Manager: m})
			}
			got := apply.OwnershipOf(obj, tc.owner)
			g.Expect(got).To(Equal(tc.want))
			g.Expect(got.Ours(false)).To(Equal(tc.ours), "Ours(false)")
			g.Expect(got.Ours(true)).To(Equal(tc.oursListed), "Ours(true)")
			g.Expect(got.Problem()).To(Equal(tc.problem))
		})
	}
}

func TestSetOwnership(t *testing.T) {
	cases := map[string]struct {
		owner             apply.Owner
		wantHelmNamespace string
		wantID            string
	}{
		"helm's release namespace is the storage namespace": {
			owner: apply.Owner{Name: "web", Namespace: "apps", StorageNamespace: "team-a"}, wantHelmNamespace: "team-a", wantID: "team-a/web",
		},
		"without a storage namespace it is the namespace, as for helm": {
			owner: apply.Owner{Name: "web", Namespace: "apps"}, wantHelmNamespace: "apps", wantID: "apps/web",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			obj := objs(t, configMap)[0]
			apply.SetOwnership(obj, tc.owner)
			g.Expect(obj.GetLabels()).To(HaveKeyWithValue(apply.ManagedByLabel, apply.ManagedByHelm))
			g.Expect(obj.GetAnnotations()).To(Equal(map[string]string{
				apply.ReleaseNameAnnotation: "web", apply.ReleaseNamespaceAnnotation: tc.wantHelmNamespace, apply.ReleaseAnnotation: tc.wantID,
			}))
			g.Expect(apply.OwnedBy(obj, tc.owner)).To(BeTrue())
		})
	}
}
