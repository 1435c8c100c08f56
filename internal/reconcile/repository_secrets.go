package reconcile

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/redact"
	"github.com/capstan-dev/capstan/internal/repo"
)

// Errors about the Secrets a ChartRepository names. Their messages name the Secret, the field
// that refers to it and the keys involved, never a value.
var (
	// ErrRepositorySecretNotFound reports that spec.secretRef or spec.certSecretRef names a
	// Secret that does not exist.
	ErrRepositorySecretNotFound = errors.New("repository secret not found")
	// ErrRepositoryCredentials reports a spec.secretRef Secret without usable credentials:
	// a missing, empty or ambiguous key, or a .dockerconfigjson that is not JSON.
	ErrRepositoryCredentials = errors.New("invalid repository credentials")
	// ErrRepositoryTLS reports a spec.certSecretRef Secret without usable TLS material.
	ErrRepositoryTLS = errors.New("invalid repository TLS material")
)

// Keys read from the Secrets a ChartRepository names.
const (
	repoKeyUsername     = "username"
	repoKeyPassword     = "password"
	repoKeyBearerToken  = "bearerToken"
	repoKeyDockerConfig = corev1.DockerConfigJsonKey
	repoKeyCA           = "ca.crt"
	repoKeyCert         = corev1.TLSCertKey
	repoKeyKey          = corev1.TLSPrivateKeyKey
)

// repoSecretError is an error about a referenced Secret that matches its class with errors.Is.
type repoSecretError struct {
	class error
	msg   string
}

func (e *repoSecretError) Error() string { return e.msg }

// Is reports whether target is the error's class.
func (e *repoSecretError) Is(target error) bool { return target == e.class }

// repoSecrets are the Secrets a ChartRepository names; nil when it names none.
type repoSecrets struct {
	auth, tls *corev1.Secret
}

// repoReadSecrets reads spec.secretRef and spec.certSecretRef from cr's namespace and registers
// the credentials and the private key with the Redactor ctx carries.
func repoReadSecrets(ctx context.Context, reader client.Reader, cr *capstanv1.ChartRepository) (repoSecrets, error) {
	auth, err := repoReadSecret(ctx, reader, cr.Namespace, cr.Spec.SecretRef, "spec.secretRef")
	if err != nil {
		return repoSecrets{}, err
	}
	tlsSecret, err := repoReadSecret(ctx, reader, cr.Namespace, cr.Spec.CertSecretRef, "spec.certSecretRef")
	if err != nil {
		return repoSecrets{}, err
	}
	red := redact.FromContext(ctx)
	if auth != nil {
		red.AddSecret(auth.Data, auth.StringData) // username, password, bearerToken, .dockerconfigjson and its leaves
	}
	if tlsSecret != nil {
		red.AddBytes(tlsSecret.Data[repoKeyKey]) // the certificates are public
	}
	return repoSecrets{auth: auth, tls: tlsSecret}, nil
}

// repoReadSecret reads the Secret ref names, or returns nil when ref is nil.
func repoReadSecret(ctx context.Context, reader client.Reader, namespace string,
	ref *capstanv1.LocalObjectReference, field string) (*corev1.Secret, error) {
	if ref == nil {
		return nil, nil
	}
	secret := &corev1.Secret{}
	err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, &repoSecretError{class: ErrRepositorySecretNotFound,
			msg: fmt.Sprintf("Secret %q named by %s does not exist in namespace %q", ref.Name, field, namespace)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secret %q named by %s: %w", ref.Name, field, err)
	}
	return secret, nil
}

// repoResourceVersion is a Secret's resourceVersion, or "-" for no Secret.
func repoResourceVersion(s *corev1.Secret) string {
	if s == nil {
		return "-"
	}
	return s.ResourceVersion
}

