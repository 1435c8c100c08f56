package provenance

import (
	"errors"
	"fmt"
)

// ErrVerificationFailed matches every error Verify returns: the chart is not proven to come
// from a trusted signer. The more precise errors below are matched as well.
var ErrVerificationFailed = errors.New("verification failed")

var (
	// ErrMalformed means the provenance file is too large, not a clear-signed message, or its text
	// is not a Chart.yaml block and a files block.
	ErrMalformed = errors.New("malformed provenance file")
	// ErrUntrustedKey means the signature was made by a key that is not in the keyring.
	ErrUntrustedKey = errors.New("signed by an untrusted key")
	// ErrBadSignature means the signature does not verify over the signed text.
	ErrBadSignature = errors.New("bad signature")
	// ErrKeyExpired means the signing key, or the signature, has expired.
	ErrKeyExpired = errors.New("signing key expired")
	// ErrKeyRevoked means the signing key or its identity has been revoked.
	ErrKeyRevoked = errors.New("signing key revoked")
	// ErrDigestMismatch means the archive's sha256 is not the one the provenance file signs, or the
	// file names no digest for the archive.
	ErrDigestMismatch = errors.New("archive digest mismatch")
	// ErrChartMismatch means the signed Chart.yaml names another chart or version.
	ErrChartMismatch = errors.New("chart mismatch")
	// ErrKeyring means the keyring cannot be read or holds no key.
	ErrKeyring = errors.New("invalid keyring")
)

// Error is a verification or signing failure: the kind (one of the errors above) and a
// sentence that names what failed. It matches ErrVerificationFailed when it is a verification
// failure.
type Error struct {
	Kind   error
	Msg    string
	verify bool
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the kind, and ErrVerificationFailed for verification failures.
func (e *Error) Unwrap() []error {
	if e.verify {
		return []error{e.Kind, ErrVerificationFailed}
	}
	return []error{e.Kind}
}

func failf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), verify: true}
}
