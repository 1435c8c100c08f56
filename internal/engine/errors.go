package engine

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
)

// failure is the error of required and fail. Helm reports it as "execution error at (<where>):
// <message>", where <where> is the outermost call site, whatever include or tpl it came through.
type failure struct {
	msg string
}

// Error implements error.
func (f *failure) Error() string { return f.msg }

// parseError reports a template that does not parse, in Helm's words: the location is the second
// ": "-separated part of text/template's message and the reason its last part.
func parseError(name string, err error) error {
	parts := strings.Split(err.Error(), ": ")
	if len(parts) == 1 {
		return fmt.Errorf("parse error in (%s): %w", name, err)
	}
	return fmt.Errorf("parse error at (%s): %s", parts[1], parts[len(parts)-1])
}

// execError turns an execution error of the named file into Helm v4's text: required and fail
// give a one-line "execution error at", other text/template errors a multi-line trace, and
// errors whose chain cannot be traced (such as those that went through tpl) stay as they are.
func execError(name string, err error) error {
	var ee template.ExecError
	if !errors.As(err, &ee) {
		return err
	}
	parts := strings.SplitN(err.Error(), ": ", 3)
	if len(parts) != 3 {
		return fmt.Errorf("execution error in (%s): %w", name, err)
	}
	var f *failure
	if errors.As(err, &f) {
		return fmt.Errorf("execution error at (%s): %s", parts[1], f.msg)
	}
	trace, ok := traceOf(err)
	if !ok {
		return err
	}
	return errors.New(trace)
}

// frame is one level of a traced execution error.
type frame struct {
	location string // "file:line:col"
	call     string // `executing "name" at <node>:`
	message  string
}

func (f frame) text() string {
	var sb strings.Builder
	if f.location != "" {
		sb.WriteString(f.location + "\n  ")
	}
	if f.call != "" {
		sb.WriteString(f.call + "\n    ")
	}
	if f.message != "" {
		sb.WriteString(f.message + "\n")
	}
	return sb.String()
}

// traceOf walks the chain of wrapped errors and renders one frame for each distinct level. Any
// level that is not a text/template message makes the whole chain untraceable.
func traceOf(err error) (string, bool) {
	var frames []frame
	for e := err; e != nil; e = errors.Unwrap(e) {
		f, ok := parseFrame(e.Error())
		if !ok {
			return "", false
		}
		if len(frames) == 0 || frames[len(frames)-1] != f {
			frames = append(frames, f)
		}
	}
	var sb strings.Builder
	for _, f := range frames {
		sb.WriteString(f.text())
	}
	return strings.TrimSpace(sb.String()), true
}

// parseFrame reads one text/template error message: "template: no template ...", "template:
// <loc>: executing "<name>" at <<node>>: <msg>" or "template: <loc>: <msg>". The message stops
// before any nested " template:" part, which the next level of the chain shows.
func parseFrame(s string) (frame, bool) {
	rest, ok := strings.CutPrefix(s, "template: ")
	if !ok {
		return frame{}, false
	}
	if strings.HasPrefix(rest, "no template ") {
		return frame{message: s}, true
	}
	if f, ok := parseExecutingFrame(rest); ok {
		return f, true
	}
	sep := strings.LastIndex(rest, ": ")
	if sep < 0 {
		return frame{}, false
	}
	return frame{location: rest[:sep], message: cutNested(rest[sep+2:])}, true
}

func parseExecutingFrame(rest string) (frame, bool) {
	loc, after, ok := strings.Cut(rest, ": executing ")
	if !ok || !strings.HasPrefix(after, `"`) {
		return frame{}, false
	}
	end := strings.IndexByte(after[1:], '"')
	if end < 0 {
		return frame{}, false
	}
	name := after[1 : end+1]
	node, ok := strings.CutPrefix(after[end+2:], " at <")
	if !ok {
		return frame{}, false
	}
	node, msg, ok := strings.Cut(node, ">: ")
	if !ok {
		return frame{}, false
	}
	return frame{
		location: loc,
		call:     `executing "` + name + `" at <` + node + ">:",
		message:  cutNested(msg),
	}, true
}

func cutNested(msg string) string {
	if i := strings.Index(msg, " template:"); i >= 0 {
		return msg[:i]
	}
	return msg
}

// innermostLocation returns the "file:line:col" of the deepest text/template level of err, which
// is where a limit was hit.
func innermostLocation(err error) string {
	loc := ""
	for e := err; e != nil; e = errors.Unwrap(e) {
		rest, ok := strings.CutPrefix(e.Error(), "template: ")
		if !ok {
			continue
		}
		if l, _, ok := strings.Cut(rest, ": "); ok && !strings.HasPrefix(rest, "no template ") {
			loc = l
		}
	}
	return loc
}

// located prefixes a stopping cause with where the template was when it stopped.
func located(name string, err, cause error) error {
	loc := innermostLocation(err)
	if loc == "" {
		loc = name
	}
	return fmt.Errorf("%s: %w", loc, cause)
}