// repoApplyCredentials reads the one kind of credentials the spec.secretRef Secret holds:
// username and password, a bearerToken, or (OCI only) a .dockerconfigjson.
func repoApplyCredentials(o *repo.Options, cr *capstanv1.ChartRepository, s *corev1.Secret) error {
	if s == nil {
		return nil
	}
	fail := func(format string, args ...any) error {
		return &repoSecretError{class: ErrRepositoryCredentials,
			msg: fmt.Sprintf("Secret %q named by spec.secretRef ", s.Name) + fmt.Sprintf(format, args...)}
	}
	user, hasUser := s.Data[repoKeyUsername]
	pass, hasPass := s.Data[repoKeyPassword]
	token, hasToken := s.Data[repoKeyBearerToken]
	docker, hasDocker := s.Data[repoKeyDockerConfig]
	switch kinds := repoCredentialKinds(hasUser || hasPass, hasToken, hasDocker); {
	case len(kinds) == 0:
		return fail("has none of the keys %s and %s, %s or %s", repoKeyUsername, repoKeyPassword, repoKeyBearerToken, repoKeyDockerConfig)
	case len(kinds) > 1:
		return fail("holds more than one kind of credentials (%s); keep one", strings.Join(kinds, ", "))
	case hasUser != hasPass:
		return fail("has the key %s but no key %s", repoPresentKey(hasUser), repoPresentKey(!hasUser))
	case hasUser:
		return repoBasicAuth(o, user, pass, fail)
	case hasToken:
		tok, err := repoSingleLine(repoKeyBearerToken, token, fail)
		o.BearerToken = tok
		return err
	}
	if !cr.IsOCI() {
		return fail("holds a %s, which only oci:// repositories use", repoKeyDockerConfig)
	}
	if !json.Valid(docker) {
		return fail("has a key %s that is not valid JSON", repoKeyDockerConfig)
	}
	o.DockerConfigJSON = docker
	return nil
}

// repoCredentialKinds names the kinds of credentials present, in a fixed order.
func repoCredentialKinds(basic, token, docker bool) []string {
	var kinds []string
	if basic {
		kinds = append(kinds, repoKeyUsername+"/"+repoKeyPassword)
	}
	if token {
		kinds = append(kinds, repoKeyBearerToken)
	}
	if docker {
		kinds = append(kinds, repoKeyDockerConfig)
	}
	return kinds
}

// repoPresentKey returns username when user is true, password otherwise.
func repoPresentKey(user bool) string {
	if user {
		return repoKeyUsername
	}
	return repoKeyPassword
}

// repoBasicAuth sets basic credentials. The password is used exactly as stored; the username
// may end with one line break (kubectl create secret --from-file keeps a file's last newline).
func repoBasicAuth(o *repo.Options, user, pass []byte, fail func(string, ...any) error) error {
	name, err := repoSingleLine(repoKeyUsername, user, fail)
	if err != nil {
		return err
	}
	if len(pass) == 0 {
		return fail("has an empty key %s", repoKeyPassword)
	}
	o.Username, o.Password = name, string(pass)
	return nil
}

// repoSingleLine returns a Secret value without one trailing line break, and refuses an empty
// value or one holding other control characters. The value never appears in the error.
func repoSingleLine(key string, value []byte, fail func(string, ...any) error) (string, error) {
	v := strings.TrimSuffix(strings.TrimSuffix(string(value), "\n"), "\r")
	if v == "" {
		return "", fail("has an empty key %s", key)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", fail("has a key %s holding a line break or another control character", key)
	}
	return v, nil
}

// repoApplyTLS reads the spec.certSecretRef Secret: ca.crt, and tls.crt with tls.key. Each is
// parsed here, so that a bad Secret is reported as such and not as a failed connection.
func repoApplyTLS(o *repo.Options, s *corev1.Secret) error {
	if s == nil {
		return nil
	}
	fail := func(format string, args ...any) error {
		return &repoSecretError{class: ErrRepositoryTLS,
			msg: fmt.Sprintf("Secret %q named by spec.certSecretRef ", s.Name) + fmt.Sprintf(format, args...)}
	}
	ca, hasCA := s.Data[repoKeyCA]
	crt, hasCrt := s.Data[repoKeyCert]
	key, hasKey := s.Data[repoKeyKey]
	switch {
	case !hasCA && !hasCrt && !hasKey:
		return fail("has none of the keys %s, %s and %s", repoKeyCA, repoKeyCert, repoKeyKey)
	case hasCrt && !hasKey:
		return fail("has the key %s but no key %s", repoKeyCert, repoKeyKey)
	case hasKey && !hasCrt:
		return fail("has the key %s but no key %s", repoKeyKey, repoKeyCert)
	case hasCA && !x509.NewCertPool().AppendCertsFromPEM(ca):
		return fail("has a key %s holding no PEM certificate", repoKeyCA)
	}
	if hasCrt {
		if _, err := tls.X509KeyPair(crt, key); err != nil {
			return fail("has keys %s and %s that are not a usable certificate and key: %s", repoKeyCert, repoKeyKey, repoTLSProblem(err))
		}
	}
	o.CAPEM, o.CertPEM, o.KeyPEM = ca, crt, key
	return nil
}

// repoTLSProblem is crypto/tls's explanation of an unusable key pair. Its texts describe the
// problem ("private key does not match public key") and never quote the material.
func repoTLSProblem(err error) string {
	return strings.TrimPrefix(err.Error(), "tls: ")
}
