package engine

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine/internal/common"
)

// ReleaseOptions is what .Release shows: the release name and namespace, its revision, and
// whether this render is for an install or an upgrade.
type ReleaseOptions struct {
	Name      string
	Namespace string
	Revision  int
	IsInstall bool
	IsUpgrade bool
}

// Lookup reads one object (name set) or a list (name empty) from the cluster for the lookup
// template function. It returns the object as an unstructured map, an empty map when nothing is
// found, and an error only for real failures, which fail the render.
type Lookup interface {
	Lookup(ctx context.Context, apiVersion, kind, namespace, name string) (map[string]any, error)
}

// Options configure one render.
type Options struct {
	// Release fills .Release.
	Release ReleaseOptions
	// Capabilities fills .Capabilities; nil means DefaultCapabilities().
	Capabilities *Capabilities
	// Lookup serves the lookup function; nil makes lookup return {} as helm template does.
	Lookup Lookup
	// LintMode makes required and fail log and return "" instead of failing, as helm lint does.
	LintMode bool
	// Strict makes a missing map key an error (text/template's missingkey=error).
	Strict bool
	// Timeout bounds the whole render; 0 means 30 seconds.
	Timeout time.Duration
	// MaxIncludeDepth caps how deeply one include name (and tpl) may nest; 0 means Helm's 1000.
	MaxIncludeDepth int
	// Limits bound the resources one render may use; zero fields take their defaults.
	Limits Limits
	// Templates, when set, keeps the parsed templates of each chart for later renders of the
	// same templates; nil parses them for this render only.
	Templates *TemplateCache
}

// Render renders every template of chart c and its subcharts with the coalesced root values and
// returns each executed template's output by name (for example mychart/templates/x.yaml or
// mychart/charts/sub/templates/y.yaml), with "<no value>" removed. Partials (base name starting
// with "_") are parsed but not returned; NOTES.txt files are returned like any other template.
//
// Errors carry Helm v4.3.1's exact texts. A render that runs past its deadline fails with
// ErrTimeout, one that goes past a limit with ErrLimit; a cancelled ctx stops the render too.
func Render(ctx context.Context, c *chart.Chart, values map[string]any, opts Options) (map[string]string, error) {
	if c == nil {
		return nil, errors.New("render: no chart")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	b := newBudget(opts.Limits)
	r := newRenderer(rctx, b, opts)
	ended := func() error { return deadlineError(ctx, timeout) }
	done := make(chan result, 1)
	go func() { done <- r.run(c, values, ended) }()

	select {
	case res := <-done:
		return res.out, res.err
	case <-rctx.Done():
		err := ended()
		b.stop(err)
		return nil, err
	}
}

// deadlineError says why a render's context ended: the caller cancelled it or its deadline passed.
func deadlineError(parent context.Context, timeout time.Duration) error {
	if parent.Err() != nil {
		return fmt.Errorf("render cancelled: %w", context.Cause(parent))
	}
	return fmt.Errorf("%w after %s", ErrTimeout, timeout)
}

// result is what the render goroutine hands back.
type result struct {
	out map[string]string
	err error
}

// renderer holds the state of one render. Everything but the budget's stop flag is used by the
// render goroutine only.
type renderer struct {
	ctx        context.Context
	opts       Options
	b          *budget
	guard      *guard
	includes   map[string]int
	tplDepth   int
	maxInclude int
}

func newRenderer(ctx context.Context, b *budget, opts Options) *renderer {
	maxInclude := opts.MaxIncludeDepth
	if maxInclude <= 0 {
		maxInclude = defaultMaxIncludeDepth
	}
	return &renderer{
		ctx:        ctx,
		opts:       opts,
		b:          b,
		guard:      newGuard(b),
		includes:   map[string]int{},
		maxInclude: maxInclude,
	}
}

func (r *renderer) logger() logr.Logger {
	return logr.FromContextOrDiscard(r.ctx)
}

func (r *renderer) missingKey() string {
	if r.opts.Strict {
		return "missingkey=error"
	}
	return "missingkey=zero"
}

// valueWriter returns a buffer for include and tpl: bounded, and not counted as output.
func (r *renderer) valueWriter() *outputWriter {
	return &outputWriter{b: r.b, max: r.b.limits.MaxOutputBytes}
}

// run renders on the render goroutine and turns a panic into Helm's error.
func (r *renderer) run(c *chart.Chart, values map[string]any, ended func() error) (res result) {
	stop := context.AfterFunc(r.ctx, func() { r.b.stop(ended()) })
	defer stop()
	defer func() {
		if p := recover(); p != nil {
			res = result{err: fmt.Errorf("rendering template failed: %v", p)}
		}
	}()
	sources, err := r.collect(c, values)
	if err != nil {
		return result{err: err}
	}
	out, err := r.render(sources)
	return result{out: out, err: err}
}

// collect builds every chart's context and gathers the templates.
func (r *renderer) collect(c *chart.Chart, values map[string]any) (map[string]source, error) {
	caps := r.opts.Capabilities
	if caps == nil {
		caps = DefaultCapabilities()
	}
	col := &collector{
		release: map[string]any{
			"Name":      r.opts.Release.Name,
			"Namespace": r.opts.Release.Namespace,
			"IsUpgrade": r.opts.Release.IsUpgrade,
			"IsInstall": r.opts.Release.IsInstall,
			"Revision":  r.opts.Release.Revision,
			"Service":   "Helm",
		},
		caps:    caps.Copy(),
		sources: map[string]source{},
	}
	root, _ := copyValue(values).(map[string]any)
	if root == nil {
		root = map[string]any{}
	}
	if _, err := col.chartContext(c, nil, common.Values(root)); err != nil {
		return nil, err
	}
	return col.sources, nil
}

// render parses every template into one set (or takes it from the cache), guards it, and
// executes the non-partials of its own clone in order.
func (r *renderer) render(sources map[string]source) (map[string]string, error) {
	names := parseOrder(sources)
	p, err := r.parsed(sources, names)
	if err != nil {
		return nil, err
	}
	t, err := p.set.Clone()
	if err != nil {
		return nil, fmt.Errorf("cannot clone templates: %w", err)
	}
	t.Funcs(r.funcMap(t))
	t.Funcs(r.guard.funcs())
	r.guard.use(p)

	out := make(map[string]string, len(names))
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		src := sources[name]
		src.ctx["Template"] = common.Values{"Name": name, "BasePath": src.basePath}
		w := &outputWriter{b: r.b, max: r.b.limits.MaxOutputBytes, out: true}
		if err := t.ExecuteTemplate(w, name, src.ctx); err != nil {
			if cause := r.b.err(); cause != nil {
				return nil, located(name, err, cause)
			}
			return nil, execError(name, err)
		}
		out[name] = strings.ReplaceAll(w.buf.String(), "<no value>", "")
	}
	return out, nil
}

// parsed returns the guarded template set of sources, from the cache when one is configured.
func (r *renderer) parsed(sources map[string]source, names []string) (*parsedSet, error) {
	cache := r.opts.Templates
	if cache == nil {
		return parseSources(sources, names, r.missingKey())
	}
	key := sourcesKey(sources, names, r.missingKey())
	if p := cache.get(key); p != nil {
		return p, nil
	}
	p, err := parseSources(sources, names, r.missingKey())
	if err != nil {
		return nil, err
	}
	cache.put(key, p)
	return p, nil
}

// copyValue deep-copies the maps and lists of a values tree, so templates that modify .Values
// (set, merge, ...) never change the caller's values. Other types are shared.
func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}
