package monitoring

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// Expr is one PromQL expression of the kit and where it is.
type Expr struct {
	// Where names the dashboard panel or the alert.
	Where string
	// Query is the PromQL text.
	Query string
	// Selectors are the series it reads: metric name and the label names it matches on.
	Selectors []Selector
}

// Selector is one vector selector of an expression.
type Selector struct {
	Metric string
	Labels []string
}

// Kit is the parsed monitoring kit.
type Kit struct {
	Exprs []Expr
	// Alerts are the alert names of the rules file, in order.
	Alerts []string
}

// RuleGroups is a Prometheus rules file.
type RuleGroups struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []Rule `json:"rules"`
	} `json:"groups"`
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// dashboard is the part of a Grafana dashboard the check reads.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// severities are the values the rules' severity label may take.
var severities = map[string]bool{"critical": true, "warning": true, "info": true}

// Load reads and checks the dashboard and the rules file of dir (config/monitoring): each
// expression must parse, each alert have a name, a severity, a summary whose template parses and
// a valid `for` duration.
func Load(dir string) (*Kit, error) {
	kit := &Kit{}
	var errs []error
	if err := kit.loadDashboard(filepath.Join(dir, "capstan-dashboard.json")); err != nil {
		errs = append(errs, err)
	}
	if err := kit.loadRules(filepath.Join(dir, "capstan-rules.yaml")); err != nil {
		errs = append(errs, err)
	}
	return kit, errors.Join(errs...)
}

func (k *Kit) loadDashboard(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		return fmt.Errorf("%s: a dashboard needs a title, a uid and panels", path)
	}
	var errs []error
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			errs = append(errs, fmt.Errorf("dashboard panel %q has no query", p.Title))
		}
		for _, t := range p.Targets {
			if err := k.add("dashboard panel "+p.Title, t.Expr); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (k *Kit) loadRules(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var groups RuleGroups
	if err := yaml.UnmarshalStrict(b, &groups); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			k.Alerts = append(k.Alerts, r.Alert)
			if err := checkRule(r); err != nil {
				errs = append(errs, fmt.Errorf("alert %q: %w", r.Alert, err))
			}
			if err := k.add("alert "+r.Alert, r.Expr); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(k.Alerts) == 0 {
		errs = append(errs, fmt.Errorf("%s holds no alert", path))
	}
	return errors.Join(errs...)
}

// checkRule checks what Prometheus would refuse in a rule besides its expression, and what the
// kit promises every alert has.
func checkRule(r Rule) error {
	if r.Alert == "" || !model.LegacyValidation.IsValidMetricName(r.Alert) {
		return fmt.Errorf("the alert name %q is not a valid name", r.Alert)
	}
	if r.For != "" {
		if _, err := model.ParseDuration(r.For); err != nil {
			return fmt.Errorf("for: %w", err)
		}
	}
	if !severities[r.Labels["severity"]] {
		return fmt.Errorf("severity %q is not one of critical, warning, info", r.Labels["severity"])
	}
	if r.Annotations["summary"] == "" {
		return errors.New("no summary annotation")
	}
	for name, text := range r.Annotations {
		// Prometheus defines $labels and $value before expanding an annotation.
		if _, err := template.New(name).Parse("{{$labels := .Labels}}{{$value := .Value}}" + text); err != nil {
			return fmt.Errorf("annotation %s: %w", name, err)
		}
	}
	return nil
}

// add parses query and records it with its selectors.
func (k *Kit) add(where, query string) error {
	if strings.TrimSpace(query) == "" {
		return fmt.Errorf("%s: empty expression", where)
	}
	expr, err := parser.ParseExpr(query)
	if err != nil {
		return fmt.Errorf("%s: %q: %w", where, query, err)
	}
	e := Expr{Where: where, Query: query}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		s := Selector{Metric: vs.Name}
		for _, m := range vs.LabelMatchers {
			if m.Name != model.MetricNameLabel {
				s.Labels = append(s.Labels, m.Name)
			}
		}
		e.Selectors = append(e.Selectors, s)
		return nil
	})
	if len(e.Selectors) == 0 {
		return fmt.Errorf("%s: %q reads no metric", where, query)
	}
	k.Exprs = append(k.Exprs, e)
	return nil
}
