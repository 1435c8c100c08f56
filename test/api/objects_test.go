package api_test

import (
	"errors"
	"strings"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// mutation changes an object before it is sent to the apiserver.
type mutation func(u *unstructured.Unstructured)

// set returns a mutation that sets the field at a dotted path (no list indexes) to value.
func set(path string, value any) mutation {
	return func(u *unstructured.Unstructured) {
		Expect(unstructured.SetNestedField(u.Object, value, strings.Split(path, ".")...)).To(Succeed())
	}
}

// unset returns a mutation that removes the field at a dotted path.
func unset(path string) mutation {
	return func(u *unstructured.Unstructured) {
		unstructured.RemoveNestedField(u.Object, strings.Split(path, ".")...)
	}
}

// rename returns a mutation that sets metadata.name.
func rename(name string) mutation {
	return func(u *unstructured.Unstructured) { u.SetName(name) }
}

// releaseObj returns a valid Release as an unstructured object, with the mutations applied.
func releaseObj(ns, name string, mutations ...mutation) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": capstanv1.GroupVersion.String(),
		"kind":       capstanv1.ReleaseKind,
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"chart": map[string]any{
				"repositoryRef": map[string]any{"name": "examples"},
				"name":          "hello",
			},
		},
	}}
	for _, m := range mutations {
		m(u)
	}
	return u
}

// repoObj returns a valid ChartRepository as an unstructured object, with the mutations applied.
func repoObj(ns, name string, mutations ...mutation) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": capstanv1.GroupVersion.String(),
		"kind":       capstanv1.ChartRepositoryKind,
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       map[string]any{"url": "https://charts.example.com/stable"},
	}}
	for _, m := range mutations {
		m(u)
	}
	return u
}

// valuesFrom returns n valid valuesFrom entries.
func valuesFrom(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"kind": "ConfigMap", "name": "values"}
	}
	return out
}

// expectInvalid asserts that err is an Invalid error from the apiserver with a cause on field
// whose message contains fragment.
func expectInvalid(g Gomega, err error, field, fragment string) {
	g.ExpectWithOffset(1, err).To(HaveOccurred(), "the apiserver accepted the object")
	g.ExpectWithOffset(1, apierrors.IsInvalid(err)).To(BeTrue(), "not an Invalid error: %v", err)
	var status apierrors.APIStatus
	g.ExpectWithOffset(1, errors.As(err, &status)).To(BeTrue())
	details := status.Status().Details
	g.ExpectWithOffset(1, details).NotTo(BeNil(), "no details in %v", err)
	causes := make([]string, 0, len(details.Causes))
	for _, c := range details.Causes {
		causes = append(causes, c.Field+": "+c.Message)
	}
	g.ExpectWithOffset(1, causes).To(ContainElement(SatisfyAll(HavePrefix(field+": "), ContainSubstring(fragment))),
		"no cause on %s mentions %q", field, fragment)
}

// kubeConfig returns a spec.kubeConfig naming a Secret and key ("" leaves the key out).
func kubeConfig(secret, key string) map[string]any {
	ref := map[string]any{"name": secret}
	if key != "" {
		ref["key"] = key
	}
	return map[string]any{"secretRef": ref}
}
