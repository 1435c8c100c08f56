package repo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy bounds the retries of a request that failed with 429, a 5xx status or a transport
// error. Zero fields take the defaults given on each field.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included; 4 when zero, 1 disables retries.
	MaxAttempts int
	// InitialBackoff is the wait before the second attempt, doubled after each; 500ms when zero.
	InitialBackoff time.Duration
	// MaxBackoff is the longest single wait; a Retry-After asking for more ends the retries. 30s when zero.
	MaxBackoff time.Duration
	// MaxElapsed bounds the time spent on all attempts and waits together; 2m when zero.
	MaxElapsed time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = 500 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 30 * time.Second
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = 2 * time.Minute
	}
	return p
}

// retryableError marks an attempt's failure as worth another attempt, after at least after.
type retryableError struct {
	err   error
	after time.Duration
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// run calls try until it succeeds, fails with an error not marked retryable, or the attempts,
// the time budget or ctx run out. The returned error is the last attempt's, unmarked.
func (p RetryPolicy) run(ctx context.Context, try func() error) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := try()
		var re *retryableError
		if !errors.As(err, &re) {
			return err
		}
		wait, ok := p.next(ctx, attempt, start, re.after)
		if !ok {
			return re.err
		}
		if err := sleep(ctx, wait); err != nil {
			return errors.Join(re.err, err)
		}
	}
}

// next returns the wait before attempt+1, or false when no further attempt fits the policy.
func (p RetryPolicy) next(ctx context.Context, attempt int, start time.Time, retryAfter time.Duration) (time.Duration, bool) {
	if attempt >= p.MaxAttempts {
		return 0, false
	}
	wait := max(p.backoff(attempt), retryAfter)
	if wait > p.MaxBackoff || time.Since(start)+wait > p.MaxElapsed {
		return 0, false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return 0, false
	}
	return wait, true
}

// backoff is InitialBackoff doubled per attempt, capped at MaxBackoff, with ±20% jitter so that
// many clients failing together do not retry together.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	jitter := 0.8 + 0.4*rand.Float64() //nolint:gosec // G404: jitter needs no cryptographic randomness.
	return min(time.Duration(float64(d)*jitter), p.MaxBackoff)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date; 0 when absent or invalid.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// retryableStatus reports the statuses worth another attempt: 429 and the 5xx family except
// 501 Not Implemented, which will not change.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
}

// retryableTransportError reports whether a failed round trip may succeed when repeated: not
// when the caller's context is done, and not for certificate problems or size limits.
func retryableTransportError(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, ErrTooLarge) || errors.Is(err, errRedirectPolicy) || errors.Is(err, ErrAddressNotAllowed) {
		return false
	}
	var (
		verifyErr  *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		alertErr   tls.AlertError
		recordErr  tls.RecordHeaderError
	)
	return !errors.As(err, &verifyErr) && !errors.As(err, &unknownCA) && !errors.As(err, &hostErr) &&
		!errors.As(err, &invalidErr) && !errors.As(err, &alertErr) && !errors.As(err, &recordErr) &&
		!isRemoteTLSAlert(err)
}

// isRemoteTLSAlert reports a TLS alert sent by the server, such as "certificate required":
// crypto/tls reports it as a *net.OpError with Op "remote error" around an unexported type.
func isRemoteTLSAlert(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "remote error"
}
