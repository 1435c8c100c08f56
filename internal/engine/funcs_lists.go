package engine

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
)

// sprigFuncs is sprig's text function map, read once.
var sprigFuncs = sprig.TxtFuncMap()

// sprigFunc returns one of sprig's functions with its expected type. A mismatch is a programming
// error (a different sprig version), caught by the package tests, never by input.
func sprigFunc[T any](name string) T {
	f, ok := sprigFuncs[name].(T)
	if !ok {
		panic(fmt.Sprintf("engine: sprig function %q has type %T", name, sprigFuncs[name]))
	}
	return f
}

// uniqFastPath is the list length above which uniq runs Capstan's linear version instead of
// sprig's quadratic one. Both give the same result.
const uniqFastPath = 256

// checked holds the versions of the functions that can build large values or run long: each
// checks the render's budget before it allocates.
type checked struct {
	b *budget
}

// stepCount returns how many values sprig's untilStep(start, stop, step) yields, computed without
// overflow (sprig's own loop never ends when i+step overflows; Capstan's stops at stop).
func stepCount(start, stop, step int) uint64 {
	switch {
	case stop < start && step < 0:
		// Two's complement arithmetic gives the exact distance even across zero.
		span := uint64(start) - uint64(stop) //nolint:gosec // deliberate wrap-around, see above.
		abs := uint64(-(step + 1)) + 1       //nolint:gosec // -(step+1) >= 0 since step < 0.
		return span/abs + boolToUint(span%abs != 0)
	case stop > start && step > 0:
		span := uint64(stop) - uint64(start) //nolint:gosec // deliberate wrap-around, as above.
		return span/uint64(step) + boolToUint(span%uint64(step) != 0)
	}
	return 0
}

// count converts a length to uint64; negative lengths count as zero.
func count(n int) uint64 {
	if n < 0 {
		return 0
	}
	return uint64(n)
}

func boolToUint(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// stepValues builds the n values start, start+step, ...
func stepValues(start, step int, n uint64) []int {
	out := make([]int, n)
	v := start
	for i := range out {
		out[i] = v
		v += step
	}
	return out
}

func (c checked) untilStep(start, stop, step int) ([]int, error) {
	n := stepCount(start, stop, step)
	if err := c.b.list("untilStep", n); err != nil {
		return nil, err
	}
	return stepValues(start, step, n), nil
}

func (c checked) until(count int) ([]int, error) {
	step := 1
	if count < 0 {
		step = -1
	}
	n := stepCount(0, count, step)
	if err := c.b.list("until", n); err != nil {
		return nil, err
	}
	return stepValues(0, step, n), nil
}

// seqRange turns seq's 1, 2 or 3 parameters into untilStep's start, stop and step, as sprig does
// (including its wrap-around when end is at the edge of int).
func seqRange(p []int) (start, stop, step int, ok bool) {
	switch len(p) {
	case 1:
		start, step = 1, 1
		if p[0] < start {
			step = -1
		}
		return start, p[0] + step, step, true
	case 2:
		step = 1
		if p[1] < p[0] {
			step = -1
		}
		return p[0], p[1] + step, step, true
	case 3:
		inc := 1
		if p[2] < p[0] {
			inc = -1
			if p[1] > 0 {
				return 0, 0, 0, false
			}
		}
		return p[0], p[2] + inc, p[1], true
	}
	return 0, 0, 0, false
}

func (c checked) seq(params ...int) (string, error) {
	start, stop, step, ok := seqRange(params)
	if !ok {
		return "", nil
	}
	n := stepCount(start, stop, step)
	if err := c.b.list("seq", n); err != nil {
		return "", err
	}
	var sb strings.Builder
	for i, v := range stepValues(start, step, n) {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.Itoa(v))
	}
	return sb.String(), nil
}

