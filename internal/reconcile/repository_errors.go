package reconcile

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/repo"
)

// repoClass says how the ChartRepository controller reacts to a failed fetch.
type repoClass int

const (
	// repoTransient failures are returned to controller-runtime, whose rate limiter backs off.
	repoTransient repoClass = iota
	// repoWaiting failures wait for a referenced object with a fixed requeue.
	repoWaiting
	// repoStalledLocal failures only a spec or Secret change can fix; both are watched, so
	// nothing is requeued.
	repoStalledLocal
	// repoStalledRemote failures need a spec or Secret change, or a change at the repository
	// itself (new credentials accepted, a smaller or valid index, a new server certificate),
	// which no watch reports: the repository is checked again at its interval.
	repoStalledRemote
)

// repoMaxMessage bounds condition messages and event notes (events.k8s.io allows 1 KiB).
const repoMaxMessage = 1000

// repoFailure is a failed fetch with its class and the condition reason it is reported under.
type repoFailure struct {
	class  repoClass
	reason string
	err    error
}

// stalled reports whether the failure sets Stalled=True.
func (f *repoFailure) stalled() bool {
	return f.class == repoStalledLocal || f.class == repoStalledRemote
}

// message is the failure as a one-line, bounded condition message.
func (f *repoFailure) message() string {
	return repoOneLine(f.err.Error())
}

// repoClassify maps a fetch error to its class and reason, following docs/repositories.md
// and reference/hardening.md §3.2. Anything unrecognised is transient.
func repoClassify(err error) *repoFailure {
	fail := func(class repoClass, reason string) *repoFailure {
		return &repoFailure{class: class, reason: reason, err: err}
	}
	switch {
	case errors.Is(err, repo.ErrAddressNotAllowed):
		// A name may resolve elsewhere later, which no watch reports: checked again at the interval.
		return fail(repoStalledRemote, capstanv1.AddressNotAllowedReason)
	case errors.Is(err, ErrRepositorySecretNotFound):
		return fail(repoWaiting, capstanv1.SecretNotFoundReason)
	case errors.Is(err, ErrRepositoryCredentials), errors.Is(err, repo.ErrInvalidOptions):
		return fail(repoStalledLocal, capstanv1.AuthenticationFailedReason)
	case errors.Is(err, ErrRepositoryTLS):
		return fail(repoStalledLocal, capstanv1.TLSConfigInvalidReason)
	case errors.Is(err, repo.ErrInvalidURL):
		return fail(repoStalledLocal, capstanv1.IndexFetchFailedReason)
	case apierrors.IsForbidden(err):
		return fail(repoStalledRemote, capstanv1.AccessDeniedReason)
	case errors.Is(err, repo.ErrUnauthorized):
		return fail(repoStalledRemote, capstanv1.AuthenticationFailedReason)
	case errors.Is(err, repo.ErrEmptyIndex), errors.Is(err, repo.ErrNoAPIVersion), errors.Is(err, repo.ErrInvalidIndex):
		return fail(repoStalledRemote, capstanv1.IndexParseFailedReason)
	case errors.Is(err, repo.ErrTooLarge), repoIsCertificateError(err):
		return fail(repoStalledRemote, capstanv1.IndexFetchFailedReason)
	}
	return fail(repoTransient, capstanv1.IndexFetchFailedReason)
}

// repoIsCertificateError reports a TLS handshake that failed on a certificate: the server's
// does not verify against the configured CA or host name, or the server refused ours.
func repoIsCertificateError(err error) bool {
	var (
		verifyErr  *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		opErr      *net.OpError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) ||
		errors.As(err, &invalidErr) || (errors.As(err, &opErr) && opErr.Op == "remote error")
}

// repoOneLine turns an error text into one bounded line, cut on a rune boundary.
func repoOneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= repoMaxMessage {
		return s
	}
	cut := repoMaxMessage - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
