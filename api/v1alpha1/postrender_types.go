package v1alpha1

// PostRenderer is one step of spec.postRenderers. Kustomize is the only kind of post-renderer:
// Capstan never runs an external program.
type PostRenderer struct {
	// Kustomize patches the rendered objects and overrides their images.
	// +required
	Kustomize *KustomizePostRenderer `json:"kustomize"`
}

// KustomizePostRenderer is a kustomization applied to the rendered objects: patches, then image
// overrides, as `kustomize build` applies them.
type KustomizePostRenderer struct {
	// Patches are strategic merge or JSON 6902 patches, applied in list order.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Patches []KustomizePatch `json:"patches,omitempty"`

	// Images override container images by name, in every kind kustomize knows to hold images.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Images []ImageOverride `json:"images,omitempty"`
}

// KustomizePatch is a strategic merge patch or a JSON 6902 patch, with the objects it applies to.
type KustomizePatch struct {
	// Patch is the patch itself, YAML or JSON: a partial object (strategic merge) or a list of
	// JSON 6902 operations.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	// +required
	Patch string `json:"patch"`

	// Target selects the objects the patch applies to. Without a target the patch must be a
	// strategic merge patch, and applies to the object its own apiVersion, kind and name name.
	// +optional
	Target *PatchTarget `json:"target,omitempty"`

	// Optional lets the patch match nothing. By default a patch whose target selects no object
	// stops the release with PostRenderFailed, naming the patch.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// PatchTarget selects objects as kustomize's patch targets do. Every field set must match;
// name and namespace are regular expressions anchored at both ends.
type PatchTarget struct {
	// Group of the objects' API; "" is any group.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Group string `json:"group,omitempty"`
	// Version of the objects' API.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Version string `json:"version,omitempty"`
	// Kind of the objects.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Kind string `json:"kind,omitempty"`
	// Name of the objects.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Name string `json:"name,omitempty"`
	// Namespace of the objects, as written in the rendered manifest.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// LabelSelector is a label selector, such as "app=web,tier!=db".
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
	// AnnotationSelector is a selector over annotations, in the syntax of labelSelector.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	AnnotationSelector string `json:"annotationSelector,omitempty"`
}

// ImageOverride replaces the image of every container whose image has Name.
// +kubebuilder:validation:XValidation:rule="has(self.newName) || has(self.newTag) || has(self.digest)",message="an image override needs newName, newTag or digest"
type ImageOverride struct {
	// Name is the image to replace, without tag or digest, such as nginx or ghcr.io/org/app.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +required
	Name string `json:"name"`
	// NewName replaces the image's name.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	NewName string `json:"newName,omitempty"`
	// NewTag replaces the image's tag.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	NewTag string `json:"newTag,omitempty"`
	// Digest replaces the image's tag with a digest, such as sha256:…; it wins over newTag.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Digest string `json:"digest,omitempty"`
}

// CommonMetadata are labels and annotations set on every rendered object's metadata. Selectors
// and pod templates are left alone.
type CommonMetadata struct {
	// Labels to set; they replace a chart's labels of the same key.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations to set; they replace a chart's annotations of the same key.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// HealthCheck says when objects of one kind are healthy, with CEL expressions evaluated over
// each object. The expressions see the object's top-level fields as variables (apiVersion,
// kind, metadata, spec, status; absent ones are empty maps) and the whole object as self. An
// object whose status.observedGeneration is behind its metadata.generation is in progress
// whatever the expressions say. Then failed is tried first, then inProgress, then current; when
// none is true the object is in progress.
// +kubebuilder:validation:XValidation:rule="has(self.apiVersion) || has(self.group)",message="a health check needs apiVersion or group"
// +kubebuilder:validation:XValidation:rule="!(has(self.apiVersion) && has(self.group))",message="a health check takes apiVersion or group, not both"
type HealthCheck struct {
	// APIVersion (group/version, or v1) the check applies to; only that version matches.
	// +kubebuilder:validation:MaxLength=317
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Group the check applies to, whatever the version.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Group string `json:"group,omitempty"`
	// Kind the check applies to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Kind string `json:"kind"`
	// Current is true when the object is healthy.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	Current string `json:"current"`
	// InProgress is true when the object is still converging.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	InProgress string `json:"inProgress,omitempty"`
	// Failed is true when the object has failed; the wait ends at once.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Failed string `json:"failed,omitempty"`
}
