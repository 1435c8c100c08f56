package reconcile

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

func TestReleaseOwner(t *testing.T) {
	cases := map[string]struct {
		spec capstanv1.ReleaseSpec
		want apply.Owner
		id   string
	}{
		"a Release installing into its own namespace": {
			want: apply.Owner{Name: "web", Namespace: "team-a", StorageNamespace: "team-a"}, id: "team-a/web",
		},
		"a Release installing elsewhere is still identified by its own namespace": {
			spec: capstanv1.ReleaseSpec{TargetNamespace: "apps"},
			want: apply.Owner{Name: "web", Namespace: "apps", StorageNamespace: "team-a"}, id: "team-a/web",
		},
		"the release name, not the Release's name": {
			spec: capstanv1.ReleaseSpec{ReleaseName: "shop", TargetNamespace: "apps"},
			want: apply.Owner{Name: "shop", Namespace: "apps", StorageNamespace: "team-a"}, id: "team-a/shop",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}, Spec: tc.spec}
			got := releaseOwner(rel)
			g.Expect(got).To(Equal(tc.want))
			g.Expect(got.ID()).To(Equal(tc.id))
		})
	}
}

func TestStripOwnership(t *testing.T) {
	g := NewWithT(t)
	crd := &unstructured.Unstructured{}
	crd.SetAnnotations(map[string]string{"keep": "me"})
	apply.SetOwnership(crd, apply.Owner{Name: "web", Namespace: "apps", StorageNamespace: "team-a"})
	stripOwnership(crd)
	g.Expect(crd.GetAnnotations()).To(Equal(map[string]string{"keep": "me"}), "a crds/ CRD belongs to no release")
	g.Expect(crd.GetLabels()).To(BeEmpty())
	g.Expect(apply.OwnershipOf(crd, apply.Owner{Name: "web", Namespace: "apps"}).Holder).To(Equal(apply.HeldByNobody))
}
