package kubeconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// secretToken stands for every secret value of the test kubeconfigs: no error may show it.
const secretToken = "s3cr3t-t0ken"

// kubeconfig returns a kubeconfig of one context whose cluster and user entries carry the
// extra lines given (indented under the entry).
func kubeconfig(clusterExtra, userExtra string) []byte {
	return []byte(`apiVersion: v1
kind: Config
current-context: remote
contexts:
- name: remote
  context: {cluster: remote, user: remote, namespace: ignored}
clusters:
- name: remote
  cluster:
    server: https://remote.example:6443
    certificate-authority-data: Y2E=
` + indent(clusterExtra) + `users:
- name: remote
  user:
` + indent(userExtra))
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

func TestRESTConfig_acceptsInlineCredentials(t *testing.T) {
	for _, tc := range []struct {
		name  string
		user  string
		check func(t *testing.T, host, token string, cert, key []byte, as string, groups []string, uid string)
	}{
		{"a token", "token: " + secretToken, func(t *testing.T, _, token string, _, _ []byte, _ string, _ []string, _ string) {
			if token != secretToken {
				t.Errorf("token = %q", token)
			}
		}},
		{"a client certificate", "client-certificate-data: Y2VydA==\nclient-key-data: a2V5", func(t *testing.T, _, _ string, cert, key []byte, _ string, _ []string, _ string) {
			if string(cert) != "cert" || string(key) != "key" {
				t.Errorf("cert, key = %q, %q", cert, key)
			}
		}},
		{"impersonation on a token", "token: t\nas: deployer\nas-uid: u1\nas-groups: [ops, dev]\nas-user-extra: {scopes: [a]}",
			func(t *testing.T, _, _ string, _, _ []byte, as string, groups []string, uid string) {
				if as != "deployer" || uid != "u1" || strings.Join(groups, ",") != "ops,dev" {
					t.Errorf("impersonation = %q %q %v", as, uid, groups)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := RESTConfig(kubeconfig("tls-server-name: api.internal\n", tc.user))
			if err != nil {
				t.Fatalf("RESTConfig: %v", err)
			}
			if cfg.Host != "https://remote.example:6443" || string(cfg.CAData) != "ca" || cfg.ServerName != "api.internal" {
				t.Errorf("host %q, CA %q, server name %q", cfg.Host, cfg.CAData, cfg.ServerName)
			}
			if cfg.ExecProvider != nil || cfg.AuthProvider != nil || cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" || cfg.BearerTokenFile != "" {
				t.Errorf("the REST config names a plugin or a file: %+v", cfg)
			}
			tc.check(t, cfg.Host, cfg.BearerToken, cfg.CertData, cfg.KeyData, cfg.Impersonate.UserName, cfg.Impersonate.Groups, cfg.Impersonate.UID)
		})
	}
}

func TestRESTConfig_refuses(t *testing.T) {
	for _, tc := range []struct {
		name, cluster, user string
		want                error
		field               string
	}{
		{"an exec plugin", "", "token: " + secretToken + "\nexec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, id]}", ErrRefused, "exec"},
		{"an auth provider", "", "auth-provider: {name: oidc, config: {id-token: " + secretToken + "}}", ErrRefused, "auth-provider"},
		{"a client certificate file", "", "client-certificate: /etc/passwd\nclient-key-data: a2V5", ErrRefused, "client-certificate"},
		{"a client key file", "", "client-certificate-data: Y2VydA==\nclient-key: /var/run/secrets/key", ErrRefused, "client-key"},
		{"a token file", "", "tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token", ErrRefused, "tokenFile"},
		{"basic authentication", "", "username: admin\npassword: " + secretToken, ErrRefused, "username/password"},
		{"a certificate authority file", "certificate-authority: /etc/ssl/ca.pem\n", "token: " + secretToken, ErrRefused, "certificate-authority"},
		{"a proxy", "proxy-url: http://proxy.example:3128\n", "token: " + secretToken, ErrRefused, "proxy-url"},
		{"skipped TLS verification", "insecure-skip-tls-verify: true\n", "token: " + secretToken, ErrRefused, "insecure-skip-tls-verify"},
		{"no credentials", "", "as: someone", ErrInvalid, "no credentials"},
		{"a certificate without its key", "", "client-certificate-data: Y2VydA==", ErrInvalid, "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RESTConfig(kubeconfig(tc.cluster, tc.user))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %q, want it to name %q", err, tc.field)
			}
			for _, secret := range []string{secretToken, "/etc/passwd", "/bin/sh", "http://proxy"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("err = %q shows the value %q", err, secret)
				}
			}
		})
	}
}

func TestRESTConfig_refusesAPluginInAnUnusedUser(t *testing.T) {
	data := append(kubeconfig("", "token: t"), []byte(`- name: other
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: curl}
`)...)
	if _, err := RESTConfig(data); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), `user "other" sets exec`) {
		t.Fatalf("err = %v", err)
	}
}

func TestRESTConfig_invalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want string
	}{
		{"empty", "  \n", "empty"},
		{"not YAML", "{{{", "does not decode"},
		{"plain http", strings.Replace(string(kubeconfig("", "token: t")), "https://", "http://", 1), "https://"},
		{"user information in the server", strings.Replace(string(kubeconfig("", "token: t")), "https://", "https://u:"+secretToken+"@", 1), "user information"},
		{"an undefined current context", strings.Replace(string(kubeconfig("", "token: t")), "current-context: remote", "current-context: other", 1), `"other" is not defined`},
		{"no current context among two", strings.Replace(strings.Replace(string(kubeconfig("", "token: t")), "current-context: remote", "", 1),
			"contexts:\n", "contexts:\n- name: b\n  context: {cluster: remote, user: remote}\n", 1), "2 contexts"},
		{"an undefined cluster", strings.Replace(string(kubeconfig("", "token: t")), "{cluster: remote", "{cluster: nowhere", 1), `cluster "nowhere"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RESTConfig([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Errorf("err = %q shows a secret", err)
			}
		})
	}
}

func TestRESTConfig_noContextNeededWhenThereIsOne(t *testing.T) {
	data := strings.Replace(string(kubeconfig("", "token: t")), "current-context: remote", "", 1)
	if _, err := RESTConfig([]byte(data)); err != nil {
		t.Fatalf("RESTConfig: %v", err)
	}
}

func TestCredentials(t *testing.T) {
	data := append(kubeconfig("", "token: "+secretToken+"\nclient-key-data: a2V5"), []byte(`- name: plugin
  user:
    auth-provider: {name: oidc, config: {id-token: idtok, refresh-token: ""}}
    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, args: [--secret=argsecret], env: [{name: T, value: envsecret}]}
`)...)
	got := Credentials(data)
	for _, want := range []string{secretToken, "key", "idtok", "--secret=argsecret", "envsecret"} {
		if !slices.Contains(got, want) {
			t.Errorf("Credentials = %q, missing %q", got, want)
		}
	}
	for _, not := range []string{"", "https://remote.example:6443", "get-token", "remote"} {
		if slices.Contains(got, not) {
			t.Errorf("Credentials = %q holds %q, which is not a secret", got, not)
		}
	}
	if Credentials([]byte("{{{")) != nil {
		t.Error("Credentials of data that does not decode is not empty")
	}
}
