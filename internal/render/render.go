package render

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/values"
)

// DefaultReleaseName is the name `helm template` uses when none is given.
const DefaultReleaseName = "release-name"

// notesSuffix marks the rendered files that are notes, not manifests.
const notesSuffix = "NOTES.txt"

// Options are the release-specific inputs of Render.
type Options struct {
	// ReleaseName is .Release.Name; it must pass ValidateReleaseName.
	ReleaseName string
	// Namespace is .Release.Namespace; "" means "default".
	Namespace string
	// Revision is .Release.Revision; 0 means 1.
	Revision int
	// IsUpgrade sets .Release.IsUpgrade (and clears .Release.IsInstall).
	IsUpgrade bool
	// Capabilities are what .Capabilities shows; nil means engine.DefaultCapabilities().
	Capabilities *engine.Capabilities
	// Lookup serves the lookup function; nil makes lookup return an empty map, as without a cluster.
	Lookup engine.Lookup
	// Timeout bounds template execution; 0 means the engine's default (30 seconds).
	Timeout time.Duration
	// Limits bound what template execution may allocate; zero fields take the engine's defaults.
	Limits engine.Limits
	// IncludeCRDs puts the chart's crds/ files at the start of Result.Manifest(), as
	// `helm template --include-crds` does.
	IncludeCRDs bool
	// SkipSchemaValidation skips values.schema.json validation.
	SkipSchemaValidation bool
	// QuoteSchemaValues keeps Helm's exact schema error text, which quotes offending values (see
	// values.Composer.QuoteSchemaValues); by default the text names the path and rule only.
	QuoteSchemaValues bool
	// LintMode makes required and fail log instead of failing, as `helm lint` does, and renders
	// a chart whose declared dependencies are missing from charts/ (helm lint reports those in
	// its own rule and still checks the templates).
	LintMode bool
	// Logger receives Helm's warnings (values coalescing, unknown hooks); nil drops them.
	Logger *slog.Logger
	// Templates keeps parsed templates across renders (keyed by the templates' content); nil
	// parses them for every render.
	Templates *engine.TemplateCache
	// Schemas keeps compiled values schemas across renders (keyed by their digest); nil
	// compiles them for every render.
	Schemas *values.SchemaCache
	// PostRenderer changes the rendered files after notes extraction and before sorting, hooks
	// included, as Helm v4's post-renderers do; nil leaves them as rendered.
	PostRenderer PostRenderer
}

// PostRenderer changes rendered files (template name → text) before they are sorted; the files
// it returns are sorted as rendered ones are.
type PostRenderer interface {
	PostRender(files map[string]string) (map[string]string, error)
}

// Result is a rendered release.
type Result struct {
	// Chart is the chart after dependency processing (disabled subcharts removed, aliases set).
	Chart *chart.Chart
	// Values are the coalesced values the templates saw.
	Values map[string]any
	// Manifests are the regular documents in install order.
	Manifests []manifest.Manifest
	// Hooks are the hook documents in kind order (see manifest.ForEvent for execution order).
	Hooks []manifest.Hook
	// CRDs are the crds/ files of the chart and its enabled subcharts, named by full path.
	CRDs []*chart.File
	// Notes is the root chart's rendered NOTES.txt.
	Notes string
	// Files is every rendered template (name → text) except notes, as sorted into Manifests
	// and Hooks; partials render to nothing.
	Files map[string]string

	includeCRDs bool
}

// Render runs the pipeline on c, which it modifies (dependency processing) and returns as
// Result.Chart; pass a fresh or copied chart for every call. Errors are *Error values whose text
// is Helm's. When the templates rendered but their output does not parse (a *manifest.ParseError),
// Render returns the error together with a partial Result whose Files hold the rendered text.
func Render(ctx context.Context, c *chart.Chart, userValues map[string]any, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	if err := checkChart(c, opts.LintMode); err != nil {
		return nil, stageError(StageChart, err)
	}
	if err := checkReleaseName(opts); err != nil {
		return nil, stageError(StageRelease, err)
	}
	composer := values.Composer{Logger: opts.Logger, QuoteSchemaValues: opts.QuoteSchemaValues, Schemas: opts.Schemas}
	vals, err := composeValues(composer, c, userValues)
	if err != nil {
		return nil, stageError(StageValues, err)
	}
	files, err := validateAndRender(ctx, composer, c, vals, opts)
	if err != nil {
		return nil, err
	}
	notes := extractNotes(files, c.Name())
	if opts.PostRenderer != nil {
		if files, err = opts.PostRenderer.PostRender(files); err != nil {
			return nil, stageError(StagePostRender, err)
		}
	}
	res, err := finish(c, vals, files, notes, opts)
	if err != nil {
		return res, stageError(StageRender, err)
	}
	return res, nil
}

