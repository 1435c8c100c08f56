package controllers

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
)

// LastAppliedAnnotation is the annotation kubectl apply keeps a copy of the whole object in;
// on a Secret that copy holds the Secret's data.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// StripCachedObject is the cache transform CacheOptions sets: it drops managedFields and the
// last-applied-configuration annotation of every object, and data, stringData and binaryData
// of Secrets and ConfigMaps (typed or unstructured). Nothing the manager does reads them from
// the cache: values and records are read uncached, as the Release's identity.
func StripCachedObject(in any) (any, error) {
	if tomb, ok := in.(toolscache.DeletedFinalStateUnknown); ok {
		stripped, err := StripCachedObject(tomb.Obj)
		return toolscache.DeletedFinalStateUnknown{Key: tomb.Key, Obj: stripped}, err
	}
	if obj, ok := in.(metav1.Object); ok {
		obj.SetManagedFields(nil)
		if ann := obj.GetAnnotations(); ann != nil {
			if _, found := ann[LastAppliedAnnotation]; found {
				delete(ann, LastAppliedAnnotation)
				obj.SetAnnotations(ann)
			}
		}
	}
	switch o := in.(type) {
	case *corev1.Secret:
		o.Data, o.StringData = nil, nil
	case *corev1.ConfigMap:
		o.Data, o.BinaryData = nil, nil
	case *unstructured.Unstructured:
		if gvk := o.GroupVersionKind(); gvk.Group == "" && (gvk.Kind == "Secret" || gvk.Kind == "ConfigMap") {
			for _, f := range []string{"data", "stringData", "binaryData"} {
				delete(o.Object, f)
			}
		}
	}
	return in, nil
}
