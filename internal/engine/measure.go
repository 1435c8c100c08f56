package engine

import (
	"reflect"
)

// Per-item costs of the size estimate. They only need to be the right order of magnitude: the
// estimate bounds what fmt and the encoders are about to allocate.
const (
	scalarCost = 24
	entryCost  = 4
	nilCost    = 5
)

// sizer estimates how many bytes a value takes once printed or encoded, and how deep it nests.
// It stops as soon as either bound is passed, so it never walks further than the limit allows,
// even over a structure that contains itself or shares one sub-value many times.
type sizer struct {
	size     int64
	limit    int64
	maxDepth int
	tooDeep  bool
}

// add charges n bytes and reports whether the estimate is still within the limit.
func (s *sizer) add(n int64) bool {
	s.size += n
	return s.size <= s.limit
}

// walk charges one value found at the given depth.
func (s *sizer) walk(v any, depth int) bool {
	switch x := v.(type) {
	case nil:
		return s.add(nilCost)
	case string:
		return s.add(int64(len(x)) + 2)
	case bool, int, int64, float64:
		return s.add(scalarCost)
	case map[string]any:
		return s.walkMap(x, depth)
	case []any:
		return s.walkList(x, depth)
	}
	return s.walkValue(reflect.ValueOf(v), depth)
}

func (s *sizer) enter(depth int) bool {
	if depth > s.maxDepth {
		s.tooDeep = true
		return false
	}
	return true
}

func (s *sizer) walkMap(m map[string]any, depth int) bool {
	if !s.enter(depth + 1) {
		return false
	}
	for k, e := range m {
		if !s.add(int64(len(k)+depth+entryCost)) || !s.walk(e, depth+1) {
			return false
		}
	}
	return s.add(entryCost)
}

func (s *sizer) walkList(l []any, depth int) bool {
	if !s.enter(depth + 1) {
		return false
	}
	for _, e := range l {
		if !s.add(int64(depth+entryCost)) || !s.walk(e, depth+1) {
			return false
		}
	}
	return s.add(entryCost)
}

// walkValue handles every other type through reflection, unexported struct fields included,
// since fmt prints those too.
func (s *sizer) walkValue(v reflect.Value, depth int) bool {
	switch v.Kind() {
	case reflect.Invalid:
		return s.add(nilCost)
	case reflect.String:
		return s.add(int64(v.Len()) + 2)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return s.add(nilCost)
		}
		return s.enter(depth+1) && s.walkValue(v.Elem(), depth+1)
	case reflect.Map:
		return s.walkReflectMap(v, depth)
	case reflect.Slice, reflect.Array:
		return s.walkReflectList(v, depth)
	case reflect.Struct:
		return s.walkStruct(v, depth)
	}
	return s.add(scalarCost)
}

func (s *sizer) walkReflectMap(v reflect.Value, depth int) bool {
	if !s.enter(depth + 1) {
		return false
	}
	it := v.MapRange()
	for it.Next() {
		if !s.add(int64(depth+entryCost)) || !s.walkValue(it.Key(), depth+1) || !s.walkValue(it.Value(), depth+1) {
			return false
		}
	}
	return s.add(entryCost)
}

func (s *sizer) walkReflectList(v reflect.Value, depth int) bool {
	if v.Type().Elem().Kind() == reflect.Uint8 {
		// Bytes print as decimal numbers and encode as base64: four bytes each is an upper bound.
		return s.add(int64(v.Len())*4 + 2)
	}
	if !s.enter(depth + 1) {
		return false
	}
	for i := range v.Len() {
		if !s.add(int64(depth+entryCost)) || !s.walkValue(v.Index(i), depth+1) {
			return false
		}
	}
	return s.add(entryCost)
}

func (s *sizer) walkStruct(v reflect.Value, depth int) bool {
	if !s.enter(depth + 1) {
		return false
	}
	t := v.Type()
	for i := range v.NumField() {
		if !s.add(int64(len(t.Field(i).Name)+depth+entryCost)) || !s.walkValue(v.Field(i), depth+1) {
			return false
		}
	}
	return s.add(entryCost)
}

// measure checks that the values fn is about to print or encode are small and shallow enough,
// and returns their estimated size.
func (b *budget) measure(fn string, vals ...any) (int64, error) {
	if err := b.err(); err != nil {
		return 0, err
	}
	s := sizer{limit: b.limits.MaxOutputBytes, maxDepth: b.limits.MaxValueDepth}
	for _, v := range vals {
		if s.walk(v, 0) {
			continue
		}
		if s.tooDeep {
			return 0, b.exceeded("%s was given a value nested more than %d levels deep, or one that contains itself (Limits.MaxValueDepth)",
				fn, b.limits.MaxValueDepth)
		}
		return 0, b.exceeded("%s would build more than %d bytes (Limits.MaxOutputBytes)", fn, b.limits.MaxOutputBytes)
	}
	return s.size, nil
}

// Heap costs of a deep copy: strings share their bytes with the original, so a copy costs its
// maps, lists and boxed values. Measured on Go 1.26 for map[string]any of short strings: about
// 80 bytes per entry.
const (
	copyMapCost   = 48
	copyEntryCost = 80
	copyElemCost  = 16
	copyBoxCost   = 16
)

// copyCost estimates the heap a deep copy of v takes. Call it only on a value measure accepted,
// which bounds the walk's depth and length.
func copyCost(v any) int64 {
	switch x := v.(type) {
	case map[string]any:
		n := int64(copyMapCost)
		for _, e := range x {
			n += copyEntryCost + copyCost(e)
		}
		return n
	case []any:
		n := int64(copyMapCost)
		for _, e := range x {
			n += copyElemCost + copyCost(e)
		}
		return n
	case string, bool, int, int64, float64, nil:
		return copyBoxCost
	}
	return copyCostValue(reflect.ValueOf(v))
}

// copyCostValue is copyCost for other types (common.Values, typed maps and slices, pointers).
func copyCostValue(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.Map:
		n := int64(copyMapCost)
		it := v.MapRange()
		for it.Next() {
			n += copyEntryCost + copyCostValue(it.Value())
		}
		return n
	case reflect.Slice, reflect.Array:
		n := int64(copyMapCost)
		for i := range v.Len() {
			n += copyElemCost + copyCostValue(v.Index(i))
		}
		return n
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return copyBoxCost
		}
		return copyBoxCost + copyCostValue(v.Elem())
	}
	return copyBoxCost
}
