package values

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// MaxDepth is the deepest nesting of maps and lists Capstan accepts in any values document or
// merged values (hardening D3). Helm has no such limit; no real chart comes close to it, and it
// keeps every recursive step (merge, coalesce, schema validation, digest) bounded.
const MaxDepth = 64

// ErrTooDeep reports values nested deeper than MaxDepth.
var ErrTooDeep = errors.New("values are nested too deeply")

// ReadValues parses a values document the way Helm v4 reads values.yaml and -f files: every
// YAML document in data (separated by "---" lines) is unmarshalled with sigs.k8s.io/yaml
// (YAML 1.1 → JSON → Go, so every number is a float64) and the documents are deep-merged in
// order with MergeMaps. Empty input gives an empty map; a document that is not a mapping is an
// error. Nesting deeper than MaxDepth is rejected with ErrTooDeep.
func ReadValues(data []byte) (map[string]any, error) {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		// The YAML reader can lose a final unterminated line; Helm appends a newline too.
		data = append(bytes.Clone(data), '\n')
	}
	out := map[string]any{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("error reading yaml document: %w", err)
		}
		doc := map[string]any{}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("cannot unmarshal yaml document: %w", err)
		}
		if err := CheckDepth(doc); err != nil {
			return nil, err
		}
		out = MergeMaps(out, doc)
	}
}

// MergeMaps deep-merges src over dst the way Helm merges -f files and multi-document values:
// when both sides hold a map under a key the maps merge recursively, anything else from src
// (lists, scalars, null) replaces dst's value. It returns a new map and modifies neither
// argument, though the result shares unchanged subtrees with them.
func MergeMaps(dst, src map[string]any) map[string]any {
	out := make(map[string]any, len(dst))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		sv, srcIsMap := v.(map[string]any)
		dv, dstIsMap := out[k].(map[string]any)
		if srcIsMap && dstIsMap {
			out[k] = MergeMaps(dv, sv)
			continue
		}
		out[k] = v
	}
	return out
}

// CheckDepth returns ErrTooDeep when v holds maps or lists nested more than MaxDepth levels
// (the top-level map counts as one level). It never recurses further than MaxDepth+1.
func CheckDepth(v map[string]any) error {
	if depthExceeds(v, 1) {
		return fmt.Errorf("%w: more than %d levels of maps and lists", ErrTooDeep, MaxDepth)
	}
	return nil
}

func depthExceeds(v any, level int) bool {
	switch t := v.(type) {
	case map[string]any:
		if level > MaxDepth {
			return true
		}
		for _, c := range t {
			if depthExceeds(c, level+1) {
				return true
			}
		}
	case []any:
		if level > MaxDepth {
			return true
		}
		for _, c := range t {
			if depthExceeds(c, level+1) {
				return true
			}
		}
	}
	return false
}

// deepCopy copies maps and lists recursively. Other values (scalars) are immutable and shared.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case []any:
		if t == nil {
			return t
		}
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = deepCopy(c)
		}
		return out
	default:
		return v
	}
}

// deepCopyMap copies m recursively; a nil map gives a nil map.
func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, c := range m {
		out[k] = deepCopy(c)
	}
	return out
}
