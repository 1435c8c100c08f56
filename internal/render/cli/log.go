package cli

import (
	"io"
	"log/slog"
)

// newLogger returns the logger the commands print Helm's warnings with: slog's text format
// without timestamps ("level=WARN msg=..."), which is what helm v4 prints on stderr.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}
