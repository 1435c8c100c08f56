package engine

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// mulSize returns a*b, or -1 when the product overflows; both must be non-negative.
func mulSize(a, b int64) int64 {
	if a != 0 && b > (1<<63-1)/a {
		return -1
	}
	return a * b
}

// addSize returns a+b, or -1 when either is -1 or the sum overflows.
func addSize(a, b int64) int64 {
	if a < 0 || b < 0 || a > (1<<63-1)-b {
		return -1
	}
	return a + b
}

// built charges a string a function built and returns it, tracked as held by the render.
func (c checked) built(fn, s string) (string, error) {
	return c.b.keep(fn, s)
}

func (c checked) repeat(count int, str string) (string, error) {
	if count > 0 {
		if err := c.b.value("repeat", mulSize(int64(count), int64(len(str)))); err != nil {
			return "", err
		}
	}
	// A negative count makes strings.Repeat panic, which text/template reports as Helm does.
	return c.built("repeat", strings.Repeat(str, count))
}

// indentSize is the length of indent(spaces, v).
func indentSize(spaces int, v string) int64 {
	lines := int64(strings.Count(v, "\n") + 1)
	return addSize(int64(len(v)), mulSize(int64(spaces), lines))
}

func (c checked) indent(spaces int, v string) (string, error) {
	if spaces > 0 {
		if err := c.b.value("indent", indentSize(spaces, v)); err != nil {
			return "", err
		}
	}
	return c.built("indent", sprigFunc[func(int, string) string]("indent")(spaces, v))
}

func (c checked) nindent(spaces int, v string) (string, error) {
	if spaces > 0 {
		if err := c.b.value("nindent", addSize(indentSize(spaces, v), 1)); err != nil {
			return "", err
		}
	}
	return c.built("nindent", sprigFunc[func(int, string) string]("nindent")(spaces, v))
}

func (c checked) replace(old, repl, src string) (string, error) {
	if len(repl) > len(old) {
		n := int64(strings.Count(src, old))
		if old == "" {
			n = int64(utf8.RuneCountInString(src) + 1)
		}
		grow := mulSize(n, int64(len(repl)-len(old)))
		if err := c.b.value("replace", addSize(int64(len(src)), grow)); err != nil {
			return "", err
		}
	}
	return c.built("replace", strings.ReplaceAll(src, old, repl))
}

// random checks the length of a random string before sprig draws it.
func (c checked) random(name string) func(int) (string, error) {
	f := sprigFunc[func(int) string](name)
	return func(n int) (string, error) {
		if n > 0 {
			if err := c.b.list(name, count(n)); err != nil {
				return "", err
			}
		}
		return c.built(name, f(n))
	}
}

func (c checked) randBytes(n int) (string, error) {
	if n > 0 {
		if err := c.b.list("randBytes", count(n)); err != nil {
			return "", err
		}
	}
	out, err := sprigFunc[func(int) (string, error)]("randBytes")(n)
	if err != nil {
		return out, err
	}
	return c.built("randBytes", out)
}

// matchStats counts the matches of re in s and their total length.
func matchStats(re *regexp.Regexp, s string) (n, total int64) {
	re.ReplaceAllStringFunc(s, func(m string) string {
		n++
		total += int64(len(m))
		return ""
	})
	return n, total
}

// refCount counts the $ references in a replacement template; each copies at most one match.
func refCount(repl string) int64 {
	return int64(strings.Count(repl, "$"))
}

// checkReplaceAll bounds the result of re.ReplaceAllString(s, repl) (or the Literal form): first
// cheaply, then, for a large input, by counting the actual matches.
func (c checked) checkReplaceAll(fn, expr, s, repl string, literal bool) error {
	refs := refCount(repl)
	if literal {
		refs = 0
	}
	slen := int64(len(s))
	bound := addSize(addSize(slen, mulSize(slen+1, int64(len(repl)))), mulSize(refs, slen))
	if bound >= 0 && bound <= c.b.limits.MaxOutputBytes {
		return c.b.err()
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil // sprig reports the bad expression itself.
	}
	n, total := matchStats(re, s)
	size := addSize(addSize(slen-total, mulSize(n, int64(len(repl)))), mulSize(refs, total))
	return c.b.value(fn, size)
}

// regexReplace wraps one of sprig's four regexReplaceAll functions.
func (c checked) regexReplace(name string, literal bool) func(string, string, string) (string, error) {
	f := sprigReplacer(name)
	return func(expr, s, repl string) (string, error) {
		if err := c.checkReplaceAll(name, expr, s, repl, literal); err != nil {
			return "", err
		}
		out, err := f(expr, s, repl)
		if err != nil {
			return out, err
		}
		return c.built(name, out)
	}
}

// sprigReplacer returns a sprig regexReplaceAll function with an error result either way.
func sprigReplacer(name string) func(string, string, string) (string, error) {
	if f, ok := sprigFuncs[name].(func(string, string, string) string); ok {
		return func(expr, s, repl string) (string, error) { return f(expr, s, repl), nil }
	}
	return sprigFunc[func(string, string, string) (string, error)](name)
}

// regexPieces checks how many strings a regexSplit or regexFindAll of s would give.
func (c checked) regexPieces(name, expr, s string, n int) error {
	if n == 0 {
		return c.b.err()
	}
	return c.pieces(name, s, n, func() int {
		re, err := regexp.Compile(expr)
		if err != nil {
			return 0
		}
		count, _ := matchStats(re, s)
		return int(count) + 1
	})
}

// regexList wraps sprig's regexSplit, regexFindAll and their must forms.
func (c checked) regexList(name string) func(string, string, int) ([]string, error) {
	f := sprigLister(name)
	return func(expr, s string, n int) ([]string, error) {
		if err := c.regexPieces(name, expr, s, n); err != nil {
			return nil, err
		}
		return f(expr, s, n)
	}
}

// sprigLister returns a sprig regexSplit or regexFindAll function with an error result either way.
func sprigLister(name string) func(string, string, int) ([]string, error) {
	if f, ok := sprigFuncs[name].(func(string, string, int) []string); ok {
		return func(expr, s string, n int) ([]string, error) { return f(expr, s, n), nil }
	}
	return sprigFunc[func(string, string, int) ([]string, error)](name)
}
