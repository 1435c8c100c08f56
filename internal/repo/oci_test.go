package repo

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fillRegistry pushes app 1.0.0, 1.1.0, 1.2.0+build.1 (tag 1.2.0_build.1), 2.0.0-rc.1 and two
// tags that are not strict semver, and returns the charts by version.
func fillRegistry(t *testing.T, reg *ociRegistry) map[string][]byte {
	charts := map[string][]byte{}
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0+build.1", "2.0.0-rc.1"} {
		charts[v] = makeChart(t, "app", v)
		reg.pushChart(t, "charts/app", tagOf(v), charts[v], helmArtifact)
	}
	reg.pushChart(t, "charts/app", "latest", charts["1.0.0"], helmArtifact)
	reg.pushChart(t, "charts/app", "v3.0.0", charts["1.0.0"], helmArtifact)
	return charts
}

func TestOCIRepository_resolveAndFetch(t *testing.T) {
	reg := newOCIRegistry(t)
	charts := fillRegistry(t, reg)
	cases := map[string]struct {
		constraint string
		want       string
		listsTags  bool
	}{
		"the empty constraint is the newest stable tag":         {constraint: "", want: "1.2.0+build.1", listsTags: true},
		"a range resolves over the listed tags":                 {constraint: "~1.1", want: "1.1.0", listsTags: true},
		"a pre-release range admits the release candidate":      {constraint: ">=2.0.0-0", want: "2.0.0-rc.1", listsTags: true},
		"an exact version is used as the tag directly":          {constraint: "1.0.0", want: "1.0.0"},
		"build metadata maps to an underscore tag":              {constraint: "1.2.0+build.1", want: "1.2.0+build.1"},
		"non-semver tags such as latest and v3.0.0 are ignored": {constraint: ">=3.0.0-0", want: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			before := len(reg.rec.all())
			r, err := New("oci://"+reg.host()+"/charts", Options{PlainHTTP: true})
			g.Expect(err).NotTo(HaveOccurred())
			cv, err := r.Resolve(context.Background(), "app", tc.constraint)
			if tc.want == "" {
				g.Expect(err).To(MatchError(ErrVersionNotFound))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cv.Version).To(Equal(tc.want))
			g.Expect(cv.AppVersion).To(Equal("9.9.9"), "read from the config blob")
			g.Expect(cv.Digest).To(Equal(sha256Hex(charts[tc.want])))
			g.Expect(cv.URLs).To(Equal([]string{"oci://" + reg.host() + "/charts/app:" + tagOf(tc.want)}))
			listed := false
			for _, q := range reg.rec.all()[before:] {
				listed = listed || q.path == "/v2/charts/app/tags/list"
			}
			g.Expect(listed).To(Equal(tc.listsTags))

			data, err := r.Fetch(context.Background(), cv)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(data).To(Equal(charts[tc.want]))
		})
	}
}

func TestOCIRepository_notFound(t *testing.T) {
	reg := newOCIRegistry(t)
	fillRegistry(t, reg)
	cases := map[string]struct {
		chart, constraint string
		want              error
		text              string
	}{
		"an unknown chart":             {chart: "nope", constraint: "1.x", want: ErrChartNotFound, text: `chart "nope" not found`},
		"an unknown exact version":     {chart: "app", constraint: "9.9.9", want: ErrVersionNotFound, text: `version "9.9.9" not found`},
		"no version in range":          {chart: "app", constraint: "5.x", want: ErrVersionNotFound},
		"an invalid constraint":        {chart: "app", constraint: "latest", want: ErrInvalidConstraint},
		"a chart name that climbs out": {chart: "../other", want: ErrInvalidURL},
		"a chart name with a path":     {chart: "a/b", want: ErrInvalidURL},
		"a chart name with capitals":   {chart: "App", constraint: "1.x", want: ErrInvalidURL},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			r, err := NewOCIRepository("oci://"+reg.host()+"/charts", Options{PlainHTTP: true})
			g.Expect(err).NotTo(HaveOccurred())
			_, err = r.Resolve(context.Background(), tc.chart, tc.constraint)
			g.Expect(err).To(MatchError(tc.want))
			g.Expect(err.Error()).To(ContainSubstring(tc.text))
		})
	}
}