// validateAndRender validates the values against the schemas and executes the templates. Helm
// does one after the other; they are independent (both only read the values), so Render runs
// them at the same time and reports what Helm would have reported first: a schema violation
// before any render error. It runs them one after the other when the templates could reach out
// (a Lookup, which must not read the cluster for values that are invalid) or log (lint mode).
func validateAndRender(ctx context.Context, composer values.Composer, c *chart.Chart, vals map[string]any, opts Options) (map[string]string, error) {
	validate := func() error {
		if opts.SkipSchemaValidation {
			return nil
		}
		return composer.ValidateSchema(c, vals)
	}
	if opts.Lookup != nil || opts.LintMode || opts.SkipSchemaValidation {
		if err := validate(); err != nil {
			return nil, stageError(StageValues, err)
		}
		files, err := renderTemplates(ctx, c, vals, opts)
		if err != nil {
			return nil, stageError(StageRender, err)
		}
		return files, nil
	}
	schemaErr := make(chan error, 1)
	go func() { schemaErr <- validate() }()
	files, err := renderTemplates(ctx, c, vals, opts)
	if serr := <-schemaErr; serr != nil {
		return nil, stageError(StageValues, serr)
	}
	if err != nil {
		return nil, stageError(StageRender, err)
	}
	return files, nil
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Revision == 0 {
		o.Revision = 1
	}
	if o.Capabilities == nil {
		o.Capabilities = engine.DefaultCapabilities()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// checkChart refuses what Helm refuses before rendering: a library chart, and (except when
// linting) dependencies declared in Chart.yaml that have no subchart in charts/.
func checkChart(c *chart.Chart, lint bool) error {
	if c == nil || c.Metadata == nil {
		return ErrNoChart
	}
	if c.IsLibrary() {
		return ErrLibraryChart
	}
	if c.Metadata.Dependencies == nil || lint {
		return nil
	}
	return chart.CheckDependencies(c)
}

// checkReleaseName validates the name with Helm v4's wording, which also logs the failure.
func checkReleaseName(opts Options) error {
	err := ValidateReleaseName(opts.ReleaseName)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("release name %q: %w", opts.ReleaseName, err)
	opts.Logger.Error("release name check failed", "error", err)
	return fmt.Errorf("release name check failed: %w", err)
}

// composeValues processes dependencies and coalesces the values, reporting Helm's warnings to
// the composer's logger.
func composeValues(composer values.Composer, c *chart.Chart, userValues map[string]any) (map[string]any, error) {
	if userValues == nil {
		userValues = map[string]any{}
	}
	if err := composer.ProcessDependencies(c, userValues); err != nil {
		return nil, err
	}
	return composer.Coalesce(c, userValues)
}

// renderTemplates is the first half of Helm's renderResources: the kubeVersion check and
// template execution.
func renderTemplates(ctx context.Context, c *chart.Chart, vals map[string]any, opts Options) (map[string]string, error) {
	if err := engine.CheckKubeVersion(c, opts.Capabilities); err != nil {
		return nil, err
	}
	return engine.Render(ctx, c, vals, engine.Options{
		Release: engine.ReleaseOptions{
			Name: opts.ReleaseName, Namespace: opts.Namespace, Revision: opts.Revision,
			IsInstall: !opts.IsUpgrade, IsUpgrade: opts.IsUpgrade,
		},
		Capabilities: opts.Capabilities,
		Lookup:       opts.Lookup,
		LintMode:     opts.LintMode,
		Timeout:      opts.Timeout,
		Limits:       opts.Limits,
		Templates:    opts.Templates,
	})
}

// finish is the second half of Helm's renderResources: sorting, after notes extraction.
func finish(c *chart.Chart, vals map[string]any, files map[string]string, notes string, opts Options) (*Result, error) {
	res := &Result{Chart: c, Values: vals, CRDs: c.CRDObjects(), Files: files, Notes: notes, includeCRDs: opts.IncludeCRDs}
	sorter := manifest.Sorter{Order: manifest.InstallOrder, Logger: opts.Logger}
	var err error
	if res.Hooks, res.Manifests, err = sorter.Sort(files); err != nil {
		// Like Helm, hand back what was rendered, so the caller can show or lint it.
		return &Result{Chart: c, Values: vals, Files: files}, err
	}
	return res, nil
}

// extractNotes removes every rendered notes file from files and returns the root chart's.
func extractNotes(files map[string]string, root string) string {
	rootNotes := path.Join(root, "templates", notesSuffix)
	var notes string
	for name, text := range files {
		if !strings.HasSuffix(name, notesSuffix) {
			continue
		}
		if name == rootNotes {
			notes = text
		}
		delete(files, name)
	}
	return notes
}

// Manifest returns the release manifest text Helm stores and `helm template` prints before the
// hooks: each CRD file (only with Options.IncludeCRDs) and each manifest, framed by
// "---\n# Source: <name>\n" and followed by a newline.
func (r *Result) Manifest() string {
	var b strings.Builder
	if r.includeCRDs {
		for _, crd := range r.CRDs {
			manifest.WriteDocument(&b, crd.Name, string(crd.Data))
		}
	}
	b.WriteString(manifest.Assemble(r.Manifests))
	return b.String()
}
