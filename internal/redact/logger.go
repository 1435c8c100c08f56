package redact

import (
	"fmt"

	"github.com/go-logr/logr"
)

// Logger returns log with its messages, values and errors passed through r. Keys are left
// alone (they are constants in the code). A nil r returns log as it is.
func Logger(log logr.Logger, r *Redactor) logr.Logger {
	sink := log.GetSink()
	if r == nil || sink == nil {
		return log
	}
	if s, ok := sink.(*logSink); ok && s.r == r {
		return log
	}
	if cd, ok := sink.(logr.CallDepthLogSink); ok {
		sink = cd.WithCallDepth(1) // this sink's frame, so callers are reported right
	}
	return log.WithSink(&logSink{next: sink, r: r})
}

// logSink is a logr.LogSink that redacts before it delegates.
type logSink struct {
	next logr.LogSink
	r    *Redactor
}

var _ logr.CallDepthLogSink = (*logSink)(nil)

func (s *logSink) Init(info logr.RuntimeInfo) { s.next.Init(info) }

func (s *logSink) Enabled(level int) bool { return s.next.Enabled(level) }

func (s *logSink) Info(level int, msg string, kv ...any) {
	s.next.Info(level, s.r.Redact(msg), s.values(kv)...)
}

func (s *logSink) Error(err error, msg string, kv ...any) {
	s.next.Error(s.r.Error(err), s.r.Redact(msg), s.values(kv)...)
}

func (s *logSink) WithValues(kv ...any) logr.LogSink {
	return &logSink{next: s.next.WithValues(s.values(kv)...), r: s.r}
}

func (s *logSink) WithName(name string) logr.LogSink {
	return &logSink{next: s.next.WithName(name), r: s.r}
}

func (s *logSink) WithCallDepth(depth int) logr.LogSink {
	cd, ok := s.next.(logr.CallDepthLogSink)
	if !ok {
		return s
	}
	return &logSink{next: cd.WithCallDepth(depth), r: s.r}
}

// values redacts the values of key/value pairs, leaving the keys.
func (s *logSink) values(kv []any) []any {
	if len(kv) == 0 || s.r.Len() == 0 {
		return kv
	}
	out := make([]any, len(kv))
	for i, v := range kv {
		if i%2 == 0 {
			out[i] = v
			continue
		}
		out[i] = s.value(v)
	}
	return out
}

// value redacts one logged value. Strings and errors keep their type; anything else that
// prints with a registered value in it is replaced by its redacted text.
func (s *logSink) value(v any) any {
	switch t := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v
	case string:
		return s.r.Redact(t)
	case error:
		return s.r.Error(t)
	case []byte:
		return s.r.Redact(string(t))
	}
	text := fmt.Sprintf("%+v", v)
	if red := s.r.Redact(text); red != text {
		return red
	}
	return v
}
