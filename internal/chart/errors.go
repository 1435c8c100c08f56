package chart

import (
	"errors"
	"fmt"
)

// Sentinel errors let callers classify a failed load with errors.Is. The error texts themselves
// follow Helm's wording where Helm has one, so users see familiar messages.
var (
	// ErrLimitExceeded marks a chart that is larger than one of the configured Limits.
	ErrLimitExceeded = errors.New("chart size limit exceeded")
	// ErrUnsafeArchive marks an archive entry that would escape the chart, or is a link or device.
	ErrUnsafeArchive = errors.New("unsafe chart archive")
	// ErrUnsafePath marks a file in a chart directory that is a link out of the chart, a link
	// cycle, or an irregular file such as a device, socket or FIFO.
	ErrUnsafePath = errors.New("unsafe chart file")
	// ErrUnsupportedAPIVersion marks a Chart.yaml whose apiVersion is not "", "v1" or "v2".
	ErrUnsupportedAPIVersion = errors.New("unsupported chart version")
	// ErrMissingDependencies marks a chart whose Chart.yaml lists dependencies absent from charts/.
	ErrMissingDependencies = errors.New("missing chart dependencies")
)

// classified is an error with its own text that still matches one of the sentinels above.
type classified struct {
	kind error
	msg  string
}

func (e *classified) Error() string { return e.msg }

func (e *classified) Unwrap() error { return e.kind }

func errorOf(kind error, format string, args ...any) error {
	return &classified{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// ValidationError is a Chart.yaml validation failure. Its text carries Helm's "validation: "
// prefix, so messages read exactly as Helm prints them.
type ValidationError string

// Error returns the message with the "validation: " prefix.
func (v ValidationError) Error() string { return "validation: " + string(v) }

func validationErrorf(format string, args ...any) error {
	return ValidationError(fmt.Sprintf(format, args...))
}