func TestOCIRepository_auth(t *testing.T) {
	dockerAuth := func(key, user, pass string) []byte {
		enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		return []byte(fmt.Sprintf(`{"auths":{"other.example.com":{"auth":"b3RoZXI6eA=="},%q:{"auth":%q}}}`, key, enc))
	}
	cases := map[string]struct {
		mode   string
		opts   func(host string) Options
		ok     bool
		tokens bool
	}{
		"basic credentials": {mode: "basic", ok: true,
			opts: func(string) Options { return Options{Username: "robot", Password: "s3cret-pw"} }},
		"wrong basic credentials": {mode: "basic",
			opts: func(string) Options { return Options{Username: "robot", Password: "wrong-s3cret"} }},
		"basic credentials exchanged for a token": {mode: "token", ok: true, tokens: true,
			opts: func(string) Options { return Options{Username: "robot", Password: "s3cret-pw"} }},
		"wrong credentials at the token endpoint": {mode: "token",
			opts: func(string) Options { return Options{Username: "robot", Password: "wrong-s3cret"} }},
		"a static bearer token": {mode: "token", ok: true,
			opts: func(string) Options { return Options{BearerToken: "static-t0ken"} }},
		"no credentials": {mode: "token", opts: func(string) Options { return Options{} }},
		"a .dockerconfigjson entry for the host": {mode: "basic", ok: true,
			opts: func(h string) Options { return Options{DockerConfigJSON: dockerAuth(h, "robot", "s3cret-pw")} }},
		"a .dockerconfigjson entry keyed by URL": {mode: "token", ok: true, tokens: true,
			opts: func(h string) Options {
				return Options{DockerConfigJSON: dockerAuth("http://"+h+"/v1/", "robot", "s3cret-pw")}
			}},
		"a .dockerconfigjson without the host is anonymous": {mode: "basic",
			opts: func(string) Options {
				return Options{DockerConfigJSON: dockerAuth("elsewhere:5000", "robot", "s3cret-pw")}
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			reg := newOCIRegistry(t)
			chart := makeChart(t, "app", "1.0.0")
			reg.pushChart(t, "app", "1.0.0", chart, helmArtifact)
			reg.setAuth(tc.mode, "robot", "s3cret-pw", "static-t0ken")
			opts := tc.opts(reg.host())
			opts.PlainHTTP = true
			r, err := NewOCIRepository("oci://"+reg.host(), opts)
			g.Expect(err).NotTo(HaveOccurred())
			_, checkErr := r.Check(context.Background())
			cv, err := r.Resolve(context.Background(), "app", "1.x")
			if !tc.ok {
				g.Expect(err).To(MatchError(ErrUnauthorized))
				expectNoSecrets(g, err, "s3cret", "t0ken", "robot")
				g.Expect(checkErr).To(MatchError(ErrUnauthorized))
				return
			}
			g.Expect(checkErr).NotTo(HaveOccurred())
			g.Expect(err).NotTo(HaveOccurred())
			data, err := r.Fetch(context.Background(), cv)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(data).To(Equal(chart))
			g.Expect(reg.issued.Load() > 0).To(Equal(tc.tokens))
		})
	}
}

