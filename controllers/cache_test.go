package controllers

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
)

const canary = "canary-c4p5t4n-value"

func secretMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: "creds", Namespace: "tenant",
		Annotations:   map[string]string{LastAppliedAnnotation: `{"data":{"password":"` + canary + `"}}`, "keep": "me"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", FieldsV1: metav1.NewFieldsV1(`{"f:data":{}}`)}},
	}
}

func TestStripCachedObject(t *testing.T) {
	cases := map[string]struct {
		in    any
		check func(g Gomega, out any)
	}{
		"a typed Secret loses its data, managed fields and kubectl's copy": {
			in: &corev1.Secret{ObjectMeta: secretMeta(), Data: map[string][]byte{"password": []byte(canary)},
				StringData: map[string]string{"token": canary}},
			check: func(g Gomega, out any) {
				s := out.(*corev1.Secret)
				g.Expect(s.Data).To(BeNil())
				g.Expect(s.StringData).To(BeNil())
				g.Expect(s.ManagedFields).To(BeNil())
				g.Expect(s.Annotations).To(Equal(map[string]string{"keep": "me"}))
			},
		},
		"a typed ConfigMap loses data and binaryData": {
			in: &corev1.ConfigMap{ObjectMeta: secretMeta(), Data: map[string]string{"values.yaml": canary},
				BinaryData: map[string][]byte{"b": []byte(canary)}},
			check: func(g Gomega, out any) {
				cm := out.(*corev1.ConfigMap)
				g.Expect(cm.Data).To(BeNil())
				g.Expect(cm.BinaryData).To(BeNil())
			},
		},
		"metadata of a Secret keeps its name but not kubectl's copy of the data": {
			in: &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: secretMeta()},
			check: func(g Gomega, out any) {
				m := out.(*metav1.PartialObjectMetadata)
				g.Expect(m.Name).To(Equal("creds"))
				g.Expect(m.ManagedFields).To(BeNil())
				g.Expect(m.Annotations).NotTo(HaveKey(LastAppliedAnnotation))
			},
		},
		"an unstructured Secret loses its data": {
			in: &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
				"metadata": map[string]any{"name": "creds"}, "data": map[string]any{"password": canary},
				"stringData": map[string]any{"token": canary}}},
			check: func(g Gomega, out any) {
				u := out.(*unstructured.Unstructured)
				g.Expect(u.Object).NotTo(HaveKey("data"))
				g.Expect(u.Object).NotTo(HaveKey("stringData"))
			},
		},
		"a deleted object seen late is stripped too": {
			in: toolscache.DeletedFinalStateUnknown{Key: "tenant/creds",
				Obj: &corev1.Secret{ObjectMeta: secretMeta(), Data: map[string][]byte{"password": []byte(canary)}}},
			check: func(g Gomega, out any) {
				tomb := out.(toolscache.DeletedFinalStateUnknown)
				g.Expect(tomb.Key).To(Equal("tenant/creds"))
				g.Expect(tomb.Obj.(*corev1.Secret).Data).To(BeNil())
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			out, err := StripCachedObject(tc.in)
			g.Expect(err).NotTo(HaveOccurred())
			tc.check(g, out)
		})
	}
}