// concat checks the total length before sprig joins the lists.
func (c checked) concat(lists ...any) (any, error) {
	var total uint64
	for _, l := range lists {
		v := reflect.ValueOf(l)
		if v.Kind() == reflect.Slice || v.Kind() == reflect.Array {
			total += count(v.Len())
		}
	}
	if err := c.b.list("concat", total); err != nil {
		return nil, err
	}
	return sprigFunc[func(...any) any]("concat")(lists...), nil
}

// splitCount returns how many pieces strings.Split(s, sep) gives.
func splitCount(s, sep string) int {
	if sep == "" {
		return utf8.RuneCountInString(s)
	}
	return strings.Count(s, sep) + 1
}

// pieces checks how many pieces a split of s would give; short strings cannot give too many.
func (c checked) pieces(fn, s string, limit int, countPieces func() int) error {
	if len(s) < c.b.limits.MaxListLength {
		return c.b.err()
	}
	n := countPieces()
	if limit > 0 && n > limit {
		n = limit
	}
	return c.b.list(fn, count(n))
}

func (c checked) split(sep, orig string) (map[string]string, error) {
	if err := c.pieces("split", orig, -1, func() int { return splitCount(orig, sep) }); err != nil {
		return nil, err
	}
	return sprigFunc[func(string, string) map[string]string]("split")(sep, orig), nil
}

func (c checked) splitList(sep, orig string) ([]string, error) {
	if err := c.pieces("splitList", orig, -1, func() int { return splitCount(orig, sep) }); err != nil {
		return nil, err
	}
	return strings.Split(orig, sep), nil
}

func (c checked) splitn(sep string, n int, orig string) (map[string]string, error) {
	if err := c.pieces("splitn", orig, n, func() int { return splitCount(orig, sep) }); err != nil {
		return nil, err
	}
	return sprigFunc[func(string, int, string) map[string]string]("splitn")(sep, n, orig), nil
}

// uniq removes duplicates as sprig does (first occurrence kept, reflect.DeepEqual equality),
// but in linear time for long lists of scalars.
func (c checked) uniq(list any) ([]any, error) {
	v := reflect.ValueOf(list)
	if (v.Kind() != reflect.Slice && v.Kind() != reflect.Array) || v.Len() <= uniqFastPath {
		return sprigFunc[func(any) []any]("uniq")(list), nil
	}
	return c.uniqLong(v)
}

func (c checked) mustUniq(list any) ([]any, error) {
	v := reflect.ValueOf(list)
	if (v.Kind() != reflect.Slice && v.Kind() != reflect.Array) || v.Len() <= uniqFastPath {
		return sprigFunc[func(any) ([]any, error)]("mustUniq")(list)
	}
	return c.uniqLong(v)
}

// uniqLong keeps a hash set for values whose equality is plain ==, and compares the rest with
// reflect.DeepEqual against earlier values of the same kind only (DeepEqual of different dynamic
// types is always false), checking the deadline as it goes.
func (c checked) uniqLong(v reflect.Value) ([]any, error) {
	out := []any{}
	seen := map[any]struct{}{}
	var others []any
	for i := range v.Len() {
		if i%1024 == 0 {
			if err := c.b.err(); err != nil {
				return nil, err
			}
		}
		item := v.Index(i).Interface()
		if isScalar(item) {
			if _, dup := seen[item]; !dup {
				seen[item] = struct{}{}
				out = append(out, item)
			}
			continue
		}
		if !c.deepContains(others, item) {
			others = append(others, item)
			out = append(out, item)
		}
	}
	return out, c.b.err()
}

func (c checked) deepContains(list []any, item any) bool {
	for i, e := range list {
		if i%1024 == 0 && c.b.err() != nil {
			return false
		}
		if reflect.DeepEqual(e, item) {
			return true
		}
	}
	return false
}

// isScalar reports whether == on v agrees with reflect.DeepEqual (NaN aside, which is never
// equal to itself under either).
func isScalar(v any) bool {
	if v == nil {
		return false
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	}
	return false
}
