package reconcile

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/ocisign"
	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/repo"
)

// VerifyingSource is a ChartSource that can check a chart's signature while fetching it, and
// read the trust material a ChartRepository's spec.verify names. FetchVerified checks a
// provenance file (http(s) repositories); FetchSigned checks the signatures of an OCI chart's
// manifest. Both return the archive's digest as "sha256:<hex>", and errors matching
// repo.ErrUnverified for a refusal.
type VerifyingSource interface {
	FetchVerified(ctx context.Context, cr *capstanv1.ChartRepository, chart, version string,
		check repo.ProvenanceCheck) ([]byte, string, error)
	FetchSigned(ctx context.Context, cr *capstanv1.ChartRepository, chart, version string,
		q repo.SignatureQuery, check repo.SignatureCheck) ([]byte, string, error)
	ReadRepositorySecret(ctx context.Context, cr *capstanv1.ChartRepository, name string) (*corev1.Secret, error)
}

// ociVerifier is a cosign or notation verifier.
type ociVerifier interface {
	Query() repo.SignatureQuery
	Verify(ctx context.Context, subject repo.SignatureSubject, sigs []repo.SignatureArtifact) (*ocisign.Result, error)
}

// keyringKeys are the Secret keys a pgp keyring is read from, in order.
var keyringKeys = []string{"keyring", "keyring.gpg"}

// errUnverified marks a verification failure that the mode decides about: enforce stalls,
// warn records it and goes on.
var errUnverified = errors.New("chart not verified")

// unverifiedError is a verification failure of the desired chart: its message is one sentence
// naming the chart, its digest when known, and the cause.
type unverifiedError struct {
	msg   string
	cause error
}

func (e *unverifiedError) Error() string   { return e.msg }
func (e *unverifiedError) Unwrap() []error { return []error{errUnverified, e.cause} }

// verification returns the verification the Release asks for (its own spec.chart.verify, else
// its repository's spec.verify) and whether it is the Release's own.
func (s *session) verification() (*capstanv1.ChartVerification, bool) {
	if v := s.rel.Spec.Chart.Verify; v != nil {
		return v, true
	}
	return s.repo.Spec.Verify, false
}

// fetchChart returns the desired chart's archive, verified when the Release or its repository
// asks for it. Errors are classified. In enforce mode a chart that does not verify stalls the Release with
// VerificationFailed before anything is rendered; in warn mode the failure is recorded on the
// Verified condition and in an event, and the unverified archive is used.
func (s *session) fetchChart(ctx context.Context) ([]byte, error) {
	v, own := s.verification()
	if v == nil {
		s.rel.Status.Verification = nil
		removeCondition(s.rel, capstanv1.VerifiedCondition)
		return s.fetchUnverified(ctx)
	}
	data, st, err := s.fetchVerified(ctx, v, own)
	if err == nil {
		s.rel.Status.Verification = st
		setCondition(s.rel, capstanv1.VerifiedCondition, metav1.ConditionTrue, capstanv1.VerificationSucceededReason, verifiedMessage(st))
		return data, nil
	}
	if !errors.Is(err, errUnverified) {
		return nil, err
	}
	s.rel.Status.Verification = nil
	setCondition(s.rel, capstanv1.VerifiedCondition, metav1.ConditionFalse, capstanv1.VerificationFailedReason, err.Error())
	if v.GetMode() != capstanv1.VerificationModeWarn {
		return nil, stallErr(capstanv1.VerificationFailedReason, err)
	}
	s.event(corev1EventWarning, capstanv1.VerificationFailedReason, "Verify", err.Error()+"; mode is warn, so the chart is used")
	return s.fetchUnverified(ctx)
}

// fetchUnverified fetches the archive checked only against the digest its source announced.
func (s *session) fetchUnverified(ctx context.Context) ([]byte, error) {
	data, err := s.source().Fetch(ctx, s.repo, s.desired.ChartName, s.desired.ChartVersion)
	if err != nil {
		return nil, s.sourceError(err)
	}
	return data, nil
}

// fetchVerified fetches the archive and its provenance file and checks them with the keyring
// v names. Failures that the mode decides about match errUnverified and name the chart, the
// digest and what failed.
func (s *session) fetchVerified(ctx context.Context, v *capstanv1.ChartVerification, own bool) ([]byte, *capstanv1.VerificationStatus, error) {
	name, version := s.desired.ChartName, s.desired.ChartVersion
	src, ok := s.source().(VerifyingSource)
	if !ok {
		return nil, nil, s.unverified("", errors.New("this chart source cannot verify signatures"))
	}
	if v.Provider != capstanv1.VerificationProviderPGP {
		return s.fetchSigned(ctx, src, v, own)
	}
	ring, err := s.keyring(ctx, src, v, own)
	if err != nil {
		return nil, nil, err
	}
	var result *provenance.Verification
	check := func(archive []byte, fileName string, prov []byte) error {
		var err error
		result, err = provenance.Verify(archive, prov, ring, provenance.VerifyOptions{FileName: fileName, ChartName: name, ChartVersion: version})
		return err
	}
	data, digest, err := src.FetchVerified(ctx, s.repo, name, version, check)
	switch {
	case errors.Is(err, repo.ErrUnverified):
		return nil, nil, s.unverified(digest, err)
	case err != nil:
		return nil, nil, s.sourceError(err)
	}
	return data, &capstanv1.VerificationStatus{Provider: v.Provider, ChartName: name, ChartVersion: version,
		Digest: result.Digest, Fingerprint: result.Fingerprint, Signer: cut(result.Signer, 512)}, nil
}

