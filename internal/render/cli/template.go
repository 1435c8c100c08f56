package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/postrender"
	"github.com/capstan-dev/capstan/internal/render"
	"github.com/capstan-dev/capstan/internal/values"
)

// debugHint is what Helm appends to errors of the rendering stage.
const debugHint = "\n\nUse --debug flag to render out invalid YAML"

// templateOptions are the flags of `capstan template`.
type templateOptions struct {
	values        valueFlags
	namespace     string
	kubeVersion   string
	apiVersions   []string
	includeCRDs   bool
	skipTests     bool
	noHooks       bool
	showOnly      []string
	isUpgrade     bool
	outputDir     string
	skipSchema    bool
	releaseName   string
	chartLocation string
	verify        bool
	keyring       string
	postRenderers string
}

// NewTemplateCommand returns `capstan template [NAME] CHART`, which renders a chart locally and
// prints the manifests exactly as `helm template` v4.3.1 does.
func NewTemplateCommand() *cobra.Command {
	o := &templateOptions{}
	cmd := &cobra.Command{
		Use:   "template [NAME] CHART",
		Short: "Render chart templates locally and display the output",
		Long: "Render a chart directory or .tgz archive locally, the way `helm template` does, and print the " +
			"manifests: CRDs (with --include-crds), then the regular manifests in install order, then the hooks.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.releaseName, o.chartLocation = render.DefaultReleaseName, args[len(args)-1]
			if len(args) == 2 {
				o.releaseName = args[0]
			}
			return o.run(cmd)
		},
	}
	fs := cmd.Flags()
	o.values.bind(fs)
	fs.StringVarP(&o.namespace, "namespace", "n", "", "namespace scope for this request (default \"default\")")
	fs.StringVar(&o.kubeVersion, "kube-version", "", "Kubernetes version used for Capabilities.KubeVersion")
	fs.StringSliceVarP(&o.apiVersions, "api-versions", "a", nil, "Kubernetes api versions used for Capabilities.APIVersions (multiple can be specified)")
	fs.BoolVar(&o.includeCRDs, "include-crds", false, "include CRDs in the templated output")
	fs.BoolVar(&o.skipTests, "skip-tests", false, "skip tests from templated output")
	fs.BoolVar(&o.noHooks, "no-hooks", false, "prevent hooks from being printed")
	fs.StringArrayVarP(&o.showOnly, "show-only", "s", nil, "only show manifests rendered from the given templates")
	fs.BoolVar(&o.isUpgrade, "is-upgrade", false, "set .Release.IsUpgrade instead of .Release.IsInstall")
	fs.StringVar(&o.outputDir, "output-dir", "", "writes the executed templates to files in output-dir instead of stdout")
	fs.BoolVar(&o.skipSchema, "skip-schema-validation", false, "disable JSON schema validation")
	fs.BoolVar(&o.verify, "verify", false, "verify the package before using it")
	fs.StringVar(&o.keyring, "keyring", DefaultKeyring(), "location of public keys used for verification")
	fs.StringVar(&o.postRenderers, "post-renderers", "", "apply the post-renderers in this YAML file (a list shaped like a Release's spec.postRenderers) to the rendered manifests and hooks")
	return cmd
}

func (o *templateOptions) run(cmd *cobra.Command) error {
	log := newLogger(cmd.ErrOrStderr())
	res, err := o.render(cmd, log)
	if err != nil {
		if render.StageOf(err) == render.StageRender {
			return fmt.Errorf("%w%s", err, debugHint)
		}
		return err
	}
	out := &templateOutput{opts: o, stdout: cmd.OutOrStdout()}
	return out.print(res)
}

// render does what `helm template` does before printing, in helm's order: locate the chart,
// merge values, load the chart, capabilities, render.
func (o *templateOptions) render(cmd *cobra.Command, log *slog.Logger) (*render.Result, error) {
	location, err := locateChart(o.chartLocation)
	if err != nil {
		return nil, err
	}
	if o.verify {
		if _, err := VerifyArchive(location, o.keyring); err != nil {
			return nil, err
		}
	}
	schemas := o.precompileSchemas(cmd.Context(), location)
	vals, err := o.values.merge(cmd.InOrStdin())
	if err != nil {
		return nil, err
	}
	post, err := o.postRenderer()
	if err != nil {
		return nil, err
	}
	c, err := loadChart(cmd.Context(), location)
	if err != nil {
		return nil, err
	}
	schemas.chart(c)
	if c.Metadata.Deprecated {
		log.Warn("this chart is deprecated")
	}
	caps, err := o.capabilities()
	if err != nil {
		return nil, err
	}
	if v, ok := cmd.Context().Value(helmVersionKey{}).(string); ok {
		caps.HelmVersion.Version = v
	}
	return render.Render(cmd.Context(), c, vals, render.Options{
		ReleaseName: o.releaseName, Namespace: o.namespaceOrDefault(), IsUpgrade: o.isUpgrade,
		Capabilities: caps, IncludeCRDs: o.includeCRDs && o.outputDir == "", SkipSchemaValidation: o.skipSchema,
		Logger: log, QuoteSchemaValues: true, // the user's own chart and values files: Helm's exact text
		PostRenderer: post, Schemas: schemas.cache,
	})
}

