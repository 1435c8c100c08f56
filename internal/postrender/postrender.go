package postrender

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// SourceAnnotation carries each document's template name through kustomize, so that the output
// can be split back into the files the chart rendered. It never reaches the cluster.
const SourceAnnotation = "postrender.capstan.dev/source"

// GeneratedSource names the file of documents that lost SourceAnnotation in a patch (a patch
// that replaces metadata.annotations whole).
const GeneratedSource = "generated-by-post-renderer.yaml"

// ErrNoMatch says that a patch's target selects no object; wrapped in a *PatchError.
var ErrNoMatch = errors.New("the patch's target matches no object")

// PatchError names the patch that failed, by its path in the Release's spec.
type PatchError struct {
	// Path is the patch's place in spec, such as postRenderers[0].kustomize.patches[2].
	Path string
	// Target describes what the patch selects.
	Target string
	// Err is the cause.
	Err error
}

func (e *PatchError) Error() string {
	return fmt.Sprintf("%s (target %s): %v", e.Path, e.Target, e.Err)
}

func (e *PatchError) Unwrap() error { return e.Err }

// PostRenderer applies a Release's post-renderers and common metadata.
type PostRenderer struct {
	steps  []capstanv1.PostRenderer
	common *capstanv1.CommonMetadata
	rmf    *resmap.Factory
}

// New returns the post-renderer of steps and common, or nil when they change nothing, so that
// a Release without post-renderers renders exactly as Helm does.
func New(steps []capstanv1.PostRenderer, common *capstanv1.CommonMetadata) *PostRenderer {
	if !active(steps, common) {
		return nil
	}
	return &PostRenderer{steps: steps, common: common,
		rmf: resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory())}
}

func active(steps []capstanv1.PostRenderer, common *capstanv1.CommonMetadata) bool {
	return len(steps) > 0 || (common != nil && (len(common.Labels) > 0 || len(common.Annotations) > 0))
}

// Digest identifies steps and common, so a change of either is a change of the desired state.
// It is "" when they change nothing.
func Digest(steps []capstanv1.PostRenderer, common *capstanv1.CommonMetadata) string {
	if !active(steps, common) {
		return ""
	}
	// Strings, bools and string maps always marshal; map keys come out sorted, so the digest
	// does not depend on map order.
	data, _ := json.Marshal(struct {
		Steps  []capstanv1.PostRenderer  `json:"postRenderers,omitempty"`
		Common *capstanv1.CommonMetadata `json:"commonMetadata,omitempty"`
	}{steps, common})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Parse reads a YAML list of post-renderers, the shape of spec.postRenderers, refusing unknown
// fields so that a typo does not silently drop a patch.
func Parse(data []byte) ([]capstanv1.PostRenderer, error) {
	var steps []capstanv1.PostRenderer
	if err := yaml.UnmarshalStrict(data, &steps); err != nil {
		return nil, fmt.Errorf("post-renderers: %w", err)
	}
	for i, s := range steps {
		if s.Kustomize == nil {
			return nil, fmt.Errorf("post-renderers: postRenderers[%d] has no kustomize", i)
		}
	}
	return steps, nil
}

// PostRender runs the post-renderers over the rendered files (template name → text) and returns
// the files as they came out. Every document is annotated with its template, the documents of
// all files go through kustomize in one stream, in template name order and file order, and are
// split back by template; kustomize keeps their order (sortOptions fifo).
// A nil PostRenderer returns files unchanged.
func (p *PostRenderer) PostRender(files map[string]string) (map[string]string, error) {
	if p == nil {
		return files, nil
	}
	stream, err := annotate(files)
	if err != nil {
		return nil, err
	}
	var m resmap.ResMap
	for i, step := range p.steps {
		if m, err = p.runStep(stream, i, step.Kustomize); err != nil {
			return nil, err
		}
		if stream, err = m.AsYaml(); err != nil {
			return nil, err
		}
	}
	if p.common != nil && (len(p.common.Labels) > 0 || len(p.common.Annotations) > 0) {
		kust, extra, err := commonMetadataKustomization(p.common)
		if err == nil {
			m, err = p.run(stream, kust, extra)
		}
		if err != nil {
			return nil, fmt.Errorf("commonMetadata: %w", err)
		}
	}
	return split(m)
}

// annotate writes every file's documents into one stream, each annotated with its template.
// Each document is edited as a YAML node, so that kustomize reads it as it would read the
// file itself.
func annotate(files map[string]string) ([]byte, error) {
	var b bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(files)) {
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(files[name]), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return nil, fmt.Errorf("reading %s for the post-renderers: %w", name, err)
		}
		for _, n := range nodes {
			if err := n.PipeE(setAnnotation(SourceAnnotation, name)); err != nil {
				return nil, fmt.Errorf("reading %s for the post-renderers: %w", name, err)
			}
			text, err := n.String()
			if err != nil {
				return nil, fmt.Errorf("reading %s for the post-renderers: %w", name, err)
			}
			b.WriteString("---\n")
			b.WriteString(text)
		}
	}
	return b.Bytes(), nil
}

