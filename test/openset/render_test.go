package openset

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// hookAnnotation marks a Helm hook.
const hookAnnotation = "helm.sh/hook"

// rendered is one document of helm template's output.
type rendered struct {
	// source is the "# Source:" path helm printed above the document.
	source string
	obj    *unstructured.Unstructured
}

// isHook reports whether the document is a hook.
func (r rendered) isHook() bool {
	_, ok := r.obj.GetAnnotations()[hookAnnotation]
	return ok
}

// fromCRDDir reports whether the document comes from the crds/ directory of the chart or of
// one of its subcharts (as opposed to a template that renders a CRD).
func (r rendered) fromCRDDir() bool {
	parts := strings.Split(r.source, "/")
	i := 1
	for i+1 < len(parts) && parts[i] == "charts" {
		i += 2
	}
	return i < len(parts)-1 && parts[i] == "crds"
}

// capabilities is what the API server serves: its version and every group/version and
// group/version/Kind, the set Capstan gives the engine as .Capabilities.
type capabilities struct {
	kubeVersion string
	apiVersions []string
}

// discoverCapabilities reads the live capabilities, the way Capstan's discovery does.
func discoverCapabilities(cfg *rest.Config) (capabilities, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(quiet(cfg))
	if err != nil {
		return capabilities{}, err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return capabilities{}, err
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil {
		return capabilities{}, err
	}
	seen := map[string]bool{}
	for _, l := range lists {
		seen[l.GroupVersion] = true
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") {
				seen[l.GroupVersion+"/"+r.Kind] = true
			}
		}
	}
	caps := capabilities{kubeVersion: v.GitVersion}
	for gv := range seen {
		caps.apiVersions = append(caps.apiVersions, gv)
	}
	sort.Strings(caps.apiVersions)
	return caps, nil
}

// helmTemplate renders an archive with the reference helm, the CRDs of crds/ included, with the
// given values and the live capabilities, and parses its output.
func helmTemplate(ctx context.Context, helm, workDir, release, ns, archive string, values map[string]any,
	caps capabilities,
) ([]rendered, error) {
	valuesFile := filepath.Join(workDir, release+"-values.yaml")
	data, err := yaml.Marshal(values)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(valuesFile, data, 0o600); err != nil {
		return nil, err
	}
	args := []string{"template", release, archive, "--namespace", ns, "--include-crds", "-f", valuesFile,
		"--kube-version", caps.kubeVersion}
	for _, v := range caps.apiVersions {
		args = append(args, "--api-versions", v)
	}
	cmd := exec.CommandContext(ctx, helm, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(workDir, "helm-cache"),
		"HELM_CONFIG_HOME="+filepath.Join(workDir, "helm-config"), "HELM_DATA_HOME="+filepath.Join(workDir, "helm-data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm template %s: %w: %s", release, err, stderr.String())
	}
	return parseRendered(stdout.String())
}

// parseRendered splits helm template's output into its objects, keeping each one's source. A
// document without a "# Source:" line belongs to the last source named: a crds/ file that
// starts with "---" comes out as an empty document with the comment, then the CRD.
func parseRendered(out string) ([]rendered, error) {
	var docs []rendered
	source := ""
	for _, doc := range strings.Split("\n"+out, "\n---") {
		for _, line := range strings.Split(doc, "\n") {
			if s, ok := strings.CutPrefix(line, "# Source: "); ok {
				source = s
				break
			}
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("document from %s: %w", source, err)
		}
		if len(obj) == 0 {
			continue
		}
		docs = append(docs, rendered{source: source, obj: &unstructured.Unstructured{Object: obj}})
	}
	return docs, nil
}
