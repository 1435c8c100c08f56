package cli

import (
	"fmt"
	"io"
	"time"
)

// Progress shows what a wait sees. On a terminal it keeps one line that it rewrites at every poll
// (carriage return, erase the line) with the time waited so far, so the user sees the wait is alive
// and what the Release says now; the last state stays on screen when the wait ends. Elsewhere
// (a pipe, a file, CI logs) it prints a plain line each time the state changes, and nothing while
// it does not, so logs hold no carriage returns and no repeated lines.
type Progress struct {
	w        io.Writer
	terminal bool
	width    int
	start    time.Time
	now      func() time.Time
	last     string
	shown    bool
}

// NewProgress returns a display writing to w; terminal says whether w is a terminal, width is its
// number of columns (80 when unknown or zero).
func NewProgress(w io.Writer, terminal bool, width int) *Progress {
	if width <= 0 {
		width = 80
	}
	return &Progress{w: w, terminal: terminal, width: width, start: time.Now(), now: time.Now}
}

// Show displays the current state, line, of what is being waited for.
func (p *Progress) Show(line string) {
	if !p.terminal {
		if line != p.last {
			fmt.Fprintln(p.w, line)
		}
		p.last = line
		return
	}
	text := fmt.Sprintf("[%s] %s", p.now().Sub(p.start).Truncate(time.Second), line)
	// Keep the line shorter than the terminal, or it wraps and the carriage return rewrites only
	// its last row.
	if runes := []rune(text); len(runes) > p.width-1 {
		text = string(runes[:p.width-2]) + "…"
	}
	fmt.Fprint(p.w, "\r\x1b[K"+text)
	p.last, p.shown = line, true
}

// Done ends the display: on a terminal the rewritten line is closed with a newline, so what comes
// next starts on its own line.
func (p *Progress) Done() {
	if p.terminal && p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
