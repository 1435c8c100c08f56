package helmchart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/capstan-dev/capstan/internal/testenv"
)

// TestChart_grantsWhatConfigDefaultGrants compares the RBAC and the manager flags the chart renders
// (release "capstan" in capstan-system, so the names agree) with `kubectl kustomize` of
// config/default, and of config/default with the single-tenant component for tenancy=single:
// every role's rules, expanded to single (group, resource, name, verb) grants, every binding's
// role and subjects, the aggregation labels, and each manager's effective flags must be equal, so
// the chart cannot quietly grant more (or run the manager differently) than the kustomize install.
func TestChart_grantsWhatConfigDefaultGrants(t *testing.T) {
	root := testenv.RepoRoot()
	overlay := t.TempDir()
	// kustomize takes only relative paths to other kustomizations.
	rel := func(dir ...string) string {
		p, err := filepath.Rel(overlay, filepath.Join(append([]string{root, "config"}, dir...)...))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	kustomization := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- %s\ncomponents:\n- %s\n",
		rel("default"), rel("rbac", "single-tenant"))
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		kustomize string
		set       []string
	}{
		"multi-tenant lockdown (the defaults)": {filepath.Join(root, "config", "default"), nil},
		"single tenant":                        {overlay, []string{"tenancy=single"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), "kubectl", "kustomize", c.kustomize).Output()
			if err != nil {
				t.Fatalf("kubectl kustomize %s: %v", c.kustomize, stderrOf(err))
			}
			want := grantsOf(t, out)
			args := []string{"capstan", chartDir, "--namespace", "capstan-system"}
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			r := capstanTemplate(t.Context(), args...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if diff := cmp.Diff(want, grantsOf(t, []byte(r.stdout))); diff != "" {
				t.Errorf("the chart's grants differ from config (-kustomize +chart):\n%s", diff)
			}
		})
	}
}

// TestChart_shardsRunAsConfigSharding renders the chart with one shard, shard1, and compares it
// with `kubectl kustomize config/sharding` as above: the same grants, and the same effective flags
// for the default shard (the objects without the label) and for shard1.
func TestChart_shardsRunAsConfigSharding(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "kubectl", "kustomize", filepath.Join(testenv.RepoRoot(), "config", "sharding")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize config/sharding: %v", stderrOf(err))
	}
	want := grantsOf(t, out)
	r := capstanTemplate(t.Context(), "capstan", chartDir, "--namespace", "capstan-system", "--set", "sharding.shards[0].name=shard1")
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := grantsOf(t, []byte(r.stdout))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the sharded chart differs from config/sharding (-kustomize +chart):\n%s", diff)
	}
	if sel := got.Flags["capstan-manager-shard1"]["--watch-label-selector"]; sel != "sharding.capstan.dev/key=shard1" {
		t.Errorf("shard1 watches %q", sel)
	}
}

// grants is what an install allows and runs, in comparable form.
type grants struct {
	// Roles maps "Kind namespace/name" to its sorted single grants.
	Roles map[string][]string
	// Aggregation maps a ClusterRole to its rbac.authorization.k8s.io/aggregate-to-* labels.
	Aggregation map[string][]string
	// Bindings maps "Kind namespace/name" to "roleRef -> subjects".
	Bindings map[string]string
	// Flags maps each Deployment to its manager container's effective flags (the last wins).
	Flags map[string]map[string]string
	// ServiceAccounts lists the ServiceAccounts created.
	ServiceAccounts []string
}

func grantsOf(t *testing.T, manifests []byte) grants {
	t.Helper()
	g := grants{Roles: map[string][]string{}, Aggregation: map[string][]string{}, Bindings: map[string]string{}, Flags: map[string]map[string]string{}}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		var u unstructured.Unstructured
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if u.Object == nil {
			continue
		}
		key := u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
		switch u.GetKind() {
		case "Role", "ClusterRole":
			var role rbacv1.ClusterRole
			fromUnstructured(t, u, &role)
			g.Roles[key] = expand(role.Rules)
			for l, v := range u.GetLabels() {
				if strings.HasPrefix(l, "rbac.authorization.k8s.io/aggregate-to-") {
					g.Aggregation[key] = append(g.Aggregation[key], l+"="+v)
				}
			}
			slices.Sort(g.Aggregation[key])
		case "RoleBinding", "ClusterRoleBinding":
			var b rbacv1.ClusterRoleBinding
			fromUnstructured(t, u, &b)
			var subjects []string
			for _, s := range b.Subjects {
				subjects = append(subjects, s.Kind+" "+s.Namespace+"/"+s.Name)
			}
			slices.Sort(subjects)
			g.Bindings[key] = b.RoleRef.Kind + "/" + b.RoleRef.Name + " -> " + strings.Join(subjects, ", ")
		case "Deployment":
			var d appsv1.Deployment
			fromUnstructured(t, u, &d)
			g.Flags[d.Name] = effectiveFlags(d.Spec.Template.Spec.Containers[0].Args)
			g.ServiceAccounts = append(g.ServiceAccounts, "runs as "+d.Spec.Template.Spec.ServiceAccountName)
		case "ServiceAccount":
			g.ServiceAccounts = append(g.ServiceAccounts, key)
		}
	}
	slices.Sort(g.ServiceAccounts)
	return g
}

func fromUnstructured(t *testing.T, u unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// expand turns rules into single grants, so that two ways of writing the same rights compare equal.
func expand(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{"*"}
		}
		for _, verb := range r.Verbs {
			for _, url := range r.NonResourceURLs {
				out = append(out, "nonResource "+url+" "+verb)
			}
			for _, group := range r.APIGroups {
				for _, res := range r.Resources {
					for _, name := range names {
						out = append(out, fmt.Sprintf("%s/%s/%s %s", group, res, name, verb))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// effectiveFlags reads --name[=value] arguments as the flag package does: the last one wins, a
// flag without a value is "true".
func effectiveFlags(args []string) map[string]string {
	flags := map[string]string{}
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok {
			value = "true"
		}
		flags[name] = value
	}
	return flags
}

func stderrOf(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%w: %s", err, exit.Stderr)
	}
	return err
}
