package cli

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/render"
)

// lintRender renders the chart in lint mode (required and fail only log) and checks every
// rendered document.
func (l linter) lintRender(c *chart.Chart) []message {
	if c.IsLibrary() {
		return nil
	}
	files := map[string]string{}
	res, err := render.Render(l.ctx, c, l.values, render.Options{
		ReleaseName: render.DefaultReleaseName, Namespace: l.namespace, Capabilities: l.caps,
		LintMode: true, Logger: l.log,
		QuoteSchemaValues: true, // the user's own chart and values files: Helm's exact text
	})
	var perr *manifest.ParseError
	switch {
	case errors.As(err, &perr) && res != nil:
		// The documents are checked one by one below, which reports this too, in helm's words.
	case err != nil:
		return []message{{sevError, lintPath(err), err}}
	}
	for name, text := range res.Files {
		files[name] = text
	}
	return lintDocuments(c.Name(), files)
}

// lintPath attributes a render error to the part of the chart it concerns.
func lintPath(err error) string {
	switch render.StageOf(err) {
	case render.StageValues:
		return "values.yaml"
	case render.StageChart:
		return "Chart.yaml"
	default:
		return "templates/"
	}
}

// lintDocuments checks each rendered template of the root chart in name order: an allowed
// extension, then its documents (lintFile), stopping at the first file helm could not read.
func lintDocuments(root string, files map[string]string) []message {
	var msgs []message
	for _, name := range sortedNames(files) {
		rel := strings.TrimPrefix(name, root+"/")
		if strings.HasPrefix(rel, "charts/") || strings.HasPrefix(path.Base(rel), "_") {
			continue
		}
		if err := checkExtension(rel); err != nil {
			msgs = append(msgs, message{sevError, rel, err})
			continue
		}
		fileMsgs, fatal := lintFile(rel, files[name])
		msgs = append(msgs, fileMsgs...)
		if fatal {
			break // helm stops checking templates at the first stream it cannot read.
		}
	}
	return msgs
}

func checkExtension(name string) error {
	switch path.Ext(name) {
	case ".yaml", ".yml", ".tpl", ".txt":
		return nil
	}
	return fmt.Errorf("file extension '%s' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt", path.Ext(name))
}

// lintFile checks the documents of one rendered file in order, as a YAML stream reader meets
// them. A line that starts with "---" and goes on with anything but spaces or a comment (such as
// "---apiVersion: v1" or "----") is not a separator for Kubernetes tools. fatal reports a
// document or separator that could not be read, which ends the check as it ends helm's.
func lintFile(rel, text string) (msgs []message, fatal bool) {
	var cur []string
	flush := func() bool {
		doc := strings.Join(cur, "\n")
		cur = nil
		if strings.TrimSpace(doc) == "" {
			return false
		}
		docMsgs, bad := checkDocument(rel, doc)
		msgs = append(msgs, docMsgs...)
		return bad
	}
	for _, line := range strings.Split(text, "\n") {
		rest, isSep := strings.CutPrefix(line, "---")
		if !isSep {
			cur = append(cur, line)
			continue
		}
		if flush() {
			return msgs, true
		}
		if rest = strings.TrimSpace(rest); rest != "" && !strings.HasPrefix(rest, "#") {
			return append(msgs, message{sevError, rel, fmt.Errorf("unable to parse YAML: invalid Yaml document separator: %s", rest)}), true
		}
	}
	return msgs, flush()
}

// checkDocument checks one rendered document: it parses (unreadable is fatal), its name is valid
// for its kind (a warning, as in helm; a missing name counts as "") and, for workloads, it has a
// selector. Missing apiVersion or kind are left to the API server, as helm lint does.
func checkDocument(rel, doc string) (msgs []message, fatal bool) {
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		return []message{{sevError, rel, fmt.Errorf("unable to parse YAML: %w", err)}}, true
	}
	if obj == nil {
		return nil, false
	}
	head, err := manifest.ParseHead(doc)
	if err != nil {
		return []message{{sevError, rel, fmt.Errorf("unable to parse YAML: %w", err)}}, true
	}
	if name := head.Name(); len(nameProblems(head.Kind, name)) > 0 {
		msgs = append(msgs, message{sevWarning, rel, fmt.Errorf(
			"object name does not conform to Kubernetes naming requirements: %q: metadata.name: Invalid value: %q: %s",
			name, name, strings.Join(nameProblems(head.Kind, name), "; "))})
	}
	if err := checkSelector(head, obj); err != nil {
		msgs = append(msgs, message{sevError, rel, err})
	}
	return msgs, false
}

// checkSelector requires spec.selector.matchLabels or matchExpressions on the workloads whose
// apps/v1 API refuses them without one.
func checkSelector(head *manifest.Head, obj map[string]any) error {
	switch head.Kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet":
	default:
		return nil
	}
	spec, _ := obj["spec"].(map[string]any)
	sel, _ := spec["selector"].(map[string]any)
	if sel["matchLabels"] != nil || sel["matchExpressions"] != nil {
		return nil
	}
	return fmt.Errorf("a %s must contain matchLabels or matchExpressions, and %q does not", head.Kind, head.Name())
}

// nameProblems validates a name with the rule the API server applies to its kind: RBAC objects
// allow any path segment (e.g. "system:auth-delegator"), namespaces and services need a DNS
// label, everything else a DNS subdomain.
func nameProblems(kind, name string) []string {
	switch kind {
	case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
		return content.IsPathSegmentName(name)
	case "Namespace":
		return validation.IsDNS1123Label(name)
	case "Service":
		return validation.IsDNS1035Label(name)
	default:
		return validation.IsDNS1123Subdomain(name)
	}
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
