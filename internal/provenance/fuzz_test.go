package provenance_test

import (
	"testing"
	"time"

	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/provenance/provenancetest"
)

// FuzzVerify feeds arbitrary provenance files to Verify: it must never panic, and whatever it
// accepts must sign the archive's digest under a trusted key.
func FuzzVerify(f *testing.F) {
	key := provenancetest.NewKey(f, "Fuzz", "fuzz@example.com", provenancetest.KeyOptions{})
	ring, err := provenance.ReadKeyring(provenancetest.PublicKeyring(f, key))
	if err != nil {
		f.Fatal(err)
	}
	good, err := provenance.Sign(archive, "web-1.2.3.tgz", meta("web", "1.2.3"), key, time.Time{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nname: web\n...\nfiles: {}\n-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, prov []byte) {
		v, err := provenance.Verify(archive, prov, ring, provenance.VerifyOptions{FileName: "web-1.2.3.tgz"})
		if err != nil {
			return
		}
		if v.Digest != provenance.Digest(archive) || v.Fingerprint == "" {
			t.Fatalf("accepted a provenance file that does not sign the archive: %+v", v)
		}
	})
}

// FuzzReadKeyring feeds arbitrary keyrings to ReadKeyring: it must never panic.
func FuzzReadKeyring(f *testing.F) {
	key := provenancetest.NewKey(f, "Fuzz", "fuzz@example.com", provenancetest.KeyOptions{})
	f.Add(provenancetest.PublicKeyring(f, key))
	f.Add(provenancetest.ArmoredPublicKeyring(f, key))
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"))
	f.Fuzz(func(_ *testing.T, data []byte) {
		_, _ = provenance.ReadKeyring(data)
	})
}
