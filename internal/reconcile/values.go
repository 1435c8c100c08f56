package reconcile

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/redact"
	"github.com/capstan-dev/capstan/internal/values"
)

// composeValues reads spec.valuesFrom in order and spec.values last, through the Release's
// client, and records the result and its digest in the desired state.
func (s *session) composeValues(ctx context.Context) error {
	out, err := ComposeValues(ctx, s.c, s.rel)
	if err != nil {
		return err
	}
	s.userValues = out
	s.desired.ValuesDigest = values.Digest(out)
	return nil
}

// ComposeValues returns a Release's user values: every valuesFrom entry in list order (a whole
// YAML document merged over what came before, or with targetPath one value set at that path),
// then spec.values merged over them. The chart's defaults come later, when rendering coalesces
// them under these. A missing object or key that is not optional waits; an unusable document
// stalls. Messages never contain the values themselves, and what is read from Secrets is
// registered with the Redactor ctx carries.
func ComposeValues(ctx context.Context, r client.Reader, rel *capstanv1.Release) (map[string]any, error) {
	out := map[string]any{}
	for i := range rel.Spec.ValuesFrom {
		ref := &rel.Spec.ValuesFrom[i]
		data, found, err := readValuesRef(ctx, r, rel.Namespace, ref)
		if err != nil {
			return nil, err
		}
		if ref.Kind == capstanv1.ValuesKindSecret {
			registerValuesSecret(redact.FromContext(ctx), data)
		}
		if !found {
			if ref.Optional {
				continue
			}
			return nil, waitErr(capstanv1.ValuesFromNotFoundReason, 0,
				fmt.Errorf("%s %s/%s or its key %q does not exist and spec.valuesFrom[%d] is not optional",
					ref.Kind, rel.Namespace, ref.Name, ref.GetKey(), i))
		}
		if out, err = mergeValuesRef(out, ref, data, i); err != nil {
			return nil, err
		}
	}
	spec, err := rel.GetValues()
	if err != nil {
		return nil, stallErr(capstanv1.ValuesInvalidReason, err)
	}
	out = values.MergeMaps(out, spec)
	if err := values.CheckDepth(out); err != nil {
		return nil, stallErr(capstanv1.ValuesInvalidReason, err)
	}
	return out, nil
}

// registerValuesSecret registers a valuesFrom Secret's value with the reconcile's Redactor: the
// raw text and, when it is a values document, each of its string leaves.
func registerValuesSecret(red *redact.Redactor, data []byte) {
	red.AddBytes(data)
	if doc, err := values.ReadValues(data); err == nil {
		red.AddLeaves(doc)
	}
}

// readValuesRef reads the key of a valuesFrom object; found is false when the object or the key
// does not exist.
func readValuesRef(ctx context.Context, r client.Reader, ns string, ref *capstanv1.ValuesReference) ([]byte, bool, error) {
	key := client.ObjectKey{Namespace: ns, Name: ref.Name}
	var data []byte
	var found bool
	var err error
	switch ref.Kind {
	case capstanv1.ValuesKindSecret:
		var sec corev1.Secret
		if err = r.Get(ctx, key, &sec); err == nil {
			data, found = sec.Data[ref.GetKey()]
		}
	default:
		var cm corev1.ConfigMap
		if err = r.Get(ctx, key, &cm); err == nil {
			data, found = configMapValue(&cm, ref.GetKey())
		}
	}
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, apiErr(capstanv1.ValuesFromNotFoundReason, fmt.Errorf("reading %s %s/%s: %w", ref.Kind, ns, ref.Name, err))
	}
	return data, found, nil
}

func configMapValue(cm *corev1.ConfigMap, key string) ([]byte, bool) {
	if v, ok := cm.Data[key]; ok {
		return []byte(v), true
	}
	v, ok := cm.BinaryData[key]
	return v, ok
}

// mergeValuesRef merges one valuesFrom entry's content over out.
func mergeValuesRef(out map[string]any, ref *capstanv1.ValuesReference, data []byte, i int) (map[string]any, error) {
	if ref.TargetPath != "" {
		if err := values.SetPath(out, ref.TargetPath, string(data)); err != nil {
			return nil, stallf(capstanv1.ValuesInvalidReason, "spec.valuesFrom[%d].targetPath %q cannot be set: %w",
				i, ref.TargetPath, err)
		}
		return out, nil
	}
	doc, err := values.ReadValues(data)
	if err != nil {
		detail := ""
		if ref.Kind != capstanv1.ValuesKindSecret {
			detail = ": " + err.Error()
		}
		return nil, stallf(capstanv1.ValuesInvalidReason, "key %q of %s %s is not a YAML values document%s",
			ref.GetKey(), ref.Kind, ref.Name, detail)
	}
	return values.MergeMaps(out, doc), nil
}
