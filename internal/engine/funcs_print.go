package engine

import (
	"fmt"
	"reflect"
	"text/template"
)

// fmtMaxWidth is the largest width or precision fmt honours; larger ones print an error instead.
const fmtMaxWidth = 1_000_000

// printer wraps a variadic function that formats its arguments with fmt, such as quote, cat,
// print or html, so that it first measures what it is given.
func (c checked) printer(name string, f func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		if _, err := c.b.measure(name, args...); err != nil {
			return "", err
		}
		return c.built(name, f(args...))
	}
}

// encoder wraps a one-argument function that prints or encodes its argument.
func (c checked) encoder(name string, f func(any) string) func(any) (string, error) {
	return func(v any) (string, error) {
		if _, err := c.b.measure(name, v); err != nil {
			return "", err
		}
		return c.built(name, f(v))
	}
}

// mustEncoder wraps a one-argument encoder that reports its own errors.
func (c checked) mustEncoder(name string, f func(any) (string, error)) func(any) (string, error) {
	return func(v any) (string, error) {
		if _, err := c.b.measure(name, v); err != nil {
			return "", err
		}
		out, err := f(v)
		if err != nil {
			return out, err
		}
		return c.built(name, out)
	}
}

// walker wraps a one-argument function that walks its argument recursively (deepCopy and the
// list-to-strings functions), so that it never meets a value nested deeper than the limit.
func walker[R any](c checked, name string, f func(any) R) func(any) (R, error) {
	return func(v any) (R, error) {
		if _, err := c.b.measure(name, v); err != nil {
			var zero R
			return zero, err
		}
		return f(v), nil
	}
}

// merger wraps sprig's merge functions, which recurse through every map they are given.
func (c checked) merger(name string) func(map[string]any, ...map[string]any) (any, error) {
	plain, ok := sprigFuncs[name].(func(map[string]any, ...map[string]any) any)
	f := func(dst map[string]any, srcs ...map[string]any) (any, error) { return plain(dst, srcs...), nil }
	if !ok {
		f = sprigFunc[func(map[string]any, ...map[string]any) (any, error)](name)
	}
	return func(dst map[string]any, srcs ...map[string]any) (any, error) {
		args := make([]any, 0, len(srcs)+1)
		args = append(args, dst)
		for _, s := range srcs {
			args = append(args, s)
		}
		if _, err := c.b.measure(name, args...); err != nil {
			return nil, err
		}
		return f(dst, srcs...)
	}
}

func (c checked) join(sep string, v any) (string, error) {
	size, err := c.b.measure("join", v)
	if err != nil {
		return "", err
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		size = addSize(size, mulSize(int64(rv.Len()), int64(len(sep))))
	}
	if err := c.b.value("join", size); err != nil {
		return "", err
	}
	return c.built("join", sprigFunc[func(string, any) string]("join")(sep, v))
}

func (c checked) printf(format string, args ...any) (string, error) {
	size, err := c.b.measure("printf", args...)
	if err != nil {
		return "", err
	}
	size = addSize(size, addSize(int64(len(format)), formatWidths(format, args)))
	if err := c.b.value("printf", size); err != nil {
		return "", err
	}
	return c.built("printf", fmt.Sprintf(format, args...))
}

// formatWidths adds up the widths and precisions a fmt format asks for, reading each '*' as the
// largest integer argument. It over-estimates (argument indexes count as widths), which is fine
// for a bound.
func formatWidths(format string, args []any) int64 {
	var total, num int64
	inVerb := false
	for i := 0; i < len(format); i++ {
		ch := format[i]
		switch {
		case !inVerb:
			inVerb = ch == '%'
		case ch >= '0' && ch <= '9':
			num = min(num*10+int64(ch-'0'), fmtMaxWidth)
		case ch == '*':
			total += largestInt(args)
		case ch == '.' || ch == '[' || ch == ']' || ch == '+' || ch == '-' || ch == '#' || ch == ' ':
			total, num = total+num, 0
		default:
			total, num, inVerb = total+num, 0, false
		}
	}
	return total + num
}

// largestInt returns the largest integer argument that fmt would accept as a '*' width.
func largestInt(args []any) int64 {
	var largest int64
	for _, a := range args {
		v := reflect.ValueOf(a)
		var n int64
		switch {
		case v.CanInt():
			n = v.Int()
		case v.CanUint() && v.Uint() <= fmtMaxWidth:
			n = int64(v.Uint()) //nolint:gosec // at most fmtMaxWidth, checked above.
		}
		if n < 0 {
			n = -n
		}
		if n <= fmtMaxWidth && n > largest {
			largest = n
		}
	}
	return largest
}

