package provenance_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/provenance/provenancetest"
)

var (
	keysOnce sync.Once
	keys     struct{ trusted, stranger, expired, revoked *openpgp.Entity }
)

// testKeys generates the keys once per test binary: RSA generation is the slow part.
func testKeys(t testing.TB) {
	keysOnce.Do(func() {
		keys.trusted = provenancetest.NewKey(t, "Chart Publisher", "publisher@example.com", provenancetest.KeyOptions{})
		keys.stranger = provenancetest.NewKey(t, "Someone Else", "else@example.com", provenancetest.KeyOptions{})
		keys.expired = provenancetest.NewKey(t, "Old Publisher", "old@example.com", provenancetest.KeyOptions{
			Created: time.Now().Add(-48 * time.Hour), Lifetime: 24 * time.Hour})
		keys.revoked = provenancetest.NewKey(t, "Leaked Publisher", "leaked@example.com", provenancetest.KeyOptions{})
		provenancetest.Revoke(t, keys.revoked)
	})
}

var archive = []byte("\x1f\x8b pretend this is web-1.2.3.tgz")

func meta(name, version string) *chart.Metadata {
	return &chart.Metadata{APIVersion: "v2", Name: name, Version: version, Description: "A web server", AppVersion: "2.0"}
}

func sign(t *testing.T, data []byte, file string, md *chart.Metadata, key *openpgp.Entity, at time.Time) []byte {
	t.Helper()
	prov, err := provenance.Sign(data, file, md, key, at)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return prov
}

func TestVerify_goodProvenance(t *testing.T) {
	g := NewWithT(t)
	testKeys(t)
	prov := sign(t, archive, "web-1.2.3.tgz", meta("web", "1.2.3"), keys.trusted, time.Time{})
	for name, ring := range map[string][]byte{
		"binary keyring":  provenancetest.PublicKeyring(t, keys.stranger, keys.trusted),
		"armored keyring": provenancetest.ArmoredPublicKeyring(t, keys.trusted),
	} {
		kr, err := provenance.ReadKeyring(ring)
		g.Expect(err).NotTo(HaveOccurred(), name)
		v, err := provenance.Verify(archive, prov, kr, provenance.VerifyOptions{FileName: "web-1.2.3.tgz", ChartName: "web", ChartVersion: "1.2.3"})
		g.Expect(err).NotTo(HaveOccurred(), name)
		g.Expect(v.Digest).To(Equal(provenance.Digest(archive)))
		g.Expect(v.Signer).To(Equal("Chart Publisher <publisher@example.com>"))
		g.Expect(v.Fingerprint).To(HaveLen(40))
		g.Expect(v.ChartName + " " + v.ChartVersion).To(Equal("web 1.2.3"))
	}
}

func TestVerify_helmFormat(t *testing.T) {
	g := NewWithT(t)
	testKeys(t)
	prov := string(sign(t, archive, "web-1.2.3.tgz", meta("web", "1.2.3"), keys.trusted, time.Time{}))
	g.Expect(prov).To(HavePrefix("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"))
	g.Expect(prov).To(ContainSubstring("apiVersion: v2\nappVersion: \"2.0\"\ndescription: A web server\nname: web\nversion: 1.2.3\n\n...\nfiles:\n  web-1.2.3.tgz: " + provenance.Digest(archive) + "\n"))
}

