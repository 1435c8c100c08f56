package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Format is an output format of the -o/--output flag: table (the default), json or yaml.
type Format string

// The output formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
)

// formats lists the accepted formats, in the order the help text names them.
var formats = []Format{FormatTable, FormatJSON, FormatYAML}

// ParseFormat reads an -o value; the empty string is table.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatTable, nil
	}
	for _, f := range formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: output format %q: want one of table, json, yaml", ErrInvalidArgument, s)
}

// String returns the format's name.
func (f *Format) String() string {
	if *f == "" {
		return string(FormatTable)
	}
	return string(*f)
}

// Set parses s into f, so that a Format is a pflag.Value.
func (f *Format) Set(s string) error {
	v, err := ParseFormat(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Type names the flag's value type in help output.
func (f *Format) Type() string { return "format" }

// Encode writes v as JSON (one line, as helm's -o json) or YAML. Table output is each command's own.
func Encode(w io.Writer, f Format, v any) error {
	switch f {
	case FormatJSON:
		return json.NewEncoder(w).Encode(v)
	case FormatYAML:
		out, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = w.Write(out)
		return err
	}
	return fmt.Errorf("%w: format %q cannot encode data", ErrInvalidArgument, f)
}

// Write is the one output helper of the read commands: JSON or YAML of v through Encode, or the
// command's own table layout.
func Write[T any](w io.Writer, f Format, v T, table func(io.Writer, T) error) error {
	if f == FormatTable || f == "" {
		return table(w, v)
	}
	return Encode(w, f, v)
}
