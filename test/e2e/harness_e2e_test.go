package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

// exampleObjects is an HTTP and an OCI ChartRepository pointing at the suite's chart server and
// a Release of the example chart hello, as a user would write them.
func exampleObjects() string {
	return fmt.Sprintf(`apiVersion: capstan.dev/v1alpha1
kind: ChartRepository
metadata:
  name: examples
spec:
  url: %s
---
apiVersion: capstan.dev/v1alpha1
kind: ChartRepository
metadata:
  name: examples-oci
spec:
  url: %s
  plainHTTP: true
---
apiVersion: capstan.dev/v1alpha1
kind: Release
metadata:
  name: hello
spec:
  chart:
    repositoryRef:
      name: examples
    name: hello
  values:
    replicaCount: 1
`, chartRepoURL, ociRepoURL)
}

// repoIndex is the part of index.yaml the harness checks.
type repoIndex struct {
	Entries map[string][]struct {
		Version string   `json:"version"`
		Digest  string   `json:"digest"`
		URLs    []string `json:"urls"`
	} `json:"entries"`
}

func fetch(ctx context.Context, url string) []byte {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	Expect(resp.StatusCode).To(Equal(http.StatusOK), "GET %s", url)
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return body
}

// table splits kubectl's table output into the header's columns and the rows' first cells.
func table(out string) (header []string, names []string) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	header = strings.Fields(lines[0])
	for _, l := range lines[1:] {
		names = append(names, strings.Fields(l)[0])
	}
	return header, names
}

var _ = Describe("The end-to-end harness", func() {
	It("serves the example charts that bin/capstan packaged and indexed", func(ctx SpecContext) {
		var index repoIndex
		Expect(yaml.Unmarshal(fetch(ctx, chartRepoURL+"/index.yaml"), &index)).To(Succeed())
		Expect(index.Entries).To(HaveKey("hello"))
		Expect(index.Entries).To(HaveKey("stack"))
		for name, versions := range index.Entries {
			Expect(versions).NotTo(BeEmpty(), name)
			v := versions[0]
			Expect(v.URLs).NotTo(BeEmpty(), name)
			url := v.URLs[0]
			if !strings.Contains(url, "://") {
				url = chartRepoURL + "/" + url
			}
			sum := sha256.Sum256(fetch(ctx, url))
			Expect(hex.EncodeToString(sum[:])).To(Equal(v.Digest), "the digest of %s %s in index.yaml", name, v.Version)
		}
	})

	It("serves the same charts from an OCI registry", func(ctx SpecContext) {
		host, namespace, _ := strings.Cut(strings.TrimPrefix(ociRepoURL, "oci://"), "/")
		for _, chart := range []string{"hello", "stack"} {
			var tags struct {
				Tags []string `json:"tags"`
			}
			Expect(yaml.Unmarshal(fetch(ctx, "http://"+host+"/v2/"+namespace+"/"+chart+"/tags/list"), &tags)).To(Succeed())
			Expect(tags.Tags).To(ConsistOf("0.1.0"), chart)
		}
	})

	It("runs bin/manager as its own process, healthy", func(ctx SpecContext) {
		Expect(manager.Running()).To(BeTrue())
		for _, path := range []string{"/healthz", "/readyz"} {
			Expect(httpStatus(ctx, "http://"+managerProbeAddr+path)).To(Equal(http.StatusOK), path)
		}
	})

	It("applies a ChartRepository and a Release with kubectl and lists them", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		out := apply(ctx, ns, exampleObjects())
		Expect(out).To(ContainSubstring("chartrepository.capstan.dev/examples created"))
		Expect(out).To(ContainSubstring("release.capstan.dev/hello created"))

		By("listing the Releases with their printer columns")
		stdout, _, err := kubectl(ctx, "get", "releases", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		header, names := table(stdout)
		Expect(header).To(Equal([]string{"NAME", "CHART", "VERSION", "REVISION", "READY", "VERIFIED", "STATUS", "AGE"}))
		Expect(names).To(Equal([]string{"hello"}))

		By("listing the ChartRepositories with their URL")
		stdout, _, err = kubectl(ctx, "get", "crepo", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		header, names = table(stdout)
		Expect(header).To(Equal([]string{"NAME", "URL", "CHARTS", "READY", "STATUS", "AGE"}))
		Expect(names).To(Equal([]string{"examples", "examples-oci"}))
		Expect(stdout).To(ContainSubstring(chartRepoURL))
		Expect(stdout).To(ContainSubstring(ociRepoURL))

		By("finding both under the category capstan")
		stdout, _, err = kubectl(ctx, "get", "capstan", "-n", ns, "-o", "name")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Fields(stdout)).To(ConsistOf("chartrepository.capstan.dev/examples",
			"chartrepository.capstan.dev/examples-oci", "release.capstan.dev/hello"))

		By("applying the same objects again without a change")
		out = apply(ctx, ns, exampleObjects())
		Expect(out).To(ContainSubstring("release.capstan.dev/hello unchanged"))
	})
})
