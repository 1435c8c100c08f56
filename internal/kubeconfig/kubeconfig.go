// Package kubeconfig turns the kubeconfig of a remote cluster, read from a Secret, into a REST
// configuration, refusing everything that would make the manager run a program or read a file:
// exec and auth-provider plugins, and every field naming a path. Only inline credentials are
// accepted: a bearer token, a client certificate and key, and impersonation on top of either.
//
// The kubeconfig is decoded with clientcmd.Load, which only decodes, and the REST configuration is
// built here field by field from the decoded value; clientcmd's ClientConfig, which resolves
// file paths and runs plugins, is never called.
package kubeconfig

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ErrRefused is wrapped by every error of a kubeconfig that decodes but that Capstan does not
// accept.
var ErrRefused = errors.New("kubeconfig refused")

// ErrInvalid is wrapped by every error of data that is not a usable kubeconfig at all.
var ErrInvalid = errors.New("kubeconfig invalid")

// RESTConfig decodes data as a kubeconfig and returns the REST configuration of its current
// context (of its only context when current-context is empty). The errors name fields, never
// their values, so they may be shown on a Release: a kubeconfig's values are secret.
//
// Refused anywhere in the kubeconfig, whether the current context uses it or not: users' exec
// and auth-provider plugins, the file fields client-certificate, client-key and tokenFile,
// username and password (basic authentication), and clusters' certificate-authority (a file),
// proxy-url and insecure-skip-tls-verify. The server must be an https:// URL, and the user must
// carry a token or a client certificate and key.
func RESTConfig(data []byte) (*rest.Config, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, fmt.Errorf("%w: it is empty", ErrInvalid)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		// The decoder's messages name positions and Go types, not values; keep them short anyway.
		return nil, fmt.Errorf("%w: it does not decode as a kubeconfig: %s", ErrInvalid, firstLine(err.Error()))
	}
	if err := Check(cfg); err != nil {
		return nil, err
	}
	ctxName, kctx, err := currentContext(cfg)
	if err != nil {
		return nil, err
	}
	cluster, ok := cfg.Clusters[kctx.Cluster]
	if !ok || cluster == nil {
		return nil, fmt.Errorf("%w: context %q names cluster %q, which the kubeconfig does not define", ErrInvalid, ctxName, kctx.Cluster)
	}
	user, ok := cfg.AuthInfos[kctx.AuthInfo]
	if !ok || user == nil {
		return nil, fmt.Errorf("%w: context %q names user %q, which the kubeconfig does not define", ErrInvalid, ctxName, kctx.AuthInfo)
	}
	if err := checkServer(kctx.Cluster, cluster.Server); err != nil {
		return nil, err
	}
	hasCert := len(user.ClientCertificateData) > 0 || len(user.ClientKeyData) > 0
	if hasCert && (len(user.ClientCertificateData) == 0 || len(user.ClientKeyData) == 0) {
		return nil, fmt.Errorf("%w: user %q: client-certificate-data and client-key-data go together", ErrInvalid, kctx.AuthInfo)
	}
	if !hasCert && user.Token == "" {
		return nil, fmt.Errorf("%w: user %q has no credentials: give it token, or client-certificate-data and client-key-data", ErrInvalid, kctx.AuthInfo)
	}
	return &rest.Config{
		Host: cluster.Server,
		TLSClientConfig: rest.TLSClientConfig{
			ServerName: cluster.TLSServerName,
			CAData:     slices.Clone(cluster.CertificateAuthorityData),
			CertData:   slices.Clone(user.ClientCertificateData),
			KeyData:    slices.Clone(user.ClientKeyData),
		},
		DisableCompression: cluster.DisableCompression,
		BearerToken:        user.Token,
		Impersonate: rest.ImpersonationConfig{
			UserName: user.Impersonate,
			UID:      user.ImpersonateUID,
			Groups:   slices.Clone(user.ImpersonateGroups),
			Extra:    cloneExtra(user.ImpersonateUserExtra),
		},
	}, nil
}

