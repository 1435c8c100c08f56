package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"
	"sigs.k8s.io/yaml"
)

// The media types of a Helm chart stored in an OCI registry.
const (
	mediaTypeHelmConfig = "application/vnd.cncf.helm.config.v1+json"
	mediaTypeHelmChart  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// Bounds on what the OCI side reads from a chart archive.
const (
	maxArchiveSize   = 10 << 20
	maxChartYAMLSize = 1 << 20
)

var errNoChartYAML = errors.New("no Chart.yaml at the top of the chart")

// chartNamePattern is a chart name that is one path element of a repository name: it starts
// with a letter or digit, so "." and ".." are out.
var chartNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

// chartInfo is what the registry needs from one packaged chart.
type chartInfo struct {
	name, version string
	// config is Chart.yaml as JSON, the manifest's config blob.
	config []byte
}

// newOCIRegistry returns an in-memory OCI registry holding every chart archive (*.tgz) directly in
// dir as <namespace>/<chart name>:<version>, the layout `helm push` produces. The registry is
// filled in-process, before anything listens, and the handler returned is read-only.
func newOCIRegistry(ctx context.Context, dir, namespace string, logger *log.Logger) (http.Handler, []string, error) {
	reg := registry.New(registry.Logger(logger))
	archives, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil {
		return nil, nil, fmt.Errorf("listing chart archives: %w", err)
	}
	var refs []string
	for _, archive := range archives {
		ref, err := pushArchive(ctx, reg, namespace, archive)
		if err != nil {
			return nil, nil, err
		}
		refs = append(refs, ref)
	}
	return readOnly(reg), refs, nil
}

// pushArchive stores one chart archive in reg and returns its reference.
func pushArchive(ctx context.Context, reg http.Handler, namespace, archive string) (string, error) {
	data, err := readBounded(archive, maxArchiveSize)
	if err != nil {
		return "", err
	}
	info, err := readChartInfo(data)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", filepath.Base(archive), err)
	}
	// Tags cannot hold "+", so Helm writes build metadata with "_".
	tag := strings.ReplaceAll(info.version, "+", "_")
	ref := path.Join(namespace, info.name) + ":" + tag
	repo, err := remote.NewRepository("chartserver.local/" + path.Join(namespace, info.name))
	if err != nil {
		return "", fmt.Errorf("chart %s: %w", ref, err)
	}
	repo.PlainHTTP = true
	repo.Client = &http.Client{Transport: handlerTransport{reg}}
	if err := pushChart(ctx, repo, info, data, tag); err != nil {
		return "", fmt.Errorf("storing %s: %w", ref, err)
	}
	return ref, nil
}

func pushChart(ctx context.Context, repo *remote.Repository, info chartInfo, archive []byte, tag string) error {
	config := ocispec.Descriptor{MediaType: mediaTypeHelmConfig, Digest: digest.FromBytes(info.config), Size: int64(len(info.config))}
	layer := ocispec.Descriptor{MediaType: mediaTypeHelmChart, Digest: digest.FromBytes(archive), Size: int64(len(archive))}
	if err := repo.Push(ctx, config, bytes.NewReader(info.config)); err != nil {
		return err
	}
	if err := repo.Push(ctx, layer, bytes.NewReader(archive)); err != nil {
		return err
	}
	manifest, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_0, "", oras.PackManifestOptions{
		ConfigDescriptor: &config,
		Layers:           []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{
			ocispec.AnnotationTitle: info.name, ocispec.AnnotationVersion: info.version,
			// A fixed time keeps the manifest digest the same for the same archive.
			ocispec.AnnotationCreated: "1970-01-01T00:00:00Z",
		},
	})
	if err != nil {
		return err
	}
	return repo.Tag(ctx, manifest, tag)
}

// readChartInfo finds <chart>/Chart.yaml in a gzipped tar archive and returns the chart's name,
// version and metadata as JSON.
func readChartInfo(archive []byte) (chartInfo, error) {
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return chartInfo{}, fmt.Errorf("not a gzip archive: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(zr, 10*maxArchiveSize))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return chartInfo{}, errNoChartYAML
		}
		if err != nil {
			return chartInfo{}, fmt.Errorf("reading the archive: %w", err)
		}
		parts := strings.Split(path.Clean(hdr.Name), "/")
		if len(parts) == 2 && parts[1] == "Chart.yaml" && hdr.Typeflag == tar.TypeReg {
			return parseChartYAML(tr)
		}
	}
}

func parseChartYAML(r io.Reader) (chartInfo, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxChartYAMLSize+1))
	if err != nil {
		return chartInfo{}, fmt.Errorf("reading Chart.yaml: %w", err)
	}
	if len(data) > maxChartYAMLSize {
		return chartInfo{}, fmt.Errorf("the chart's Chart.yaml is larger than %d bytes", maxChartYAMLSize)
	}
	var meta struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		return chartInfo{}, fmt.Errorf("parsing Chart.yaml: %w", err)
	}
	if !chartNamePattern.MatchString(meta.Name) || meta.Version == "" {
		return chartInfo{}, fmt.Errorf("the chart's Chart.yaml needs a plain name and a version, got name %q version %q", meta.Name, meta.Version)
	}
	config, err := yaml.YAMLToJSON(data)
	if err != nil {
		return chartInfo{}, fmt.Errorf("converting Chart.yaml to JSON: %w", err)
	}
	return chartInfo{name: meta.Name, version: meta.Version, config: config}, nil
}

func readBounded(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}

// handlerTransport sends requests straight to a handler, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
