package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// DefaultCostLimit bounds the work of one evaluation of one expression, in CEL's cost units: the
// per-expression limit Kubernetes uses for CRD validation rules.
const DefaultCostLimit uint64 = 1_000_000

// variables are the names an expression sees: the object's top-level fields, and self.
var variables = []string{"self", "apiVersion", "kind", "metadata", "spec", "status"}

// ErrInvalidHealthCheck says that an expression of spec.healthChecks does not compile; the error
// names the check and the expression's field.
var ErrInvalidHealthCheck = errors.New("invalid health check")

// Checks are a Release's compiled spec.healthChecks. A nil *Checks has none.
type Checks struct {
	rules []rule
}

// rule is one compiled health check.
type rule struct {
	group, version, kind string
	index                int
	current, inProgress  *expression
	failed               *expression
}

type expression struct {
	field, text string
	program     cel.Program
}

// Compile compiles specs with costLimit per evaluation (0 means DefaultCostLimit). An error
// wraps ErrInvalidHealthCheck and names every expression that does not compile.
func Compile(specs []capstanv1.HealthCheck, costLimit uint64) (*Checks, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	if costLimit == 0 {
		costLimit = DefaultCostLimit
	}
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	c := &Checks{}
	var problems []string
	for i, spec := range specs {
		r, errs := compileRule(env, i, spec, costLimit)
		problems = append(problems, errs...)
		c.rules = append(c.rules, r)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidHealthCheck, strings.Join(problems, "; "))
	}
	return c, nil
}

func newEnv() (*cel.Env, error) {
	opts := make([]cel.EnvOption, 0, len(variables))
	for _, v := range variables {
		opts = append(opts, cel.Variable(v, cel.DynType))
	}
	return cel.NewEnv(opts...)
}

func compileRule(env *cel.Env, i int, spec capstanv1.HealthCheck, costLimit uint64) (rule, []string) {
	r := rule{index: i, group: spec.Group, kind: spec.Kind}
	var problems []string
	if spec.APIVersion != "" {
		gv, err := schema.ParseGroupVersion(spec.APIVersion)
		if err != nil {
			problems = append(problems, fmt.Sprintf("healthChecks[%d].apiVersion: %v", i, err))
		}
		r.group, r.version = gv.Group, gv.Version
	}
	for _, e := range []struct {
		field, text string
		into        **expression
	}{{"current", spec.Current, &r.current}, {"inProgress", spec.InProgress, &r.inProgress}, {"failed", spec.Failed, &r.failed}} {
		if e.text == "" {
			continue
		}
		compiled, err := compileExpression(env, e.text, costLimit)
		if err != nil {
			problems = append(problems, fmt.Sprintf("healthChecks[%d].%s: %s", i, e.field, oneLine(err.Error())))
			continue
		}
		*e.into = &expression{field: e.field, text: e.text, program: compiled}
	}
	if spec.Current == "" {
		problems = append(problems, fmt.Sprintf("healthChecks[%d].current: an expression is required", i))
	}
	return r, problems
}

func compileExpression(env *cel.Env, text string, costLimit uint64) (cel.Program, error) {
	ast, issues := env.Compile(text)
	if issues.Err() != nil {
		return nil, issues.Err()
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("the expression gives %s, not a bool", t)
	}
	return env.Program(ast, cel.CostLimit(costLimit))
}

// match returns the first rule for the object's group, version and kind.
func (c *Checks) match(gvk schema.GroupVersionKind) *rule {
	if c == nil {
		return nil
	}
	for i := range c.rules {
		r := &c.rules[i]
		if r.kind == gvk.Kind && r.group == gvk.Group && (r.version == "" || r.version == gvk.Version) {
			return r
		}
	}
	return nil
}