func TestVerify_badInputs(t *testing.T) {
	testKeys(t)
	good := func() []byte {
		return sign(t, archive, "web-1.2.3.tgz", meta("web", "1.2.3"), keys.trusted, time.Time{})
	}
	trusted := provenancetest.PublicKeyring(t, keys.trusted, keys.expired, keys.revoked)
	tampered := append(bytes.Clone(archive), '!')
	cases := map[string]struct {
		archive, prov, ring []byte
		kind                error
		message             string
	}{
		"a provenance file for another chart": {
			prov: sign(t, archive, "web-1.2.3.tgz", meta("api", "1.2.3"), keys.trusted, time.Time{}),
			kind: provenance.ErrChartMismatch, message: `provenance is for chart "api" version "1.2.3", not "web" version "1.2.3"`,
		},
		"a provenance file for another version": {
			prov: sign(t, archive, "web-1.2.4.tgz", meta("web", "1.2.4"), keys.trusted, time.Time{}),
			kind: provenance.ErrChartMismatch, message: `not "web" version "1.2.3"`,
		},
		"a tampered archive": {
			archive: tampered, prov: good(),
			kind: provenance.ErrDigestMismatch, message: `archive "web-1.2.3.tgz" has digest ` + provenance.Digest(tampered) + ", but the provenance signs",
		},
		"a signature by a key not in the keyring": {
			prov: sign(t, archive, "web-1.2.3.tgz", meta("web", "1.2.3"), keys.stranger, time.Time{}),
			kind: provenance.ErrUntrustedKey, message: "which is not in the trusted keyring",
		},
		"a signature by an expired key": {
			prov: sign(t, archive, "web-1.2.3.tgz", meta("web", "1.2.3"), keys.expired, time.Now().Add(-47*time.Hour)),
			kind: provenance.ErrKeyExpired, message: "(Old Publisher <old@example.com>), which has expired",
		},
		"a signature by a revoked key": {
			prov: sign(t, archive, "web-1.2.3.tgz", meta("web", "1.2.3"), keys.revoked, time.Time{}),
			kind: provenance.ErrKeyRevoked, message: "which is revoked",
		},
		"an altered signed text": {
			prov: bytes.Replace(good(), []byte("description: A web server"), []byte("description: A web servex"), 1),
			kind: provenance.ErrBadSignature, message: "does not verify",
		},
		"an oversized provenance file": {
			prov: append(good(), bytes.Repeat([]byte("x"), provenance.MaxSize)...),
			kind: provenance.ErrMalformed, message: "larger than the limit of 65536",
		},
		"a file that is not clear-signed": {
			prov: []byte("name: web\nversion: 1.2.3\n...\nfiles: {}\n"),
			kind: provenance.ErrMalformed, message: "holds no OpenPGP clear-signed message",
		},
		"a signed text without a files block": {
			prov: signRaw(t, "name: web\nversion: 1.2.3\n"),
			kind: provenance.ErrMalformed, message: "separated by a line",
		},
		"a signed files block that is not a map": {
			prov: signRaw(t, "name: web\nversion: 1.2.3\n\n...\nfiles: [a, b]\n"),
			kind: provenance.ErrMalformed, message: "files block does not parse",
		},
		"a digest for another file name only": {
			prov: sign(t, archive, "other.tgz", meta("web", "1.2.3"), keys.trusted, time.Time{}),
			kind: provenance.ErrDigestMismatch, message: `provenance signs no digest for "web-1.2.3.tgz" (it lists "other.tgz")`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			data := archive
			if tc.archive != nil {
				data = tc.archive
			}
			kr, err := provenance.ReadKeyring(trusted)
			g.Expect(err).NotTo(HaveOccurred())
			v, err := provenance.Verify(data, tc.prov, kr, provenance.VerifyOptions{FileName: "web-1.2.3.tgz", ChartName: "web", ChartVersion: "1.2.3"})
			g.Expect(v).To(BeNil())
			g.Expect(err).To(MatchError(provenance.ErrVerificationFailed))
			g.Expect(errors.Is(err, tc.kind)).To(BeTrue(), "kind of %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.message))
		})
	}
}

// signRaw clear-signs arbitrary text with the trusted key, for malformed statements.
func signRaw(t *testing.T, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := clearsignEncode(&b, keys.trusted)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(text))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadKeyring(t *testing.T) {
	testKeys(t)
	cases := map[string]struct {
		data    []byte
		message string
	}{
		"empty":           {data: nil, message: "keyring holds no key"},
		"garbage":         {data: []byte("not a key"), message: "keyring cannot be read"},
		"armored garbage": {data: []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n"), message: "keyring cannot be read"},
		"over 4 MiB":      {data: make([]byte, provenance.MaxKeyringSize+1), message: "larger than the limit"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := provenance.ReadKeyring(tc.data)
			g.Expect(err).To(MatchError(provenance.ErrKeyring))
			g.Expect(err.Error()).To(ContainSubstring(tc.message))
		})
	}
	t.Run("two armored blocks", func(t *testing.T) {
		g := NewWithT(t)
		two := append(provenancetest.ArmoredPublicKeyring(t, keys.trusted), provenancetest.ArmoredPublicKeyring(t, keys.stranger)...)
		kr, err := provenance.ReadKeyring(two)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(kr).To(HaveLen(2))
	})
}

func TestFindSigningKey(t *testing.T) {
	g := NewWithT(t)
	testKeys(t)
	ring, err := provenance.ReadKeyring(provenancetest.SecretKeyring(t, "", keys.trusted, keys.stranger))
	g.Expect(err).NotTo(HaveOccurred())
	e, err := provenance.FindSigningKey(ring, "Chart Publisher")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.PrimaryIdentity().Name).To(Equal("Chart Publisher <publisher@example.com>"))
	_, err = provenance.FindSigningKey(ring, "example.com")
	g.Expect(err).To(MatchError(ContainSubstring("more than one key contains the id")))
	_, err = provenance.FindSigningKey(ring, "nobody")
	g.Expect(err).To(MatchError(ContainSubstring("no key in the keyring")))
	pub, err := provenance.ReadKeyring(provenancetest.PublicKeyring(t, keys.trusted))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = provenance.FindSigningKey(pub, "Chart Publisher")
	g.Expect(err).To(MatchError(ContainSubstring("has no private key")))
}

func TestVerify_withoutExpectations(t *testing.T) {
	g := NewWithT(t)
	testKeys(t)
	prov := sign(t, archive, "web-1.2.3.tgz", meta("web", "1.2.3"), keys.trusted, time.Time{})
	kr, err := provenance.ReadKeyring(provenancetest.PublicKeyring(t, keys.trusted))
	g.Expect(err).NotTo(HaveOccurred())
	v, err := provenance.Verify(archive, prov, kr, provenance.VerifyOptions{FileName: "download"})
	g.Expect(err).NotTo(HaveOccurred(), "the digest is found under <name>-<version>.tgz")
	g.Expect(v.FileName).To(Equal("web-1.2.3.tgz"))
	g.Expect(strings.HasPrefix(v.Digest, "sha256:")).To(BeTrue())
}