// runStep checks that every patch of one kustomize post-renderer selects something (dropping
// optional ones that do not), then runs it.
func (p *PostRenderer) runStep(stream []byte, i int, k *capstanv1.KustomizePostRenderer) (resmap.ResMap, error) {
	m, err := p.rmf.NewResMapFromBytes(stream)
	if err != nil {
		return nil, fmt.Errorf("postRenderers[%d].kustomize: %w", i, err)
	}
	kust := newKustomization()
	for j, patch := range k.Patches {
		path := fmt.Sprintf("postRenderers[%d].kustomize.patches[%d]", i, j)
		matched, err := p.matches(m, patch)
		if err != nil {
			return nil, err.withPath(path)
		}
		if matched == 0 {
			if patch.Optional {
				continue
			}
			return nil, (&PatchError{Target: describe(patch), Err: ErrNoMatch}).withPath(path)
		}
		kust.Patches = append(kust.Patches, types.Patch{Patch: patch.Patch, Target: selector(patch.Target)})
	}
	for _, img := range k.Images {
		kust.Images = append(kust.Images, types.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	out, err := p.run(stream, kust, nil)
	if err != nil {
		return nil, fmt.Errorf("postRenderers[%d].kustomize: %w", i, err)
	}
	return out, nil
}

func (e *PatchError) withPath(path string) *PatchError {
	e.Path = path
	return e
}

// matches counts the objects a patch applies to: those its target selects or, without a target,
// the objects its own apiVersion, kind, name and namespace name (a strategic merge patch).
func (p *PostRenderer) matches(m resmap.ResMap, patch capstanv1.KustomizePatch) (int, *PatchError) {
	if patch.Target != nil {
		sel := selector(patch.Target)
		found, err := m.Select(*sel)
		if err != nil {
			return 0, &PatchError{Target: describe(patch), Err: err}
		}
		return len(found), nil
	}
	if isJSONPatch(patch.Patch) {
		return 0, &PatchError{Target: describe(patch), Err: errors.New("a JSON 6902 patch needs a target")}
	}
	ids, err := p.rmf.NewResMapFromBytes([]byte(patch.Patch))
	if err != nil {
		return 0, &PatchError{Target: describe(patch), Err: fmt.Errorf("the patch does not parse: %w", err)}
	}
	count := 0
	for _, r := range ids.Resources() {
		found, err := m.Select(types.Selector{ResId: r.OrgId()})
		if err != nil {
			return 0, &PatchError{Target: describe(patch), Err: err}
		}
		count += len(found)
	}
	return count, nil
}

// isJSONPatch tells a JSON 6902 patch (a list of operations) from a strategic merge patch.
func isJSONPatch(patch string) bool {
	var v any
	if err := yaml.Unmarshal([]byte(patch), &v); err != nil {
		return false
	}
	_, isList := v.([]any)
	return isList
}

// run writes m, kust and the extra files kust refers to into an in-memory filesystem and builds
// it as `kustomize build` would.
func (p *PostRenderer) run(stream []byte, kust *types.Kustomization, extra map[string][]byte) (resmap.ResMap, error) {
	fs := filesys.MakeFsInMemory()
	files := map[string][]byte{resourcesFile: stream}
	maps.Copy(files, extra)
	data, err := yaml.Marshal(kust)
	if err != nil {
		return nil, err
	}
	files["kustomization.yaml"] = data
	for name, content := range files {
		if err := fs.WriteFile(root+"/"+name, content); err != nil {
			return nil, err
		}
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified // the kustomization's sortOptions decide
	return krusty.MakeKustomizer(opts).Run(fs, root)
}

// split turns the resource map back into files, removing SourceAnnotation.
func split(m resmap.ResMap) (map[string]string, error) {
	out := map[string]string{}
	for _, r := range m.Resources() {
		source := r.GetAnnotations()[SourceAnnotation]
		if source == "" {
			source = GeneratedSource
		}
		if err := r.PipeE(removeAnnotation(SourceAnnotation)); err != nil {
			return nil, err
		}
		data, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("writing %s after the post-renderers: %w", source, err)
		}
		if text, ok := out[source]; ok {
			out[source] = text + "---\n" + string(data)
			continue
		}
		out[source] = string(data)
	}
	return out, nil
}

// describe says what a patch selects, for errors.
func describe(patch capstanv1.KustomizePatch) string {
	t := patch.Target
	if t == nil {
		return "from the patch itself"
	}
	var parts []string
	for _, f := range []struct{ k, v string }{
		{"group", t.Group}, {"version", t.Version}, {"kind", t.Kind}, {"name", t.Name},
		{"namespace", t.Namespace}, {"labelSelector", t.LabelSelector}, {"annotationSelector", t.AnnotationSelector},
	} {
		if f.v != "" {
			parts = append(parts, f.k+"="+f.v)
		}
	}
	if len(parts) == 0 {
		return "every object"
	}
	return strings.Join(parts, " ")
}