// schemaStart compiles the values schemas of the chart being rendered while the command reads
// the values and the chart: compiling the schema is the largest single cost of a render (a third
// of it for cert-manager), and it needs nothing but the schema's bytes. Validation takes the
// compiled schemas from cache, or waits for one still being compiled (values.Composer.Precompile).
type schemaStart struct{ cache *values.SchemaCache }

// precompileSchemas starts compiling the chart directory's values.schema.json at once (an archive
// is read first: its schemas start in chart), into the prestarted cache (WithPrestart) or a new
// one. Nothing starts under --skip-schema-validation.
func (o *templateOptions) precompileSchemas(ctx context.Context, location string) schemaStart {
	if o.skipSchema {
		return schemaStart{}
	}
	s := schemaStart{cache: schemaCacheFrom(ctx)}
	path := filepath.Join(location, "values.schema.json")
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() <= chart.DefaultMaxFileSize {
		go func() {
			if data, err := os.ReadFile(path); err == nil {
				s.composer().Precompile(data)
			}
		}()
	}
	return s
}

// chart starts compiling the loaded chart's schema, unless it is under way already (a chart
// directory's). Subcharts' schemas are left to the validation: a subchart may be disabled by
// the values, and its schema would be compiled for nothing.
func (s schemaStart) chart(c *chart.Chart) {
	if s.cache != nil && c.Schema != nil {
		go s.composer().Precompile(c.Schema)
	}
}

// composer is the values.Composer whose schema cache key matches the render's (the default
// object limit).
func (s schemaStart) composer() values.Composer { return values.Composer{Schemas: s.cache} }

// postRenderer reads --post-renderers; nil without the flag, so the output stays helm's.
func (o *templateOptions) postRenderer() (render.PostRenderer, error) {
	if o.postRenderers == "" {
		return nil, nil
	}
	data, err := os.ReadFile(o.postRenderers)
	if err != nil {
		return nil, fmt.Errorf("reading --post-renderers: %w", err)
	}
	steps, err := postrender.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.postRenderers, err)
	}
	if p := postrender.New(steps, nil); p != nil {
		return p, nil
	}
	return nil, nil
}

type helmVersionKey struct{}

// WithHelmVersion returns a context under which `capstan template` reports version as
// .Capabilities.HelmVersion.Version. Conformance tests use it to match a reference helm binary
// built with `go install`, which reports "v4.3" where the official v4.3.1 release reports "v4.3.1".
func WithHelmVersion(ctx context.Context, version string) context.Context {
	return context.WithValue(ctx, helmVersionKey{}, version)
}

// Prestart is work that `capstan template` may find done, or under way, when it runs: the CLI
// begins loading the chart directory and compiling its values schema while its packages
// initialise (cmd/capstan/internal/prestart). The command takes from it only what it would do
// itself, the same way.
type Prestart struct {
	// Schemas holds values schemas compiled or being compiled, keyed by their bytes (see
	// values.Composer.Precompile). It must take schemas of any size, as the cache the command
	// makes on its own; nil means the command makes its own.
	Schemas *values.SchemaCache
	// Chart returns the chart directory at the absolute path location as chart.Load(location,
	// chart.DefaultLimits()) loaded it, waiting for a load under way; false when it has none, or
	// the load failed. Nil means none.
	Chart func(location string) (*chart.Chart, bool)
}

type prestartKey struct{}

// WithPrestart returns a context under which `capstan template` uses p.
func WithPrestart(ctx context.Context, p Prestart) context.Context {
	return context.WithValue(ctx, prestartKey{}, p)
}

func prestartFrom(ctx context.Context) Prestart {
	p, _ := ctx.Value(prestartKey{}).(Prestart)
	return p
}

// schemaCacheFrom returns the prestarted schema cache, or a new one. A CLI run renders one chart:
// the cache holds every schema of it, whatever their size.
func schemaCacheFrom(ctx context.Context) *values.SchemaCache {
	if cache := prestartFrom(ctx).Schemas; cache != nil {
		return cache
	}
	return values.NewSchemaCache(chart.DefaultMaxDecompressedSize)
}

// loadChart loads the chart at location, or takes it from the prestarted loads.
func loadChart(ctx context.Context, location string) (*chart.Chart, error) {
	if take := prestartFrom(ctx).Chart; take != nil {
		if c, ok := take(location); ok {
			return c, nil
		}
	}
	return chart.Load(location, chart.DefaultLimits())
}

// capabilities are Helm's client-only defaults with --kube-version and --api-versions applied.
func (o *templateOptions) capabilities() (*engine.Capabilities, error) {
	caps := engine.DefaultCapabilities()
	if o.kubeVersion != "" {
		kv, err := engine.ParseKubeVersion(o.kubeVersion)
		if err != nil {
			return nil, fmt.Errorf("invalid kube version '%s': %w", o.kubeVersion, parseCause(err))
		}
		caps.KubeVersion = kv
	}
	caps.APIVersions = append(caps.APIVersions, o.apiVersions...)
	return caps, nil
}

// parseCause drops the engine's own "parse kube version" context, which helm's message does not
// have, keeping the parser's error.
func parseCause(err error) error {
	if cause := errors.Unwrap(err); cause != nil {
		return cause
	}
	return err
}

func (o *templateOptions) namespaceOrDefault() string {
	if strings.TrimSpace(o.namespace) == "" {
		return "default"
	}
	return o.namespace
}
