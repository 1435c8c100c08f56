package values

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// DefaultMaxBytes caps the size of merged user values (their JSON encoding) when Options.MaxBytes
// is zero: 1 MiB, the most a Secret or ConfigMap can hold (hardening D2).
const DefaultMaxBytes = 1 << 20

// ErrTooLarge reports merged user values larger than the configured limit.
var ErrTooLarge = errors.New("values are too large")

// Options are the user-supplied values of a release, in Helm's flag vocabulary. The controller
// fills ValueFiles with valuesFrom documents and spec.values; the CLI fills every field.
type Options struct {
	// ValueFiles are values documents (-f), lowest precedence first.
	ValueFiles [][]byte
	// Values are --set lines.
	Values []string
	// StringValues are --set-string lines.
	StringValues []string
	// JSONValues are --set-json lines: name=<json> pairs, or one whole JSON object.
	JSONValues []string
	// FileValues are --set-file lines (name=path); ReadFile reads the paths.
	FileValues []string
	// LiteralValues are --set-literal lines.
	LiteralValues []string
	// ReadFile reads a --set-file path. It is required only when FileValues is not empty.
	ReadFile func(path string) ([]byte, error)
	// MaxBytes caps the JSON size of the merged values: 0 means DefaultMaxBytes, a negative
	// value means no limit.
	MaxBytes int
}

// Merge combines the sources in Helm's order: -f files left to right (deep-merged), then
// --set-json, --set, --set-string, --set-file and --set-literal, each applied over what came
// before. Error texts follow Helm's. The result is checked against MaxDepth and MaxBytes.
func (o Options) Merge() (map[string]any, error) {
	base := map[string]any{}
	for i, data := range o.ValueFiles {
		doc, err := ReadValues(data)
		if err != nil {
			return nil, fmt.Errorf("failed to parse values file %d: %w", i+1, err)
		}
		base = MergeMaps(base, doc)
	}
	base, err := mergeJSONValues(base, o.JSONValues)
	if err != nil {
		return nil, err
	}
	if err := o.applySetFlags(base); err != nil {
		return nil, err
	}
	if err := CheckDepth(base); err != nil {
		return nil, err
	}
	if err := o.checkSize(base); err != nil {
		return nil, err
	}
	return base, nil
}

func mergeJSONValues(base map[string]any, lines []string) (map[string]any, error) {
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] != '{' {
			if err := ParseSetJSON(line, base); err != nil {
				return nil, &flagError{msg: "failed parsing --set-json data " + line, err: err}
			}
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(trimmed), &obj); err != nil {
			return nil, &flagError{msg: "failed parsing --set-json data JSON: " + line, err: err}
		}
		if err := CheckDepth(obj); err != nil {
			return nil, err
		}
		base = MergeMaps(base, obj)
	}
	return base, nil
}

func (o Options) applySetFlags(base map[string]any) error {
	type flag struct {
		name  string
		lines []string
		parse func(string, map[string]any) error
	}
	readFile := func(s string, dst map[string]any) error { return ParseSetFile(s, dst, o.ReadFile) }
	flags := []flag{
		{"--set", o.Values, ParseSet},
		{"--set-string", o.StringValues, ParseSetString},
		{"--set-file", o.FileValues, readFile},
		{"--set-literal", o.LiteralValues, ParseSetLiteral},
	}
	for _, f := range flags {
		for _, line := range f.lines {
			if err := f.parse(line, base); err != nil {
				return fmt.Errorf("failed parsing %s data: %w", f.name, err)
			}
		}
	}
	return nil
}

func (o Options) checkSize(v map[string]any) error {
	limit := o.MaxBytes
	if limit == 0 {
		limit = DefaultMaxBytes
	}
	if limit < 0 {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding values: %w", err)
	}
	if len(data) > limit {
		return fmt.Errorf("%w: %d bytes as JSON, the limit is %d", ErrTooLarge, len(data), limit)
	}
	return nil
}

// flagError keeps Helm's exact message (which omits the cause for --set-json) while still
// letting callers reach the cause with errors.Is and errors.As.
type flagError struct {
	msg string
	err error
}

func (e *flagError) Error() string { return e.msg }

func (e *flagError) Unwrap() error { return e.err }
