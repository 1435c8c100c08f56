package postrender

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

const (
	// root is the kustomization's directory in the in-memory filesystem.
	root = "/postrender"
	// resourcesFile holds the documents being post-rendered.
	resourcesFile = "resources.yaml"
)

// newKustomization is the kustomization every run starts from: the documents as its only
// resource, kept in their order.
func newKustomization() *types.Kustomization {
	return &types.Kustomization{
		TypeMeta:    types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Resources:   []string{resourcesFile},
		SortOptions: &types.SortOptions{Order: types.FIFOSortOrder},
	}
}

// selector turns a patch target into kustomize's selector.
func selector(t *capstanv1.PatchTarget) *types.Selector {
	if t == nil {
		return nil
	}
	return &types.Selector{
		ResId: resid.ResId{
			Gvk:       resid.Gvk{Group: t.Group, Version: t.Version, Kind: t.Kind},
			Name:      t.Name,
			Namespace: t.Namespace,
		},
		LabelSelector:      t.LabelSelector,
		AnnotationSelector: t.AnnotationSelector,
	}
}

// transformer is a builtin kustomize transformer's configuration file.
type transformer struct {
	APIVersion  string            `json:"apiVersion"`
	Kind        string            `json:"kind"`
	Metadata    map[string]string `json:"metadata"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	FieldSpecs  []fieldSpec       `json:"fieldSpecs"`
}

type fieldSpec struct {
	Path   string `json:"path"`
	Create bool   `json:"create"`
}

// commonMetadataKustomization sets common's labels and annotations with kustomize's builtin
// LabelTransformer and AnnotationsTransformer, confined to each object's own metadata:
// selectors and pod templates are the chart's business. It returns the kustomization and the
// transformer files it refers to.
func commonMetadataKustomization(common *capstanv1.CommonMetadata) (*types.Kustomization, map[string][]byte, error) {
	kust := newKustomization()
	files := map[string][]byte{}
	add := func(name string, t transformer) error {
		data, err := yaml.Marshal(t)
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		files[name] = data
		kust.Transformers = append(kust.Transformers, name)
		return nil
	}
	if len(common.Labels) > 0 {
		err := add("common-labels.yaml", transformer{APIVersion: "builtin", Kind: "LabelTransformer",
			Metadata: map[string]string{"name": "common-labels"}, Labels: common.Labels,
			FieldSpecs: []fieldSpec{{Path: "metadata/labels", Create: true}}})
		if err != nil {
			return nil, nil, err
		}
	}
	if len(common.Annotations) > 0 {
		err := add("common-annotations.yaml", transformer{APIVersion: "builtin", Kind: "AnnotationsTransformer",
			Metadata: map[string]string{"name": "common-annotations"}, Annotations: common.Annotations,
			FieldSpecs: []fieldSpec{{Path: "metadata/annotations", Create: true}}})
		if err != nil {
			return nil, nil, err
		}
	}
	return kust, files, nil
}

// setAnnotation and removeAnnotation edit one annotation of a document.
func setAnnotation(key, value string) kyaml.Filter { return kyaml.SetAnnotation(key, value) }

func removeAnnotation(key string) kyaml.Filter { return kyaml.ClearAnnotation(key) }
