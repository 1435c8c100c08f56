package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// The raw* types mirror the full shape of a Helm index so that decoding stays as strict as
// Helm's (an unknown field or a value of the wrong type fails the whole document), while the
// skip* types check a field's shape and then drop its content: descriptions, maintainers and
// annotations are never held in memory past the decoder.

type rawIndex struct {
	APIVersion  scalarString           `yaml:"apiVersion" json:"apiVersion"`
	Generated   timestamp              `yaml:"generated" json:"generated"`
	Entries     map[string][]*rawEntry `yaml:"entries" json:"entries"`
	PublicKeys  skipStrings            `yaml:"publicKeys" json:"publicKeys"`
	Annotations skipStringMap          `yaml:"annotations" json:"annotations"`
	ServerInfo  skipAny                `yaml:"serverInfo" json:"serverInfo"`
}

// rawEntry is one index entry: Chart.yaml's metadata inline plus the index's own fields.
type rawEntry struct {
	Name          scalarString     `yaml:"name" json:"name"`
	Home          skipString       `yaml:"home" json:"home"`
	Sources       skipStrings      `yaml:"sources" json:"sources"`
	Version       scalarString     `yaml:"version" json:"version"`
	Description   skipString       `yaml:"description" json:"description"`
	Keywords      skipStrings      `yaml:"keywords" json:"keywords"`
	Maintainers   []*rawMaintainer `yaml:"maintainers" json:"maintainers"`
	Icon          skipString       `yaml:"icon" json:"icon"`
	APIVersion    scalarString     `yaml:"apiVersion" json:"apiVersion"`
	Condition     skipString       `yaml:"condition" json:"condition"`
	Tags          skipString       `yaml:"tags" json:"tags"`
	AppVersion    scalarString     `yaml:"appVersion" json:"appVersion"`
	Deprecated    bool             `yaml:"deprecated" json:"deprecated"`
	Annotations   skipStringMap    `yaml:"annotations" json:"annotations"`
	KubeVersion   skipString       `yaml:"kubeVersion" json:"kubeVersion"`
	Dependencies  []*rawDependency `yaml:"dependencies" json:"dependencies"`
	Type          scalarString     `yaml:"type" json:"type"`
	URLs          []scalarString   `yaml:"urls" json:"urls"`
	Created       timestamp        `yaml:"created" json:"created"`
	Removed       bool             `yaml:"removed" json:"removed"`
	Digest        scalarString     `yaml:"digest" json:"digest"`
	Checksum      skipString       `yaml:"checksum" json:"checksum"`
	Engine        skipString       `yaml:"engine" json:"engine"`
	TillerVersion skipString       `yaml:"tillerVersion" json:"tillerVersion"`
	URL           skipString       `yaml:"url" json:"url"`
}

type rawMaintainer struct {
	Name  skipString `yaml:"name" json:"name"`
	Email skipString `yaml:"email" json:"email"`
	URL   skipString `yaml:"url" json:"url"`
}

type rawDependency struct {
	Name         scalarString `yaml:"name" json:"name"`
	Version      skipString   `yaml:"version" json:"version"`
	Repository   skipString   `yaml:"repository" json:"repository"`
	Condition    skipString   `yaml:"condition" json:"condition"`
	Tags         skipStrings  `yaml:"tags" json:"tags"`
	Enabled      bool         `yaml:"enabled" json:"enabled"`
	ImportValues skipAny      `yaml:"import-values" json:"import-values"`
	Alias        scalarString `yaml:"alias" json:"alias"`
}

var errNotScalar = errors.New("expected a scalar value")

func resolveAlias(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode && depth < 8; depth++ {
		n = n.Alias
	}
	return n
}

// scalarString is a string field that reads YAML numbers and booleans the way Helm's YAML
// library does (YAML -> JSON -> string): 1.10 reads as "1.1", 1.0 as "1".
type scalarString string

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *scalarString) UnmarshalYAML(n *yaml.Node) error {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %w", nodeLine(n), errNotScalar)
	}
	switch n.Tag {
	case "!!null":
		*s = ""
	case "!!float":
		// .inf, .nan and friends keep their text, and so does a dotless exponent form such as
		// 1e5, which YAML 1.2 reads as a float but YAML 1.1 (Helm's reader) as a string.
		*s = scalarString(n.Value)
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && strings.Contains(n.Value, ".") {
			*s = scalarString(strconv.FormatFloat(f, 'g', -1, 32))
		}
	case "!!int":
		// Integers too big for int64 keep their text, like any other string.
		*s = scalarString(n.Value)
		var i int64
		if n.Decode(&i) == nil {
			*s = scalarString(strconv.FormatInt(i, 10))
		}
	default:
		*s = scalarString(n.Value)
	}
	return nil
}

func nodeLine(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// skipString checks that a field is a scalar (or null) and drops it.
type skipString struct{}

// UnmarshalYAML implements yaml.Unmarshaler.
func (skipString) UnmarshalYAML(n *yaml.Node) error {
	if n = resolveAlias(n); n == nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %w", nodeLine(n), errNotScalar)
	}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler: only a string or null is accepted.
func (skipString) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || (len(b) > 0 && b[0] == '"') {
		return nil
	}
	return errors.New("expected a string")
}

// skipStrings checks that a field is a list of scalars (or null) and drops it.
type skipStrings struct{}

// UnmarshalYAML implements yaml.Unmarshaler.
func (skipStrings) UnmarshalYAML(n *yaml.Node) error {
	n = resolveAlias(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: expected a list", nodeLine(n))
	}
	for _, item := range n.Content {
		if err := (skipString{}).UnmarshalYAML(item); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (skipStrings) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || (len(b) > 0 && b[0] == '[') {
		return nil
	}
	return errors.New("expected a list")
}

// skipStringMap checks that a field is a map of scalars (or null) and drops it.
type skipStringMap struct{}

// UnmarshalYAML implements yaml.Unmarshaler.
func (skipStringMap) UnmarshalYAML(n *yaml.Node) error {
	n = resolveAlias(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a map", nodeLine(n))
	}
	for _, item := range n.Content {
		if err := (skipString{}).UnmarshalYAML(item); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (skipStringMap) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || (len(b) > 0 && b[0] == '{') {
		return nil
	}
	return errors.New("expected a map")
}

// skipAny accepts and drops any value.
type skipAny struct{}

// UnmarshalYAML implements yaml.Unmarshaler.
func (skipAny) UnmarshalYAML(*yaml.Node) error { return nil }

// UnmarshalJSON implements json.Unmarshaler.
func (skipAny) UnmarshalJSON([]byte) error { return nil }

// timestamp is an RFC 3339 time, the only form Helm's JSON round trip accepts.
type timestamp struct{ time.Time }

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *timestamp) UnmarshalYAML(n *yaml.Node) error {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %w", nodeLine(n), errNotScalar)
	}
	if n.Tag == "!!null" {
		return nil
	}
	return t.parse(n.Value)
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *timestamp) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("expected a time string")
	}
	return t.parse(s)
}

func (t *timestamp) parse(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("invalid time %q: want RFC 3339", truncate(s, 64))
	}
	t.Time = v
	return nil
}

// truncate shortens s for messages, so that hostile inputs cannot make errors huge.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
