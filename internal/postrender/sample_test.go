package postrender

import (
	"context"
	"os"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/render"
)

// TestPostRenderer_sample renders the example chart hello with the post-renderers, common
// metadata and values of config/samples/capstan_v1alpha1_release_postrender.yaml, so the sample
// `make run` applies installs rather than stalling on a patch that matches nothing.
func TestPostRenderer_sample(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile("../../config/samples/capstan_v1alpha1_release_postrender.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	var rel capstanv1.Release
	g.Expect(yaml.UnmarshalStrict(data, &rel)).To(Succeed())
	values, err := rel.GetValues()
	g.Expect(err).NotTo(HaveOccurred())
	c, err := chart.Load("../../config/samples/charts/hello", chart.DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	res, err := render.Render(context.Background(), c, values, render.Options{
		ReleaseName: rel.Name, PostRenderer: New(rel.Spec.PostRenderers, rel.Spec.CommonMetadata),
	})
	g.Expect(err).NotTo(HaveOccurred())
	text := res.Manifest()
	for _, want := range []string{
		"revisionHistoryLimit: 3", "example.com/patched-by: capstan", `patched: "true"`,
		"image: registry.example.com/mirror/hello:", "example.com/team: platform", "example.com/owner: platform@example.com",
	} {
		g.Expect(text).To(ContainSubstring(want))
	}
}
