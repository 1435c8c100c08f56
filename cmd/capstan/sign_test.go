package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/provenance/provenancetest"
	"github.com/capstan-dev/capstan/internal/render/cli"
	"github.com/capstan-dev/capstan/internal/testenv/oracle"
)

// signingFiles are a throwaway GnuPG-format keyring pair and the passphrase of its key.
type signingFiles struct {
	dir, secring, pubring, passFile string
}

// newSigningFiles generates a key "Capstan Test <test@capstan.dev>" encrypted with a passphrase,
// and writes the binary secret keyring helm reads with --keyring, the public keyring and the
// passphrase file.
func newSigningFiles(t *testing.T) signingFiles {
	t.Helper()
	dir := t.TempDir()
	key := provenancetest.NewKey(t, "Capstan Test", "test@capstan.dev", provenancetest.KeyOptions{})
	f := signingFiles{dir: dir, secring: filepath.Join(dir, "secring.gpg"), pubring: filepath.Join(dir, "pubring.gpg"),
		passFile: filepath.Join(dir, "passphrase")}
	write := func(p string, data []byte) {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(f.pubring, provenancetest.PublicKeyring(t, key))
	write(f.secring, provenancetest.SecretKeyring(t, "correct horse", key))
	write(f.passFile, []byte("correct horse\n"))
	return f
}

func helmOracle(t *testing.T, args ...string) (string, error) {
	t.Helper()
	helm, err := oracle.Helm()
	if err != nil {
		t.Fatalf("the reference helm binary is needed for this test and is not available: %v", err)
	}
	home := t.TempDir()
	cmd := exec.Command(helm, args...) // #nosec G204 -- the test's own helm binary and arguments.
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPackageSign_helmVerifiesCapstanSignedCharts(t *testing.T) {
	g := NewWithT(t)
	keys := newSigningFiles(t)
	src, out := filepath.Join(t.TempDir(), "web"), t.TempDir()
	writeChart(t, src)
	msg, err := runCapstan("package", src, "-d", out, "--sign", "--key", "Capstan Test", "--keyring", keys.secring,
		"--passphrase-file", keys.passFile)
	g.Expect(err).NotTo(HaveOccurred(), msg)
	archive := filepath.Join(out, "web-0.1.0.tgz")
	g.Expect(archive + ".prov").To(BeAnExistingFile())

	helmOut, err := helmOracle(t, "verify", archive, "--keyring", keys.pubring)
	g.Expect(err).NotTo(HaveOccurred(), helmOut)
	g.Expect(helmOut).To(ContainSubstring("Signed by: Capstan Test <test@capstan.dev>"))

	ours, err := runCapstan("verify", archive, "--keyring", keys.pubring)
	g.Expect(err).NotTo(HaveOccurred(), ours)
	g.Expect(ours).To(ContainSubstring("Signed by: Capstan Test <test@capstan.dev>\nUsing Key With Fingerprint: "))
	hash := helmOut[strings.Index(helmOut, "Chart Hash Verified: "):]
	g.Expect(ours).To(HaveSuffix(hash), "both report the same archive hash")
}

func TestPackageSign_capstanVerifiesHelmSignedCharts(t *testing.T) {
	g := NewWithT(t)
	keys := newSigningFiles(t)
	src, out := filepath.Join(t.TempDir(), "web"), t.TempDir()
	writeChart(t, src)
	helmOut, err := helmOracle(t, "package", src, "-d", out, "--sign", "--key", "Capstan Test", "--keyring", keys.secring,
		"--passphrase-file", keys.passFile)
	g.Expect(err).NotTo(HaveOccurred(), helmOut)
	archive := filepath.Join(out, "web-0.1.0.tgz")

	ours, err := runCapstan("verify", archive, "--keyring", keys.pubring)
	g.Expect(err).NotTo(HaveOccurred(), ours)
	g.Expect(ours).To(ContainSubstring("Signed by: Capstan Test <test@capstan.dev>"))

	rendered, err := runCapstan("template", archive, "--verify", "--keyring", keys.pubring)
	g.Expect(err).NotTo(HaveOccurred(), rendered)
	g.Expect(rendered).To(ContainSubstring("kind: ConfigMap"))

	// Signing the same archive with capstan gives byte for byte the text helm signed.
	helmProv, err := os.ReadFile(archive + ".prov") // #nosec G304 -- test file.
	g.Expect(err).NotTo(HaveOccurred())
	ring, err := cli.ReadKeyringFile(keys.secring)
	g.Expect(err).NotTo(HaveOccurred())
	signer, err := provenance.FindSigningKey(ring, "Capstan Test")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(provenance.Decrypt(signer, []byte("correct horse"))).To(Succeed())
	g.Expect(signArchive(archive, signer)).To(Succeed())
	ourProv, err := os.ReadFile(archive + ".prov") // #nosec G304 -- test file.
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(signedText(ourProv)).To(Equal(signedText(helmProv)))
}

// signedText is the clear-signed part of a provenance file, headers included.
func signedText(prov []byte) string {
	s := string(prov)
	return s[:strings.Index(s, "-----BEGIN PGP SIGNATURE-----")]
}

func TestVerifyCmd_refusals(t *testing.T) {
	keys := newSigningFiles(t)
	src, out := filepath.Join(t.TempDir(), "web"), t.TempDir()
	writeChart(t, src)
	if msg, err := runCapstan("package", src, "-d", out, "--sign", "--key", "Capstan Test", "--keyring", keys.secring,
		"--passphrase-file", keys.passFile); err != nil {
		t.Fatalf("%v: %s", err, msg)
	}
	archive := filepath.Join(out, "web-0.1.0.tgz")
	other := newSigningFiles(t)
	cases := map[string]struct {
		args    func(t *testing.T) []string
		message string
	}{
		"a keyring without the signer": {
			args:    func(*testing.T) []string { return []string{"verify", archive, "--keyring", other.pubring} },
			message: "which is not in the trusted keyring",
		},
		"an archive changed after signing": {
			args: func(t *testing.T) []string {
				dir := t.TempDir()
				copyFile(t, archive+".prov", filepath.Join(dir, "web-0.1.0.tgz.prov"))
				src2 := filepath.Join(t.TempDir(), "web")
				writeChart(t, src2)
				if err := os.WriteFile(filepath.Join(src2, "templates", "extra.yaml"), []byte("kind: Secret\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if msg, err := runCapstan("package", src2, "-d", dir); err != nil {
					t.Fatalf("%v: %s", err, msg)
				}
				return []string{"verify", filepath.Join(dir, "web-0.1.0.tgz"), "--keyring", keys.pubring}
			},
			message: `archive "web-0.1.0.tgz" has digest sha256:`,
		},
		"a missing provenance file": {
			args: func(t *testing.T) []string {
				dir := t.TempDir()
				copyFile(t, archive, filepath.Join(dir, "web-0.1.0.tgz"))
				return []string{"verify", filepath.Join(dir, "web-0.1.0.tgz"), "--keyring", keys.pubring}
			},
			message: "could not load provenance file",
		},
		"template --verify of a chart directory": {
			args:    func(*testing.T) []string { return []string{"template", src, "--verify", "--keyring", keys.pubring} },
			message: "unpacked charts cannot be verified",
		},
		"package --sign without --key": {
			args: func(t *testing.T) []string {
				return []string{"package", src, "-d", t.TempDir(), "--sign", "--keyring", keys.secring}
			},
			message: "--key is required for signing a package",
		},
		"package --sign with a wrong passphrase": {
			args: func(t *testing.T) []string {
				bad := filepath.Join(t.TempDir(), "pass")
				if err := os.WriteFile(bad, []byte("wrong\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{"package", src, "-d", t.TempDir(), "--sign", "--key", "Capstan Test", "--keyring", keys.secring, "--passphrase-file", bad}
			},
			message: "the private key cannot be decrypted",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := runCapstan(tc.args(t)...)
			g.Expect(err).To(MatchError(ContainSubstring(tc.message)))
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from) // #nosec G304 -- test files.
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
