package chart

import (
	"testing"
	"unicode"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"
)

// FuzzChartYAML parses arbitrary Chart.yaml bytes and validates them. Metadata that passes must
// have a usable name, a semver version, well-formed unique dependency keys and sanitised strings.
func FuzzChartYAML(f *testing.F) {
	f.Add([]byte(chartYAML))
	f.Add([]byte("apiVersion: v2\nname: ../../x\nversion: 1.0.0\n"))
	f.Add([]byte("apiVersion: v2\nname: a\nversion: 1.0.0\nmaintainers: [null]\ndependencies: [null]\n"))
	f.Add([]byte("apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- {name: x, alias: \"a\\nb\"}\n- {name: x}\n"))
	f.Add([]byte("\uFEFFname: \"a\\tb\"\nversion: v1.2\ndescription: \"\\u0000\\u200b\"\ntype: library\n"))
	f.Add([]byte(aliasBomb("description")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := checkAPIVersion(data); err != nil {
			return
		}
		md := &Metadata{}
		if err := yaml.Unmarshal(trimBOM(data), md); err != nil {
			return
		}
		if err := md.Validate(); err != nil {
			return
		}
		checkName(t, md.Name)
		if md.Name == "." {
			t.Fatalf("name %q accepted", md.Name)
		}
		if _, err := semver.NewVersion(md.Version); err != nil {
			t.Fatalf("version %q accepted: %v", md.Version, err)
		}
		for _, s := range []string{md.Name, md.Description, md.Home, md.Icon, md.AppVersion, md.KubeVersion, md.Condition, md.Tags} {
			checkSanitised(t, s)
		}
		checkDependencyKeys(t, md.Dependencies)
	})
}

func checkSanitised(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if r != ' ' && (unicode.IsSpace(r) || !unicode.IsPrint(r)) {
			t.Fatalf("string %q keeps rune %U", s, r)
		}
	}
}

func checkDependencyKeys(t *testing.T, deps []*Dependency) {
	t.Helper()
	seen := map[string]bool{}
	for _, d := range deps {
		if d == nil {
			t.Fatal("a null dependency was accepted")
		}
		key := d.Name
		if d.Alias != "" {
			key = d.Alias
			if !aliasFormat.MatchString(d.Alias) {
				t.Fatalf("alias %q accepted", d.Alias)
			}
		}
		if seen[key] {
			t.Fatalf("dependency key %q accepted twice", key)
		}
		seen[key] = true
	}
}
