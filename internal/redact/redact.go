package redact

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Placeholder replaces every occurrence of a registered value.
const Placeholder = "[redacted]"

// MinLen is the length in bytes below which a value is not registered, and the shortest form
// searched for. Shorter values ("on", "443", "yes") occur by chance in ordinary messages —
// "not", "the", field names — and replacing them would shred the message that tells the user
// what is wrong, while a 1–3 byte secret is guessable anyway.
const MinLen = 4

// MinEmbedded is the shortest base64 core (in characters) searched for when a value is embedded
// inside a longer base64 text at an unknown byte alignment. The core of a value shifted by one
// or two bytes loses up to three characters at its start and one at its end, so short values
// have cores of two or three characters, which match random base64 everywhere.
const MinEmbedded = 8

// Redactor holds the values of one reconcile and replaces them in messages. The zero value is
// not usable; a nil *Redactor redacts nothing, so callers need no checks. It is safe for
// concurrent use.
type Redactor struct {
	mu      sync.Mutex
	values  map[string]struct{}
	needles map[string]struct{}
	idx     atomic.Pointer[index]
}

// New returns an empty Redactor.
func New() *Redactor {
	return &Redactor{values: map[string]struct{}{}, needles: map[string]struct{}{}}
}

// Add registers values. Values shorter than MinLen are ignored.
func (r *Redactor) Add(values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range values {
		if len(v) < MinLen {
			continue
		}
		if _, ok := r.values[v]; ok {
			continue
		}
		r.values[v] = struct{}{}
		for _, f := range forms(v) {
			if len(f) >= MinLen {
				r.needles[f] = struct{}{}
			}
		}
		changed = true
	}
	if changed {
		r.idx.Store(nil)
	}
}

// AddBytes registers byte values, as Secret data holds them.
func (r *Redactor) AddBytes(values ...[]byte) {
	for _, v := range values {
		r.Add(string(v))
	}
}

// AddLeaves registers every string leaf of a decoded YAML or JSON document (maps, lists and
// strings; numbers and booleans are not secrets worth the noise of matching them).
func (r *Redactor) AddLeaves(doc any) {
	switch t := doc.(type) {
	case string:
		r.Add(t)
	case map[string]any:
		for _, v := range t {
			r.AddLeaves(v)
		}
	case []any:
		for _, v := range t {
			r.AddLeaves(v)
		}
	case map[string]string:
		for _, v := range t {
			r.Add(v)
		}
	case []string:
		r.Add(t...)
	}
}

// AddSecret registers every value of a Secret's data and stringData. A value that is a JSON
// document (a .dockerconfigjson) has its string leaves registered too, so that a registry
// password or auth string is found on its own.
func (r *Redactor) AddSecret(data map[string][]byte, stringData map[string]string) {
	for _, v := range data {
		r.addSecretValue(v)
	}
	for _, v := range stringData {
		r.addSecretValue([]byte(v))
	}
}

func (r *Redactor) addSecretValue(v []byte) {
	r.AddBytes(v)
	if t := bytes.TrimSpace(v); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		var doc any
		if json.Unmarshal(t, &doc) == nil {
			r.AddLeaves(doc)
		}
	}
}

// Len returns the number of registered values.
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.values)
}

// Redact returns s with every registered value, in each of its forms, replaced by Placeholder.
// Overlapping and adjacent occurrences become one Placeholder.
func (r *Redactor) Redact(s string) string {
	if r == nil || len(s) < MinLen {
		return s
	}
	idx := r.index()
	if idx == nil {
		return s
	}
	return idx.replace(s)
}

// RedactCut is Redact for a text that was cut short and ends with marker (such as "..."): a
// value cut in half at the end is not found by Redact, so the longest tail of the text (at least
// MinLen bytes) that begins one of the registered forms is replaced too.
func (r *Redactor) RedactCut(s, marker string) string {
	s = r.Redact(s)
	body, ok := strings.CutSuffix(s, marker)
	if !ok || r == nil {
		return s
	}
	idx := r.index()
	if idx == nil {
		return s
	}
	if k := idx.longestCutTail(body); k > 0 {
		return body[:len(body)-k] + Placeholder + marker
	}
	return s
}

// Error returns err unchanged when its text holds no registered value, else an error whose
// text is redacted and which still unwraps to err (so errors.Is and errors.As keep working;
// code that prints a cause it unwrapped must redact it itself).
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := r.Redact(msg)
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.err }