func TestOCIRepository_rejectsArtifacts(t *testing.T) {
	chart := makeChart(t, "app", "1.0.0")
	cases := map[string]struct {
		artifact artifact
		opts     Options
		want     error
		text     string
	}{
		"a container image config": {artifact: artifact{manifestType: ocispec.MediaTypeImageManifest,
			configType: ocispec.MediaTypeImageConfig, layerTypes: []string{MediaTypeHelmChart}},
			want: ErrUnsupportedMediaType, text: `config media type "application/vnd.oci.image.config.v1+json"`},
		"no chart layer": {artifact: artifact{manifestType: ocispec.MediaTypeImageManifest,
			configType: MediaTypeHelmConfig, layerTypes: []string{ocispec.MediaTypeImageLayerGzip}},
			want: ErrUnsupportedMediaType, text: "has 0 layers"},
		"two chart layers": {artifact: artifact{manifestType: ocispec.MediaTypeImageManifest,
			configType: MediaTypeHelmConfig, layerTypes: []string{MediaTypeHelmChart, MediaTypeHelmLegacyChart}},
			want: ErrUnsupportedMediaType, text: "has 2 layers"},
		"a Docker schema 2 manifest": {artifact: artifact{manifestType: "application/vnd.docker.distribution.manifest.v2+json",
			configType: MediaTypeHelmConfig, layerTypes: []string{MediaTypeHelmChart}},
			want: ErrUnsupportedMediaType, text: "has media type"},
		"a layer announced above the limit": {artifact: artifact{manifestType: ocispec.MediaTypeImageManifest,
			configType: MediaTypeHelmConfig, layerTypes: []string{MediaTypeHelmChart}, layerSize: 11 << 20},
			want: ErrTooLarge, text: "larger than the limit of 10485760 bytes"},
		"a layer above a configured limit": {artifact: helmArtifact, opts: Options{MaxChartSize: 100},
			want: ErrTooLarge, text: "larger than the limit of 100 bytes"},
		"a layer of negative size": {artifact: artifact{manifestType: ocispec.MediaTypeImageManifest,
			configType: MediaTypeHelmConfig, layerTypes: []string{MediaTypeHelmChart}, layerSize: -1},
			want: ErrInvalidIndex, text: "chart layer has size -1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			reg := newOCIRegistry(t)
			layer := reg.pushChart(t, "app", "1.0.0", chart, tc.artifact)
			tc.opts.PlainHTTP = true
			r, err := NewOCIRepository("oci://"+reg.host(), tc.opts)
			g.Expect(err).NotTo(HaveOccurred())
			_, err = r.Resolve(context.Background(), "app", "")
			g.Expect(err).To(MatchError(tc.want))
			g.Expect(err.Error()).To(ContainSubstring(tc.text))
			if layer.Digest != "" {
				g.Expect(reg.blobGets(layer.Digest.String())).To(BeZero(), "the layer is never pulled")
			}
		})
	}
}

func TestOCIRepository_legacyLayerIsAccepted(t *testing.T) {
	g := NewWithT(t)
	reg := newOCIRegistry(t)
	chart := makeChart(t, "app", "1.0.0")
	reg.pushChart(t, "app", "1.0.0", chart, artifact{manifestType: ocispec.MediaTypeImageManifest,
		configType: MediaTypeHelmConfig, layerTypes: []string{MediaTypeHelmLegacyChart, "application/vnd.cncf.helm.chart.provenance.v1.prov"}})
	r, err := NewOCIRepository("oci://"+reg.host(), Options{PlainHTTP: true})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred())
	data, err := r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(data).To(Equal(chart))
}

func TestOCIRepository_tamperedLayer(t *testing.T) {
	g := NewWithT(t)
	reg := newOCIRegistry(t)
	chart := makeChart(t, "app", "1.0.0")
	layer := reg.pushChart(t, "app", "1.0.0", chart, helmArtifact)
	evil := make([]byte, len(chart))
	copy(evil, chart)
	evil[len(evil)-1] ^= 0xff
	reg.setTamper("/v2/app/blobs/"+layer.Digest.String(), evil)
	cache := NewArchiveCache(0)
	r, err := NewOCIRepository("oci://"+reg.host(), Options{PlainHTTP: true, ArchiveCache: cache})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Fetch(context.Background(), cv)
	g.Expect(err).To(MatchError(ErrDigestMismatch))
	g.Expect(cache.Stats().Entries).To(BeZero())
}

func TestOCIRepository_blobRedirectDropsCredentials(t *testing.T) {
	g := NewWithT(t)
	reg := newOCIRegistry(t)
	chart := makeChart(t, "app", "1.0.0")
	layer := reg.pushChart(t, "app", "1.0.0", chart, helmArtifact)
	cdn := newRepoServer(t)
	cdn.setHandler(cdn.rec.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(chart)
	})))
	reg.setAuth("basic", "robot", "s3cret-pw", "")
	reg.setRedirect("/v2/app/blobs/"+layer.Digest.String(), cdn.URL+"/blob")
	r, err := NewOCIRepository("oci://"+reg.host(), Options{PlainHTTP: true, Username: "robot", Password: "s3cret-pw"})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred())
	data, err := r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(data).To(Equal(chart))
	reqs := cdn.rec.all()
	g.Expect(reqs).To(HaveLen(1))
	g.Expect(reqs[0].authorization).To(BeEmpty())
}

