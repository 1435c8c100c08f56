package api_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

var samplesDir = filepath.Join(repoRoot, "config", "samples")

// sampleFiles returns the resources listed in config/samples/kustomization.yaml.
func sampleFiles() []string {
	data, err := os.ReadFile(filepath.Join(samplesDir, "kustomization.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var k struct {
		Resources []string `json:"resources"`
	}
	Expect(yaml.Unmarshal(data, &k)).To(Succeed())
	return k.Resources
}

// readObjects decodes every YAML document of a file.
func readObjects(path string) []*unstructured.Unstructured {
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		Expect(err).NotTo(HaveOccurred(), "decoding %s", path)
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

var _ = Describe("Samples", func() {
	It("lists every sample file in the kustomization", func() {
		matches, err := filepath.Glob(filepath.Join(samplesDir, "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var files []string
		for _, m := range matches {
			if base := filepath.Base(m); base != "kustomization.yaml" {
				files = append(files, base)
			}
		}
		listed := sampleFiles()
		sort.Strings(listed)
		Expect(files).To(Equal(listed))
	})

	It("accepts every sample with strict field validation", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		kinds := map[string]int{}
		for _, file := range sampleFiles() {
			for _, obj := range readObjects(filepath.Join(samplesDir, file)) {
				obj.SetNamespace(ns)
				Expect(k8sClient.Create(ctx, obj, client.FieldValidation(metav1.FieldValidationStrict))).
					To(Succeed(), "sample %s (%s %s)", file, obj.GetKind(), obj.GetName())
				kinds[obj.GetKind()]++
			}
		}
		Expect(kinds).To(HaveKeyWithValue(capstanv1.ReleaseKind, BeNumerically(">=", 2)))
		Expect(kinds).To(HaveKeyWithValue(capstanv1.ChartRepositoryKind, BeNumerically(">=", 2)))

		By("reading the samples back through the Go types")
		var rels capstanv1.ReleaseList
		Expect(k8sClient.List(ctx, &rels, client.InNamespace(ns))).To(Succeed())
		for i := range rels.Items {
			values, err := rels.Items[i].GetValues()
			Expect(err).NotTo(HaveOccurred())
			Expect(values).NotTo(BeEmpty(), "sample Release %s shows inline values", rels.Items[i].Name)
		}
		var repos capstanv1.ChartRepositoryList
		Expect(k8sClient.List(ctx, &repos, client.InNamespace(ns))).To(Succeed())
		oci := 0
		for i := range repos.Items {
			if repos.Items[i].IsOCI() {
				oci++
			}
		}
		Expect(oci).To(Equal(1), "one HTTP and one OCI repository sample")
	})

	It("shows the advanced options in the advanced Release sample", func() {
		objs := readObjects(filepath.Join(samplesDir, "capstan_v1alpha1_release_advanced.yaml"))
		Expect(objs).To(HaveLen(1))
		rel := &capstanv1.Release{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(objs[0].Object, rel, true)).To(Succeed())
		Expect(rel.Spec.ValuesFrom).NotTo(BeEmpty())
		Expect(rel.GetUpgradeRemediation().GetRetries()).To(BeNumerically(">", 0))
		Expect(rel.GetDriftMode()).To(Equal(capstanv1.DriftDetectionEnabled))
		Expect(rel.Spec.DriftDetection.Ignore).NotTo(BeEmpty())
		Expect(rel.GetConflictPolicy()).To(Equal(capstanv1.ConflictYield))
		Expect(rel.GetYieldRules()).NotTo(BeEmpty())
	})

	It("names a kubeconfig Secret in the remote Release sample", func() {
		objs := readObjects(filepath.Join(samplesDir, "capstan_v1alpha1_release_remote.yaml"))
		Expect(objs).To(HaveLen(1))
		rel := &capstanv1.Release{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(objs[0].Object, rel, true)).To(Succeed())
		Expect(rel.Spec.KubeConfig).NotTo(BeNil())
		Expect(rel.Spec.KubeConfig.SecretRef.GetKey()).To(Equal(capstanv1.DefaultKubeConfigKey))
	})
})