// index returns the matcher of the current needles, building it after a change; nil when no
// value is registered.
func (r *Redactor) index() *index {
	if idx := r.idx.Load(); idx != nil {
		return idx
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if idx := r.idx.Load(); idx != nil {
		return idx
	}
	if len(r.needles) == 0 {
		return nil
	}
	idx := newIndex(r.needles)
	r.idx.Store(idx)
	return idx
}

// forms returns the spellings of v a message may carry.
func forms(v string) []string {
	out := []string{v}
	if c := strings.Join(strings.Fields(v), " "); c != v {
		out = append(out, c) // condition messages are one line
	}
	if strings.ContainsAny(v, "\n\r") {
		for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	out = append(out, escaped(v)...)
	return append(out, base64Forms(v)...)
}

// escaped returns v as JSON (with and without HTML escaping), Go (%q, %+q), single-quoted YAML
// and URL encodings write it, without the surrounding quotes. Double-quoted YAML escapes as
// JSON does for everything a Secret value realistically holds.
func escaped(v string) []string {
	var out []string
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(v) == nil {
			out = append(out, unquote(strings.TrimSuffix(b.String(), "\n")))
		}
	}
	out = append(out, unquote(strconv.Quote(v)), unquote(strconv.QuoteToASCII(v)),
		strings.ReplaceAll(v, "'", "''"), url.QueryEscape(v), url.PathEscape(v))
	return out
}

func unquote(q string) string {
	if len(q) >= 2 {
		return q[1 : len(q)-1]
	}
	return q
}

// base64Forms returns v encoded standalone (standard and URL alphabets, padded and raw) and the
// cores that stay the same wherever v sits inside a longer encoded text: v is preceded by 0, 1
// or 2 unknown bytes of its 3-byte group, and the characters those bytes (and the bytes after v)
// contribute to are left out.
func base64Forms(v string) []string {
	out := []string{
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
	}
	for shift := range 3 {
		buf := make([]byte, shift+len(v))
		copy(buf[shift:], v)
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			s := enc.EncodeToString(buf)
			s = s[[]int{0, 2, 3}[shift]:]
			if len(buf)%3 != 0 {
				s = s[:len(s)-1]
			}
			if len(s) >= MinEmbedded {
				out = append(out, s)
			}
		}
	}
	return out
}

// index finds needles by their first four bytes: a bitmap of the first two bytes rejects most
// positions of a text with one lookup, and a map holds the candidates, longest first.
type index struct {
	first    [1 << 16 / 64]uint64
	byPrefix map[uint32][]string
	maxLen   int
}

func newIndex(needles map[string]struct{}) *index {
	idx := &index{byPrefix: make(map[uint32][]string, len(needles))}
	for n := range needles {
		k2 := uint16(n[0])<<8 | uint16(n[1])
		idx.first[k2/64] |= 1 << (k2 % 64)
		k := key4(n)
		idx.byPrefix[k] = append(idx.byPrefix[k], n)
		idx.maxLen = max(idx.maxLen, len(n))
	}
	for _, list := range idx.byPrefix {
		sort.Slice(list, func(i, j int) bool {
			if len(list[i]) != len(list[j]) {
				return len(list[i]) > len(list[j])
			}
			return list[i] < list[j]
		})
	}
	return idx
}

// longestCutTail returns the length of the longest tail of body (at least MinLen bytes, shorter
// than the needle) that is a proper prefix of a needle, or 0.
func (idx *index) longestCutTail(body string) int {
	for i := max(0, len(body)-idx.maxLen); i+MinLen <= len(body); i++ {
		tail := body[i:] // tails from the longest down, so the first hit is the longest
		for _, n := range idx.byPrefix[key4(tail)] {
			if len(n) > len(tail) && strings.HasPrefix(n, tail) {
				return len(tail)
			}
		}
	}
	return 0
}

func key4(s string) uint32 {
	return uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3])
}

// replace scans s once, collecting the longest needle starting at each position, merges
// overlapping matches and replaces each merged span.
func (idx *index) replace(s string) string {
	var spans [][2]int
	for i := 0; i+MinLen <= len(s); i++ {
		k2 := uint16(s[i])<<8 | uint16(s[i+1])
		if idx.first[k2/64]&(1<<(k2%64)) == 0 {
			continue
		}
		for _, n := range idx.byPrefix[key4(s[i:])] {
			if !strings.HasPrefix(s[i:], n) {
				continue
			}
			end := i + len(n)
			if last := len(spans) - 1; last >= 0 && i <= spans[last][1] {
				spans[last][1] = max(spans[last][1], end)
			} else {
				spans = append(spans, [2]int{i, end})
			}
			break
		}
	}
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prev := 0
	for _, sp := range spans {
		b.WriteString(s[prev:sp[0]])
		b.WriteString(Placeholder)
		prev = sp[1]
	}
	b.WriteString(s[prev:])
	return b.String()
}

type ctxKey struct{}

// NewContext returns ctx carrying r, for the code that reads Secrets deep in a call chain.
func NewContext(ctx context.Context, r *Redactor) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the Redactor ctx carries, or nil (which registers and redacts nothing).
func FromContext(ctx context.Context) *Redactor {
	r, _ := ctx.Value(ctxKey{}).(*Redactor)
	return r
}
