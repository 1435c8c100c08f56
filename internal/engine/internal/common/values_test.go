package common

import (
	"bytes"
	"testing"

	. "github.com/onsi/gomega"
)

func testValues() Values {
	return Values{
		"a":    map[string]any{"b": map[string]any{"c": 1}, "s": "x"},
		"v":    Values{"w": 2},
		"leaf": "value",
	}
}

func TestValues_Table(t *testing.T) {
	cases := map[string]struct {
		path    string
		want    Values
		wantErr string
	}{
		"one level":                   {path: "a", want: Values{"b": map[string]any{"c": 1}, "s": "x"}},
		"two levels":                  {path: "a.b", want: Values{"c": 1}},
		"a nested Values table":       {path: "v", want: Values{"w": 2}},
		"a missing key":               {path: "nope", wantErr: `"nope" is not a table`},
		"a scalar is not a table":     {path: "leaf", wantErr: `"leaf" is not a table`},
		"a missing key deeper inside": {path: "a.x", wantErr: `"x" is not a table`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := testValues().Table(tc.path)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestValues_PathValue(t *testing.T) {
	cases := map[string]struct {
		path    string
		want    any
		wantErr string
	}{
		"a top-level value":      {path: "leaf", want: "value"},
		"a nested value":         {path: "a.b.c", want: 1},
		"a table is not a value": {path: "a.b", wantErr: `"b" is not a value`},
		"a missing value":        {path: "a.zz", wantErr: `"zz" is not a value`},
		"a missing parent":       {path: "zz.y", wantErr: `"y" is not a value`},
		"an empty path":          {path: "", wantErr: "YAML path cannot be empty"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := testValues().PathValue(tc.path)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestValues_encoding(t *testing.T) {
	g := NewWithT(t)
	v := Values{"b": 1, "a": []any{"x"}}
	y, err := v.YAML()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(y).To(Equal("a:\n- x\nb: 1\n"))
	var buf bytes.Buffer
	g.Expect(v.Encode(&buf)).To(Succeed())
	g.Expect(buf.String()).To(Equal(y))
	g.Expect(Values(nil).AsMap()).To(Equal(map[string]any{}))
	g.Expect(v.AsMap()).To(HaveKey("a"))
}

func TestKubeVersion(t *testing.T) {
	g := NewWithT(t)
	kv := NewKubeVersion("v1.30.2-gke.1", "v1.30.2", "1", "30")
	g.Expect(kv.String()).To(Equal("v1.30.2"))
	g.Expect(kv.GitVersion()).To(Equal("v1.30.2-gke.1"))
	g.Expect(KubeVersion{Version: "v1.30.2-eks"}.String()).To(Equal("v1.30.2-eks"))
}

func TestCapabilities_Copy(t *testing.T) {
	g := NewWithT(t)
	orig := &Capabilities{APIVersions: append(make(VersionSet, 0, 10), "v1")}
	cp := orig.Copy()
	cp.APIVersions = append(cp.APIVersions, "apps/v1")
	g.Expect(orig.APIVersions[:2][1]).To(BeEmpty())
	g.Expect(cp.APIVersions).To(Equal(VersionSet{"v1", "apps/v1"}))
}