// Compute returns the health of u by the first check of its kind, or false when none applies.
// An object whose status.observedGeneration is behind metadata.generation is InProgress. Then
// failed is tried first (a true one ends a wait at once), inProgress, and current; when none is
// true the object is InProgress. An expression that cannot be evaluated (a field the object does
// not have yet) leaves the object InProgress with the error as message; one that goes over its
// cost limit makes it Failed, since it would never finish.
func (c *Checks) Compute(u *unstructured.Unstructured) (ObjectStatus, bool) {
	r := c.match(u.GroupVersionKind())
	if r == nil || u.GetDeletionTimestamp() != nil { // a deleted object is Terminating, whatever its status
		return ObjectStatus{}, false
	}
	s := ObjectStatus{Ref: apply.RefOf(u)}
	if msg, behind := generationBehind(u); behind {
		s.Status, s.Message = InProgress, msg
		return s, true
	}
	vars := activation(u)
	for _, step := range []struct {
		e  *expression
		st status.Status
	}{{r.failed, Failed}, {r.inProgress, InProgress}, {r.current, Current}} {
		if step.e == nil {
			continue
		}
		ok, err := step.e.eval(vars)
		switch {
		case errors.Is(err, errCostLimit):
			s.Status, s.Message = Failed, oneLine(fmt.Sprintf("healthChecks[%d].%s: %v", r.index, step.e.field, err))
			return s, true
		case err != nil:
			s.Status, s.Message = InProgress, oneLine(fmt.Sprintf("healthChecks[%d].%s cannot be evaluated yet: %v", r.index, step.e.field, err))
			return s, true
		case ok:
			s.Status, s.Message = step.st, fmt.Sprintf("healthChecks[%d].%s is true", r.index, step.e.field)
			return s, true
		}
	}
	s.Status, s.Message = InProgress, fmt.Sprintf("healthChecks[%d]: no expression is true yet", r.index)
	return s, true
}

var errCostLimit = errors.New("the expression went over its cost limit")

func (e *expression) eval(vars map[string]any) (bool, error) {
	out, _, err := e.program.Eval(vars)
	if err != nil {
		if strings.Contains(err.Error(), "cost limit exceeded") {
			return false, errCostLimit
		}
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("the expression gave %s, not a bool", out.Type().TypeName())
	}
	return b, nil
}

// activation binds the variables: the object's top-level fields (an empty map for those it does
// not have, so has() works on them) and self.
func activation(u *unstructured.Unstructured) map[string]any {
	vars := map[string]any{"self": u.Object}
	for _, v := range variables[1:] {
		if val, ok := u.Object[v]; ok && val != nil {
			vars[v] = val
			continue
		}
		vars[v] = map[string]any{}
	}
	return vars
}

// generationBehind reports whether the object's controller has not yet observed its newest
// generation, for objects that have both fields.
func generationBehind(u *unstructured.Unstructured) (string, bool) {
	generation, hasGeneration, _ := unstructured.NestedInt64(u.Object, "metadata", "generation")
	observed, hasObserved, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if !hasGeneration || !hasObserved || observed == generation {
		return "", false
	}
	return fmt.Sprintf("waiting for the controller to observe generation %d (it observed %d)", generation, observed), true
}

type checksKey struct{}

// WithChecks returns a context under which every health read of a Checker evaluates checks
// before the built-in rules.
func WithChecks(ctx context.Context, checks *Checks) context.Context {
	if checks == nil {
		return ctx
	}
	return context.WithValue(ctx, checksKey{}, checks)
}

func checksFrom(ctx context.Context) *Checks {
	c, _ := ctx.Value(checksKey{}).(*Checks)
	return c
}

// maxCachedChecks bounds a ChecksCache; past it the cache starts over.
const maxCachedChecks = 4096

// ChecksCache keeps each Release's compiled checks for its generation, so expressions are
// compiled once per generation. The zero value is ready to use.
type ChecksCache struct {
	mu      sync.Mutex
	entries map[string]cachedChecks
}

type cachedChecks struct {
	generation int64
	checks     *Checks
	err        error
}

// Compile returns the compiled checks of key (a Release's UID) at generation, compiling specs
// only when the generation is not the one cached.
func (c *ChecksCache) Compile(key string, generation int64, specs []capstanv1.HealthCheck) (*Checks, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && e.generation == generation {
		return e.checks, e.err
	}
	checks, err := Compile(specs, 0)
	if c.entries == nil || len(c.entries) >= maxCachedChecks {
		c.entries = map[string]cachedChecks{}
	}
	c.entries[key] = cachedChecks{generation: generation, checks: checks, err: err}
	return checks, err
}
