package common

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Values is a map of values as templates see it. Its methods shadow map keys of the same name
// in templates, exactly as they do in Helm, so they are kept even where nothing in Capstan calls
// them.
type Values map[string]any

// NoTableError reports that a dotted path does not lead to a table.
type NoTableError struct {
	Key string
}

// Error implements error.
func (e NoTableError) Error() string { return fmt.Sprintf("%q is not a table", e.Key) }

// NoValueError reports that a dotted path does not lead to a value.
type NoValueError struct {
	Key string
}

// Error implements error.
func (e NoValueError) Error() string { return fmt.Sprintf("%q is not a value", e.Key) }

// YAML encodes the values as YAML.
func (v Values) YAML() (string, error) {
	b, err := yaml.Marshal(v)
	return string(b), err
}

// AsMap returns the values as a plain map, never nil.
func (v Values) AsMap() map[string]any {
	if len(v) == 0 {
		return map[string]any{}
	}
	return v
}

// Encode writes the values to w as YAML.
func (v Values) Encode(w io.Writer) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Table returns the table found at a dotted path such as "foo.bar".
func (v Values) Table(name string) (Values, error) {
	table := v
	var err error
	for _, key := range strings.Split(name, ".") {
		if table, err = table.child(key); err != nil {
			break
		}
	}
	return table, err
}

// child returns the table stored under one key.
func (v Values) child(key string) (Values, error) {
	raw, ok := v[key]
	if !ok {
		return v, NoTableError{Key: key}
	}
	switch t := raw.(type) {
	case map[string]any:
		return t, nil
	case Values:
		return t, nil
	}
	return Values{}, NoTableError{Key: key}
}

// PathValue returns the non-table value found at a dotted path such as "a.b.c".
func (v Values) PathValue(path string) (any, error) {
	if path == "" {
		return nil, errors.New("YAML path cannot be empty")
	}
	keys := strings.Split(path, ".")
	last := keys[len(keys)-1]
	table := v
	if len(keys) > 1 {
		t, err := v.Table(strings.Join(keys[:len(keys)-1], "."))
		if err != nil {
			return nil, NoValueError{Key: last}
		}
		table = t
	}
	if val, ok := table[last]; ok && !isTable(val) {
		return val, nil
	}
	return nil, NoValueError{Key: last}
}

func isTable(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}