// Check refuses a decoded kubeconfig that names a plugin, a file, basic authentication, a proxy
// or skipped TLS verification anywhere. It reports the first offending field of the entries in
// name order, so the same kubeconfig always gives the same message.
func Check(cfg *clientcmdapi.Config) error {
	for _, name := range sortedKeys(cfg.AuthInfos) {
		u := cfg.AuthInfos[name]
		if u == nil {
			continue
		}
		for _, f := range []struct {
			set          bool
			field, cause string
		}{
			{u.Exec != nil, "exec", "Capstan never runs credential plugins"},
			{u.AuthProvider != nil, "auth-provider", "Capstan never runs credential plugins"},
			{u.ClientCertificate != "", "client-certificate", "Capstan never reads files a kubeconfig names; use client-certificate-data"},
			{u.ClientKey != "", "client-key", "Capstan never reads files a kubeconfig names; use client-key-data"},
			{u.TokenFile != "", "tokenFile", "Capstan never reads files a kubeconfig names; use token"},
			{u.Username != "" || u.Password != "", "username/password", "basic authentication is not supported; use token or a client certificate"},
		} {
			if f.set {
				return fmt.Errorf("%w: user %q sets %s: %s", ErrRefused, name, f.field, f.cause)
			}
		}
	}
	for _, name := range sortedKeys(cfg.Clusters) {
		c := cfg.Clusters[name]
		if c == nil {
			continue
		}
		for _, f := range []struct {
			set          bool
			field, cause string
		}{
			{c.CertificateAuthority != "", "certificate-authority", "Capstan never reads files a kubeconfig names; use certificate-authority-data"},
			{c.ProxyURL != "", "proxy-url", "a kubeconfig may not send the manager's traffic through a proxy; the manager's environment (HTTPS_PROXY) applies"},
			{c.InsecureSkipTLSVerify, "insecure-skip-tls-verify", "credentials are only sent to a verified server; use certificate-authority-data"},
		} {
			if f.set {
				return fmt.Errorf("%w: cluster %q sets %s: %s", ErrRefused, name, f.field, f.cause)
			}
		}
	}
	return nil
}

// Credentials returns the secret values of a kubeconfig, whether or not RESTConfig accepts it:
// every user's token, password, client key, auth-provider settings and exec environment and
// arguments. The caller registers them with its redactor; the kubeconfig's other text (field
// names, server addresses) is not secret and stays readable in messages. Nothing is returned
// for data that does not decode.
func Credentials(data []byte) []string {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil
	}
	var out []string
	for _, u := range cfg.AuthInfos {
		if u == nil {
			continue
		}
		out = append(out, u.Token, u.Password, string(u.ClientKeyData))
		if u.AuthProvider != nil {
			for _, v := range u.AuthProvider.Config {
				out = append(out, v)
			}
		}
		if u.Exec != nil {
			out = append(out, u.Exec.Args...)
			for _, e := range u.Exec.Env {
				out = append(out, e.Value)
			}
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// currentContext returns the context the kubeconfig selects.
func currentContext(cfg *clientcmdapi.Config) (string, *clientcmdapi.Context, error) {
	name := cfg.CurrentContext
	if name == "" {
		if len(cfg.Contexts) != 1 {
			return "", nil, fmt.Errorf("%w: current-context is not set and there are %d contexts to choose from", ErrInvalid, len(cfg.Contexts))
		}
		for n := range cfg.Contexts {
			name = n
		}
	}
	kctx, ok := cfg.Contexts[name]
	if !ok || kctx == nil {
		return "", nil, fmt.Errorf("%w: current-context %q is not defined", ErrInvalid, name)
	}
	return name, kctx, nil
}

// checkServer accepts an https:// URL with a host and no user information.
func checkServer(cluster, server string) error {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: cluster %q: server is not a URL with a host", ErrInvalid, cluster)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%w: cluster %q: server must be an https:// URL, credentials are never sent in the clear", ErrRefused, cluster)
	}
	if u.User != nil {
		return fmt.Errorf("%w: cluster %q: server carries user information; put credentials in the user entry", ErrRefused, cluster)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cloneExtra(in map[string][]string) map[string][]string {
	if in == nil {
		return nil
	}
	out := make(map[string][]string, len(in))
	for k, v := range in {
		out[k] = slices.Clone(v)
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
