package manifest

import (
	"fmt"

	"sigs.k8s.io/yaml"
)

// Manifest is one regular (non-hook) document of a rendered template.
type Manifest struct {
	// Name is the template the document came from, e.g. "mychart/templates/deployment.yaml".
	Name string
	// Content is the document text as Helm keeps it (left-trimmed, trailing whitespace kept).
	Content string
	// Head is the parsed apiVersion, kind and metadata of the document; never nil.
	Head *Head
}

// Head is the part of a document Helm reads to classify and order it.
type Head struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind,omitempty"`
	Metadata   *Metadata `json:"metadata,omitempty"`
}

// Metadata is the part of a document's metadata that classification needs.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"-"`
	Annotations map[string]string `json:"annotations"`
}

// rawHead is what is decoded from a document. Its fields are the ones Helm decodes, so a document
// fails to parse exactly when Helm's fails; the namespace is read leniently on the side.
type rawHead struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind,omitempty"`
	Metadata   *rawMetadata `json:"metadata,omitempty"`
}

type rawMetadata struct {
	Name        string            `json:"name"`
	Namespace   any               `json:"namespace"`
	Annotations map[string]string `json:"annotations"`
}

// ParseHead reads the head of one document. The whole document must be valid YAML and a mapping
// (or empty, as a comment-only document is); scalar annotation values are read as strings.
func ParseHead(doc string) (*Head, error) {
	var raw rawHead
	if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, err
	}
	h := &Head{APIVersion: raw.APIVersion, Kind: raw.Kind}
	if raw.Metadata != nil {
		ns, _ := raw.Metadata.Namespace.(string)
		h.Metadata = &Metadata{Name: raw.Metadata.Name, Namespace: ns, Annotations: raw.Metadata.Annotations}
	}
	return h, nil
}

// Annotation returns the value of a metadata annotation and whether it is present.
func (h *Head) Annotation(key string) (string, bool) {
	if h == nil || h.Metadata == nil || h.Metadata.Annotations == nil {
		return "", false
	}
	v, ok := h.Metadata.Annotations[key]
	return v, ok
}

// Name returns metadata.name, or "" when the document has no metadata.
func (h *Head) Name() string {
	if h == nil || h.Metadata == nil {
		return ""
	}
	return h.Metadata.Name
}

func (h *Head) kind() string {
	if h == nil {
		return ""
	}
	return h.Kind
}

// ParseError reports a rendered document that is not valid YAML or not a mapping. Its message is
// Helm's: "YAML parse error on <template>: <cause>".
type ParseError struct {
	Template string
	Err      error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("YAML parse error on %s: %v", e.Template, e.Err)
}

// Unwrap returns the YAML error.
func (e *ParseError) Unwrap() error { return e.Err }