// fetchSigned fetches an OCI chart after checking the signatures of its manifest with cosign
// or notation and the trust material v names.
func (s *session) fetchSigned(ctx context.Context, src VerifyingSource, v *capstanv1.ChartVerification, own bool) ([]byte, *capstanv1.VerificationStatus, error) {
	name, version := s.desired.ChartName, s.desired.ChartVersion
	secret, where, err := s.trustSecret(ctx, src, v, own)
	if err != nil {
		return nil, nil, err
	}
	var ver ociVerifier
	switch v.Provider {
	case capstanv1.VerificationProviderCosign:
		policy := ocisign.CosignPolicy{RequireTlog: v.GetTransparencyLog() == capstanv1.TransparencyLogRequired}
		for _, id := range v.MatchOIDCIdentity {
			policy.Identities = append(policy.Identities, ocisign.Identity{Issuer: id.Issuer, Subject: id.Subject})
		}
		ver, err = ocisign.NewCosign(secret.Data, policy)
	case capstanv1.VerificationProviderNotation:
		ver, err = ocisign.NewNotation(secret.Data)
	default:
		err = fmt.Errorf("provider %q is not known", v.Provider)
	}
	if err != nil {
		return nil, nil, s.unverified("", fmt.Errorf("the Secret %s: %w", where, err))
	}
	var result *ocisign.Result
	check := func(ctx context.Context, subject repo.SignatureSubject, sigs []repo.SignatureArtifact) error {
		var err error
		result, err = ver.Verify(ctx, subject, sigs)
		return err
	}
	data, digest, err := src.FetchSigned(ctx, s.repo, name, version, ver.Query(), check)
	switch {
	case errors.Is(err, repo.ErrUnverified):
		return nil, nil, s.unverified(digest, err)
	case err != nil:
		return nil, nil, s.sourceError(err)
	}
	return data, &capstanv1.VerificationStatus{Provider: v.Provider, ChartName: name, ChartVersion: version, Digest: digest,
		Fingerprint: result.Fingerprint, Signer: cut(result.Signer, 512), Issuer: cut(result.Issuer, 512)}, nil
}

// verifiedMessage is the Verified=True message: who signed which chart.
func verifiedMessage(st *capstanv1.VerificationStatus) string {
	what := fmt.Sprintf("chart %s %s (%s)", st.ChartName, st.ChartVersion, st.Digest)
	switch {
	case st.Provider == capstanv1.VerificationProviderPGP:
		return fmt.Sprintf("%s is signed by %s, key %s", what, st.Signer, st.Fingerprint)
	case st.Issuer != "":
		return fmt.Sprintf("%s is signed (%s) by %s, issued by %s", what, st.Provider, st.Signer, st.Issuer)
	default:
		return fmt.Sprintf("%s is signed (%s) with %s, key SHA-256 %s", what, st.Provider, st.Signer, st.Fingerprint)
	}
}

// trustSecret reads the Secret v names: from the Release's namespace as the Release when the
// Release names it, else from the repository's namespace as the repository's credentials are
// read. It also returns "namespace/name" for messages.
func (s *session) trustSecret(ctx context.Context, src VerifyingSource, v *capstanv1.ChartVerification, own bool) (*corev1.Secret, string, error) {
	field, ns := "spec.verify.secretRef", s.repo.Namespace
	var secret *corev1.Secret
	var err error
	if own {
		field, ns = "spec.chart.verify.secretRef", s.rel.Namespace
		secret = &corev1.Secret{}
		err = s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: v.SecretRef.Name}, secret)
	} else {
		secret, err = src.ReadRepositorySecret(ctx, s.repo, v.SecretRef.Name)
	}
	if apierrors.IsNotFound(err) {
		return nil, "", s.unverified("", fmt.Errorf("the Secret %s/%s named by %s does not exist", ns, v.SecretRef.Name, field))
	}
	if err != nil {
		return nil, "", apiErr(capstanv1.VerificationFailedReason, fmt.Errorf("reading the Secret %s/%s named by %s: %w", ns, v.SecretRef.Name, field, err))
	}
	return secret, ns + "/" + v.SecretRef.Name, nil
}

// keyring reads and parses the OpenPGP keyring v names (see trustSecret for where from).
func (s *session) keyring(ctx context.Context, src VerifyingSource, v *capstanv1.ChartVerification, own bool) (openpgp.EntityList, error) {
	field, ns := "spec.verify.secretRef", s.repo.Namespace
	if own {
		field, ns = "spec.chart.verify.secretRef", s.rel.Namespace
	}
	secret, _, err := s.trustSecret(ctx, src, v, own)
	if err != nil {
		return nil, err
	}
	for _, key := range keyringKeys {
		if data, ok := secret.Data[key]; ok {
			ring, err := provenance.ReadKeyring(data)
			if err != nil {
				return nil, s.unverified("", fmt.Errorf("the Secret %s/%s: %w", ns, v.SecretRef.Name, err))
			}
			return ring, nil
		}
	}
	return nil, s.unverified("", fmt.Errorf("the Secret %s/%s named by %s has no key keyring or keyring.gpg", ns, v.SecretRef.Name, field))
}

// unverified is a verification failure of the desired chart, as one sentence naming the chart,
// its digest when known, and the cause.
func (s *session) unverified(digest string, cause error) error {
	what := fmt.Sprintf("chart %s %s", s.desired.ChartName, s.desired.ChartVersion)
	if digest != "" {
		what += " (" + digest + ")"
	}
	return &unverifiedError{msg: fmt.Sprintf("%s failed verification: %v", what, cause), cause: cause}
}

// cut shortens s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
