package repo

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzCheckManifest feeds arbitrary manifest JSON to the artifact check, which runs before any
// blob is fetched: whatever it accepts must be a single Helm chart layer of sha256 digest whose
// announced size is within (0, limit], under a Helm config.
func FuzzCheckManifest(f *testing.F) {
	chart := digest.FromString("chart")
	for _, seed := range []string{
		`{"schemaVersion":2,"config":{"mediaType":"` + MediaTypeHelmConfig + `","digest":"` + chart.String() + `","size":10},` +
			`"layers":[{"mediaType":"` + MediaTypeHelmChart + `","digest":"` + chart.String() + `","size":100}]}`,
		`{"config":{"mediaType":"application/vnd.oci.image.config.v1+json"},"layers":[]}`,
		`{"config":{"mediaType":"` + MediaTypeHelmConfig + `"},"layers":[{"mediaType":"` + MediaTypeHelmLegacyChart +
			`","digest":"sha512:` + strings.Repeat("a", 128) + `","size":5}]}`,
		`{"config":{"mediaType":"` + MediaTypeHelmConfig + `"},"layers":[{"mediaType":"` + MediaTypeHelmChart + `","size":99999999999}]}`,
		`null`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		var m ocispec.Manifest
		if json.Unmarshal(data, &m) != nil {
			return
		}
		l, err := checkManifest(&m, "fuzz", limit)
		if err != nil {
			return
		}
		if m.Config.MediaType != MediaTypeHelmConfig || l.Size <= 0 || l.Size > limit ||
			l.Digest.Algorithm() != digest.SHA256 || l.Digest.Validate() != nil ||
			(l.MediaType != MediaTypeHelmChart && l.MediaType != MediaTypeHelmLegacyChart) {
			t.Fatalf("accepted a layer it should refuse: %+v", l)
		}
	})
}

// FuzzDockerCredential parses arbitrary .dockerconfigjson payloads; errors must never quote
// the payload, which holds secrets.
func FuzzDockerCredential(f *testing.F) {
	f.Add([]byte(`{"auths":{"r.example.com":{"auth":"dTpw"}}}`), "r.example.com")
	f.Add([]byte(`{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p"}}}`), "docker.io")
	f.Add([]byte(`{"auths":{"r":{"auth":"%%%s3cret"}}}`), "r")
	f.Add([]byte(`{"auths":null}`), "")
	f.Fuzz(func(t *testing.T, data []byte, host string) {
		_, err := dockerCredential(data, host)
		if err != nil && len(data) > 8 && strings.Contains(err.Error(), string(data)) {
			t.Fatalf("error %q quotes the payload", err)
		}
	})
}

// FuzzRedact checks that a redacted URL never carries userinfo, a query or a fragment, in any
// spelling the parser accepts.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"https://user:pa55@h/p?sig=abc#frag", "http://h", "oci://r/ns", "://x", "https://h/%zz?q", "h?x=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := redactString(raw)
		u, err := url.Parse(out)
		if err != nil {
			if out != "<unparsable URL>" {
				t.Fatalf("redacted %q to %q, which does not parse: %v", raw, out, err)
			}
			return
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(out, "?") {
			t.Fatalf("redacted %q to %q, which still has userinfo, query or fragment", raw, out)
		}
	})
}