func TestOCIRepository_concurrentFetchesPullOnce(t *testing.T) {
	g := NewWithT(t)
	reg := newOCIRegistry(t)
	chart := makeChart(t, "app", "1.0.0")
	layer := reg.pushChart(t, "app", "1.0.0", chart, helmArtifact)
	r, err := NewOCIRepository("oci://"+reg.host(), Options{PlainHTTP: true, ArchiveCache: NewArchiveCache(0)})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred())
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, err := r.Fetch(context.Background(), cv)
			g.Expect(err).NotTo(HaveOccurred())
		})
	}
	wg.Wait()
	g.Expect(reg.blobGets(layer.Digest.String())).To(Equal(1))
}

// TestOCIRepository_fetchByReference fetches ChartVersions the controller rebuilt from its
// status (URL and digest only), as after a restart.
func TestOCIRepository_fetchByReference(t *testing.T) {
	reg := newOCIRegistry(t)
	chart := makeChart(t, "app", "1.0.0")
	reg.pushChart(t, "charts/app", "1.0.0", chart, helmArtifact)
	good := "oci://" + reg.host() + "/charts/app:1.0.0"
	cases := map[string]struct {
		url, digest string
		want        error
	}{
		"the reference and its digest":      {url: good, digest: sha256Hex(chart)},
		"the reference alone":               {url: good},
		"a digest the tag no longer has":    {url: good, digest: sha256Hex([]byte("other")), want: ErrDigestMismatch},
		"a reference on another registry":   {url: "oci://evil.example.com/charts/app:1.0.0", want: ErrInvalidURL},
		"a reference outside the namespace": {url: "oci://" + reg.host() + "/private/app:1.0.0", want: ErrInvalidURL},
		"no reference at all":               {want: ErrNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			r, err := NewOCIRepository("oci://"+reg.host()+"/charts", Options{PlainHTTP: true})
			g.Expect(err).NotTo(HaveOccurred())
			cv := &ChartVersion{Name: "app", Version: "1.0.0", Digest: tc.digest}
			if tc.url != "" {
				cv.URLs = []string{tc.url}
			}
			data, err := r.Fetch(context.Background(), cv)
			if tc.want != nil {
				g.Expect(err).To(MatchError(tc.want))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(data).To(Equal(chart))
		})
	}
}

func TestDockerCredential(t *testing.T) {
	cases := map[string]struct {
		json, host      string
		user, pass, tok string
		err             error
	}{
		"a bare host key with auth": {json: `{"auths":{"r.example.com":{"auth":"dTpw"}}}`, host: "r.example.com", user: "u", pass: "p"},
		"a URL key":                 {json: `{"auths":{"https://r.example.com/v1/":{"username":"u","password":"p"}}}`, host: "r.example.com", user: "u", pass: "p"},
		"a port must match":         {json: `{"auths":{"r.example.com:5000":{"auth":"dTpw"}}}`, host: "r.example.com"},
		"Docker Hub aliases match":  {json: `{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}`, host: "registry-1.docker.io", user: "u", pass: "p"},
		"an identity token":         {json: `{"auths":{"r.example.com":{"identitytoken":"rt"}}}`, host: "r.example.com"},
		"a registry token":          {json: `{"auths":{"r.example.com":{"registrytoken":"at"}}}`, host: "r.example.com", tok: "at"},
		"a password with a colon":   {json: `{"auths":{"r.example.com":{"auth":"dTpwOnE="}}}`, host: "r.example.com", user: "u", pass: "p:q"},
		"not JSON":                  {json: `auths`, host: "r", err: ErrInvalidOptions},
		"auth that is not base64":   {json: `{"auths":{"r":{"auth":"%%%"}}}`, host: "r", err: ErrInvalidOptions},
		"auth without a colon":      {json: `{"auths":{"r":{"auth":"dXNlcg=="}}}`, host: "r", err: ErrInvalidOptions},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := dockerCredential([]byte(tc.json), tc.host)
			if tc.err != nil {
				g.Expect(err).To(MatchError(tc.err))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Username).To(Equal(tc.user))
			g.Expect(c.Password).To(Equal(tc.pass))
			g.Expect(c.AccessToken).To(Equal(tc.tok))
		})
	}
}
