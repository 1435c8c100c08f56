package engine

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/BurntSushi/toml"
	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v3"
)

// toYAML encodes v with sigs.k8s.io/yaml (JSON field names, sorted keys) without the trailing
// newline; an encoding error gives "".
func toYAML(v any) string {
	out, err := mustToYAML(v)
	if err != nil {
		return ""
	}
	return out
}

// mustToYAML is toYAML that fails the render on an encoding error.
func mustToYAML(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// toYAMLPretty encodes v with goyaml v3 and a two-space indent, so lists are indented under
// their key; an encoding error gives "".
func toYAMLPretty(v any) string {
	var buf bytes.Buffer
	enc := goyaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// fromYAML decodes a YAML mapping; on failure the map holds the message under "Error".
func fromYAML(s string) map[string]any {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// fromYAMLArray decodes a YAML list; on failure the list holds only the message.
func fromYAMLArray(s string) []any {
	a := []any{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		return []any{err.Error()}
	}
	return a
}

// toJSON encodes v as compact JSON; an encoding error gives "".
func toJSON(v any) string {
	out, err := mustToJSON(v)
	if err != nil {
		return ""
	}
	return out
}

// mustToJSON is toJSON that fails the render on an encoding error.
func mustToJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// fromJSON decodes a JSON object; on failure the map holds the message under "Error".
func fromJSON(s string) map[string]any {
	m := map[string]any{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// fromJSONArray decodes a JSON array; on failure the list holds only the message.
func fromJSONArray(s string) []any {
	a := []any{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return []any{err.Error()}
	}
	return a
}

// toTOML encodes v as TOML; unlike the other encoders it returns the error text on failure.
func toTOML(v any) string {
	out, err := mustToTOML(v)
	if err != nil {
		return err.Error()
	}
	return out
}

// mustToTOML is toTOML that fails the render on an encoding error.
func mustToTOML(v any) (string, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(v); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// fromTOML decodes a TOML document; on failure the map holds the message under "Error".
func fromTOML(s string) map[string]any {
	m := map[string]any{}
	if err := toml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}
