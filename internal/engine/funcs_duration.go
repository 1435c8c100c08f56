package engine

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Bounds of a duration expressed in whole or fractional seconds.
const (
	maxWholeSeconds = math.MaxInt64 / int64(time.Second)
	minWholeSeconds = math.MinInt64 / int64(time.Second)
	maxFloatSeconds = float64(math.MaxInt64) / float64(time.Second)
	minFloatSeconds = float64(math.MinInt64) / float64(time.Second)
)

// asDuration reads a template value as a duration: a time.Duration, a Go duration string, a
// numeric string or a number (both read as seconds).
func asDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case nil:
		return 0, errors.New("invalid duration")
	case time.Duration:
		return x, nil
	case string:
		return stringDuration(x)
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		return secondsFromInt(rv.Int())
	case rv.CanUint():
		if rv.Uint() > uint64(maxWholeSeconds) {
			return 0, fmt.Errorf("duration seconds overflow: %d", rv.Uint())
		}
		return time.Duration(rv.Uint()) * time.Second, nil //nolint:gosec // bounded by maxWholeSeconds just above.
	case rv.CanFloat():
		return secondsFromFloat(rv.Float())
	}
	return 0, fmt.Errorf("unsupported duration type %T", v)
}

// stringDuration parses "1h2m" style strings first and plain numbers of seconds second.
func stringDuration(s string) (time.Duration, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return 0, errors.New("empty duration")
	}
	if d, err := time.ParseDuration(trimmed); err == nil {
		return d, nil
	}
	if f, err := strconv.ParseFloat(trimmed, 64); err == nil {
		return secondsFromFloat(f)
	}
	return 0, fmt.Errorf("could not parse duration %q", s)
}

func secondsFromInt(n int64) (time.Duration, error) {
	if n > maxWholeSeconds || n < minWholeSeconds {
		return 0, fmt.Errorf("duration seconds overflow: %d", n)
	}
	return time.Duration(n) * time.Second, nil
}

func secondsFromFloat(f float64) (time.Duration, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid duration seconds: %v", f)
	}
	if f > maxFloatSeconds || f < minFloatSeconds {
		return 0, fmt.Errorf("duration seconds overflow: %v", f)
	}
	nanos := f * float64(time.Second)
	if nanos > float64(math.MaxInt64) || nanos < float64(math.MinInt64) {
		return 0, fmt.Errorf("duration nanoseconds overflow: %v", nanos)
	}
	return time.Duration(nanos), nil
}

// durationOrZero is asDuration with failures read as zero, as the non-must helpers do.
func durationOrZero(v any) time.Duration {
	d, err := asDuration(v)
	if err != nil {
		return 0
	}
	return d
}

// durationFuncs returns the duration helpers Helm v4.3 added.
func durationFuncs() map[string]any {
	return map[string]any{
		"mustToDuration":       asDuration,
		"durationSeconds":      func(v any) float64 { return durationOrZero(v).Seconds() },
		"durationMilliseconds": func(v any) int64 { return durationOrZero(v).Milliseconds() },
		"durationMicroseconds": func(v any) int64 { return durationOrZero(v).Microseconds() },
		"durationNanoseconds":  func(v any) int64 { return durationOrZero(v).Nanoseconds() },
		"durationMinutes":      func(v any) float64 { return durationOrZero(v).Minutes() },
		"durationHours":        func(v any) float64 { return durationOrZero(v).Hours() },
		"durationDays":         func(v any) float64 { return durationOrZero(v).Hours() / 24 },
		"durationWeeks":        func(v any) float64 { return durationOrZero(v).Hours() / 24 / 7 },
		"durationRoundTo":      func(v, m any) time.Duration { return durationStep(v, m, time.Duration.Round) },
		"durationTruncateTo":   func(v, m any) time.Duration { return durationStep(v, m, time.Duration.Truncate) },
	}
}

// durationStep applies Round or Truncate; a bad value gives 0 and a bad multiple leaves v as is.
func durationStep(v, m any, op func(time.Duration, time.Duration) time.Duration) time.Duration {
	d, err := asDuration(v)
	if err != nil {
		return 0
	}
	step, err := asDuration(m)
	if err != nil {
		return d
	}
	return op(d, step)
}
