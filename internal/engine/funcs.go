package engine

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"text/template"
)

// baseFuncs is sprig's text function map without env and expandenv, plus Helm's functions that
// need nothing from a render. Render-bound and checked functions are added per render.
var baseFuncs = func() template.FuncMap {
	f := maps.Clone(sprigFuncs)
	delete(f, "env")
	delete(f, "expandenv")
	maps.Copy(f, template.FuncMap{
		"toToml":        toTOML,
		"mustToToml":    mustToTOML,
		"fromToml":      fromTOML,
		"toYaml":        toYAML,
		"mustToYaml":    mustToYAML,
		"toYamlPretty":  toYAMLPretty,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"mustToJson":    mustToJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"getHostByName": func(string) string { return "" },
	})
	maps.Copy(f, durationFuncs())
	return f
}()

// funcMap returns the functions of one render whose root template is t.
func (r *renderer) funcMap(t *template.Template) template.FuncMap {
	f := maps.Clone(baseFuncs)
	c := checked{b: r.b}
	maps.Copy(f, c.buildingFuncs())
	maps.Copy(f, c.printingFuncs())
	f["include"] = r.includeFunc(t)
	f["tpl"] = r.tplFunc(t)
	f["required"] = r.required
	f["fail"] = r.fail
	f["lookup"] = r.lookup
	return f
}

// includeFunc returns include bound to the template set t. Like Helm it counts how deeply each
// name is nested and refuses to go past MaxIncludeDepth.
func (r *renderer) includeFunc(t *template.Template) func(string, any) (string, error) {
	return func(name string, data any) (string, error) {
		if r.includes[name] > r.maxInclude {
			return "", fmt.Errorf("rendering template has a nested reference name: %s: %w",
				name, errors.New("unable to execute template"))
		}
		r.includes[name]++
		defer func() { r.includes[name]-- }()
		w := r.valueWriter()
		if err := t.ExecuteTemplate(w, name, data); err != nil {
			return "", r.short(err)
		}
		return checked{b: r.b}.built("include", w.buf.String())
	}
}

// short replaces a nested execution error by the render's stopping cause, when there is one.
// text/template repeats the whole inner message at every include level, which grows with the
// square of the depth; a render stopped deep in a recursion must not build that.
func (r *renderer) short(err error) error {
	if cause := r.b.err(); cause != nil {
		return cause
	}
	return err
}

// tplFunc returns tpl bound to the template set parent: the text is parsed into a clone of the
// set, so it sees every define of every chart, and its own defines are visible to include calls
// inside it. Nesting is bounded like include's (Helm has no bound and crashes instead).
func (r *renderer) tplFunc(parent *template.Template) func(string, any) (string, error) {
	return func(text string, data any) (string, error) {
		if r.tplDepth >= r.maxInclude {
			return "", r.b.exceeded("tpl calls nest more than %d levels deep (Options.MaxIncludeDepth)", r.maxInclude)
		}
		r.tplDepth++
		defer func() { r.tplDepth-- }()
		t, err := parent.Clone()
		if err != nil {
			return "", fmt.Errorf("cannot clone template: %w", err)
		}
		t.Option(r.missingKey())
		t.Funcs(template.FuncMap{"include": r.includeFunc(t), "tpl": r.tplFunc(t)})
		if t, err = t.New(parent.Name()).Parse(text); err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		r.guard.rewriteAll(t)
		w := r.valueWriter()
		if err := t.Execute(w, data); err != nil {
			if cause := r.b.err(); cause != nil {
				return "", cause
			}
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return checked{b: r.b}.built("tpl", strings.ReplaceAll(w.buf.String(), "<no value>", ""))
	}
}

// required fails when val is nil or the empty string; in lint mode it returns "" instead.
func (r *renderer) required(msg string, val any) (any, error) {
	if s, ok := val.(string); val != nil && (!ok || s != "") {
		return val, nil
	}
	if r.opts.LintMode {
		r.logger().Info("missing required value", "message", msg)
		return "", nil
	}
	return val, &failure{msg: msg}
}

// fail always fails the render, except in lint mode where it returns "".
func (r *renderer) fail(msg string) (string, error) {
	if r.opts.LintMode {
		r.logger().Info("template called fail", "message", msg)
		return "", nil
	}
	return "", &failure{msg: msg}
}

// lookup asks the caller's Lookup; without one, or when linting, it finds nothing, as helm
// template does.
func (r *renderer) lookup(apiVersion, kind, namespace, name string) (map[string]any, error) {
	if r.opts.Lookup == nil || r.opts.LintMode {
		return map[string]any{}, nil
	}
	if err := r.b.err(); err != nil {
		return map[string]any{}, err
	}
	obj, err := r.opts.Lookup.Lookup(r.ctx, apiVersion, kind, namespace, name)
	if err != nil {
		return map[string]any{}, err
	}
	if obj == nil {
		return map[string]any{}, nil
	}
	return obj, nil
}
