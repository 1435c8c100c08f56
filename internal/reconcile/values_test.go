package reconcile

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

func valuesRelease(spec string, refs ...capstanv1.ValuesReference) *capstanv1.Release {
	rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"}}
	rel.Spec.ValuesFrom = refs
	if spec != "" {
		rel.Spec.Values = &runtime.RawExtension{Raw: []byte(spec)}
	}
	return rel
}

func TestComposeValues(t *testing.T) {
	objs := fake.NewClientBuilder().WithObjects(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "base", Namespace: "apps"},
			Data: map[string]string{"values.yaml": "image:\n  tag: v1\n  repo: r\nreplicas: 1\n", "other": "replicas: 5\n"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bin", Namespace: "apps"},
			BinaryData: map[string][]byte{"values.yaml": []byte("fromBinary: true\n")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: "apps"}, Data: map[string]string{"values.yaml": "- a list\n"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "apps"},
			Data: map[string][]byte{"values.yaml": []byte("password: hunter2\n"), "token": []byte("s3cr3t"), "bad": []byte("[x")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "base", Namespace: "elsewhere"}, Data: map[string]string{"values.yaml": "x: 1\n"}},
	).Build()
	cm := func(name string) capstanv1.ValuesReference {
		return capstanv1.ValuesReference{Kind: capstanv1.ValuesKindConfigMap, Name: name}
	}
	cases := map[string]struct {
		rel     *capstanv1.Release
		want    map[string]any
		reason  string
		class   Class
		message string
	}{
		"spec.values alone": {
			rel:  valuesRelease(`{"a":1}`),
			want: map[string]any{"a": float64(1)},
		},
		"valuesFrom in order, then spec.values on top": {
			rel: valuesRelease(`{"image":{"tag":"v3"}}`, cm("base"),
				capstanv1.ValuesReference{Kind: capstanv1.ValuesKindConfigMap, Name: "base", Key: "other"}),
			want: map[string]any{"image": map[string]any{"tag": "v3", "repo": "r"}, "replicas": float64(5)},
		},
		"binaryData is read too": {
			rel:  valuesRelease("", cm("bin")),
			want: map[string]any{"fromBinary": true},
		},
		"a targetPath places the raw string": {
			rel: valuesRelease("", cm("base"), capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: "creds",
				Key: "token", TargetPath: "auth.token"}),
			want: map[string]any{"image": map[string]any{"tag": "v1", "repo": "r"}, "replicas": float64(1),
				"auth": map[string]any{"token": "s3cr3t"}},
		},
		"a missing optional object is skipped": {
			rel:  valuesRelease(`{"a":1}`, capstanv1.ValuesReference{Kind: capstanv1.ValuesKindConfigMap, Name: "nope", Optional: true}),
			want: map[string]any{"a": float64(1)},
		},
		"a missing optional key is skipped": {
			rel:  valuesRelease("", capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: "creds", Key: "nokey", Optional: true}),
			want: map[string]any{},
		},
		"a missing object waits": {
			rel: valuesRelease("", cm("nope")), reason: capstanv1.ValuesFromNotFoundReason, class: ClassWaiting,
			message: "ConfigMap apps/nope or its key \"values.yaml\" does not exist and spec.valuesFrom[0] is not optional",
		},
		"objects are only read in the Release's namespace": {
			rel: valuesRelease("", cm("base")), want: map[string]any{"image": map[string]any{"tag": "v1", "repo": "r"}, "replicas": float64(1)},
		},
		"a document that is not a map stalls, naming the key": {
			rel: valuesRelease("", cm("broken")), reason: capstanv1.ValuesInvalidReason, class: ClassStalling,
			message: `key "values.yaml" of ConfigMap broken is not a YAML values document: cannot unmarshal yaml document`,
		},
		"a bad Secret document stalls without its content": {
			rel:    valuesRelease("", capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: "creds", Key: "bad"}),
			reason: capstanv1.ValuesInvalidReason, class: ClassStalling,
			message: `key "bad" of Secret creds is not a YAML values document`,
		},
		"spec.values that are not an object stall": {
			rel: valuesRelease(`[1]`), reason: capstanv1.ValuesInvalidReason, class: ClassStalling, message: "spec.values is not an object",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ComposeValues(context.Background(), objs, tc.rel)
			if tc.reason == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(got).To(Equal(tc.want))
				return
			}
			var e *Error
			g.Expect(errors.As(err, &e)).To(BeTrue(), "error %v", err)
			g.Expect(e.Reason).To(Equal(tc.reason))
			g.Expect(e.Class).To(Equal(tc.class))
			g.Expect(e.Error()).To(HavePrefix(tc.message))
			g.Expect(e.Error()).NotTo(ContainSubstring("hunter2"))
			g.Expect(e.Error()).NotTo(ContainSubstring("s3cr3t"))
		})
	}
}