// printingFuncs returns the checked versions of every function that formats or encodes values.
func (c checked) printingFuncs() template.FuncMap {
	m := template.FuncMap{
		"printf":   c.printf,
		"print":    c.printer("print", fmt.Sprint),
		"println":  c.printer("println", fmt.Sprintln),
		"html":     c.printer("html", template.HTMLEscaper),
		"js":       c.printer("js", template.JSEscaper),
		"urlquery": c.printer("urlquery", template.URLQueryEscaper),
		"join":     c.join,

		"toJson":       c.encoder("toJson", toJSON),
		"mustToJson":   c.mustEncoder("mustToJson", mustToJSON),
		"toYaml":       c.encoder("toYaml", toYAML),
		"mustToYaml":   c.mustEncoder("mustToYaml", mustToYAML),
		"toYamlPretty": c.encoder("toYamlPretty", toYAMLPretty),
		"toToml":       c.encoder("toToml", toTOML),
		"mustToToml":   c.mustEncoder("mustToToml", mustToTOML),

		"toDecimal":    walker(c, "toDecimal", sprigFunc[func(any) int64]("toDecimal")),
		"toStrings":    walker(c, "toStrings", sprigFunc[func(any) []string]("toStrings")),
		"sortAlpha":    walker(c, "sortAlpha", sprigFunc[func(any) []string]("sortAlpha")),
		"deepCopy":     c.copier("deepCopy", sprigFunc[func(any) any]("deepCopy")),
		"mustDeepCopy": c.mustWalker("mustDeepCopy"),

		"merge":              c.merger("merge"),
		"mustMerge":          c.merger("mustMerge"),
		"mergeOverwrite":     c.merger("mergeOverwrite"),
		"mustMergeOverwrite": c.merger("mustMergeOverwrite"),
	}
	for _, name := range []string{"quote", "squote", "cat"} {
		m[name] = c.printer(name, sprigFunc[func(...any) string](name))
	}
	for _, name := range []string{"toString", "toPrettyJson", "toRawJson"} {
		m[name] = c.encoder(name, sprigFunc[func(any) string](name))
	}
	for _, name := range []string{"mustToPrettyJson", "mustToRawJson"} {
		m[name] = c.mustEncoder(name, sprigFunc[func(any) (string, error)](name))
	}
	return m
}

// copier wraps sprig's deepCopy: a copy may be kept (in a list, a map), and the maps and lists
// it holds are not tracked, so their heap size counts as held from then on.
func (c checked) copier(name string, f func(any) any) func(any) (any, error) {
	return func(v any) (any, error) {
		if err := c.chargeCopy(name, v); err != nil {
			return nil, err
		}
		return f(v), nil
	}
}

// mustWalker wraps sprig's mustDeepCopy, charged as deepCopy is.
func (c checked) mustWalker(name string) func(any) (any, error) {
	f := sprigFunc[func(any) (any, error)](name)
	return func(v any) (any, error) {
		if err := c.chargeCopy(name, v); err != nil {
			return nil, err
		}
		return f(v)
	}
}

// chargeCopy checks that v is small and shallow enough to copy, then charges the heap its copy
// takes.
func (c checked) chargeCopy(name string, v any) error {
	if _, err := c.b.measure(name, v); err != nil {
		return err
	}
	return c.b.grow(name, copyCost(v))
}

// buildingFuncs returns the checked versions of the functions that build lists and strings.
func (c checked) buildingFuncs() template.FuncMap {
	m := template.FuncMap{
		"until":     c.until,
		"untilStep": c.untilStep,
		"seq":       c.seq,
		"concat":    c.concat,
		"split":     c.split,
		"splitList": c.splitList,
		"splitn":    c.splitn,
		"uniq":      c.uniq,
		"mustUniq":  c.mustUniq,
		"repeat":    c.repeat,
		"indent":    c.indent,
		"nindent":   c.nindent,
		"replace":   c.replace,
		"randBytes": c.randBytes,
		"set":       c.set,
	}
	for _, name := range []string{"randAlphaNum", "randAlpha", "randAscii", "randNumeric"} {
		m[name] = c.random(name)
	}
	for name, literal := range map[string]bool{
		"regexReplaceAll": false, "mustRegexReplaceAll": false,
		"regexReplaceAllLiteral": true, "mustRegexReplaceAllLiteral": true,
	} {
		m[name] = c.regexReplace(name, literal)
	}
	for _, name := range []string{"regexSplit", "mustRegexSplit", "regexFindAll", "mustRegexFindAll"} {
		m[name] = c.regexList(name)
	}
	return m
}

// set is sprig's set, charging a new key to the map growth the budget counts as held.
func (c checked) set(d map[string]any, key string, value any) (map[string]any, error) {
	if _, ok := d[key]; !ok && d != nil {
		if err := c.b.grow("set", int64(setEntryCost+len(key))); err != nil {
			return nil, err
		}
	}
	return sprigFunc[func(map[string]any, string, any) map[string]any]("set")(d, key, value), nil
}
