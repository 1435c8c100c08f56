package values

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidPath reports a SetPath path that is not a single --set name.
var ErrInvalidPath = errors.New("invalid values path")

// SetPath stores v in dst at path, a name in --set syntax ("a.b", "list[2].name", with `\.`
// escaping a dot), creating maps and lists on the way exactly as --set does. It serves
// valuesFrom.targetPath: the value is stored as given, without --set's type inference. The
// path must not hold an unescaped ',' or '='.
func SetPath(dst map[string]any, path string, v any) error {
	if err := checkPath(path); err != nil {
		return err
	}
	p := newSetParser(path+"=_", func([]rune) (any, error) { return v, nil })
	if err := p.run(dst); err != nil {
		return fmt.Errorf("setting %q: %w", path, err)
	}
	return nil
}

func checkPath(path string) error {
	if path == "" {
		return fmt.Errorf("%w: the path is empty", ErrInvalidPath)
	}
	escaped := false
	for _, r := range path {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == ',' || r == '=':
			return fmt.Errorf("%w %q: unescaped %q", ErrInvalidPath, path, r)
		}
	}
	if escaped {
		return fmt.Errorf("%w %q: it ends with a backslash", ErrInvalidPath, path)
	}
	return nil
}

// errNoTable is Helm's "not a table" lookup failure; its text appears in warnings.
type errNoTable struct{ key string }

func (e errNoTable) Error() string { return fmt.Sprintf("%q is not a table", e.key) }

// errNoValue is Helm's "not a value" lookup failure.
type errNoValue struct{ key string }

func (e errNoValue) Error() string { return fmt.Sprintf("%q is not a value", e.key) }

// table walks a dotted path of maps. A missing key or a non-map value is errNoTable.
func table(v map[string]any, path string) (map[string]any, error) {
	cur := v
	for _, seg := range strings.Split(path, ".") {
		next, ok := cur[seg]
		if !ok {
			return nil, errNoTable{seg}
		}
		m, ok := next.(map[string]any)
		if !ok {
			return nil, errNoTable{seg}
		}
		cur = m
	}
	return cur, nil
}

// pathValue returns the non-map value at a dotted path. A missing key, a missing parent table
// or a map at the end are errNoValue, as in Helm (a map is "no value" for a condition).
func pathValue(v map[string]any, path string) (any, error) {
	segs := strings.Split(path, ".")
	last := segs[len(segs)-1]
	parent := v
	if len(segs) > 1 {
		t, err := table(v, strings.Join(segs[:len(segs)-1], "."))
		if err != nil {
			return nil, errNoValue{last}
		}
		parent = t
	}
	val, ok := parent[last]
	if !ok || isTable(val) {
		return nil, errNoValue{last}
	}
	return val, nil
}

// isTable reports whether v is a values map (Helm's "table").
func isTable(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}
