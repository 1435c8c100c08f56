package repo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"oras.land/oras-go/v2/registry/remote/auth"
)

// dockerConfig is the part of a .dockerconfigjson payload that holds registry credentials.
type dockerConfig struct {
	Auths map[string]dockerAuth `json:"auths"`
}

type dockerAuth struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// dockerHubHosts are the names Docker Hub credentials are filed under; any of them matches any.
var dockerHubHosts = map[string]bool{"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true}

// dockerCredential finds the credentials for host ("name[:port]") in a .dockerconfigjson
// payload. Keys may be bare hosts or URLs ("https://host/v1/"). No entry means anonymous
// access, which is not an error. Errors never quote the payload.
func dockerCredential(data []byte, host string) (auth.Credential, error) {
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return auth.EmptyCredential, fmt.Errorf("%w: .dockerconfigjson does not parse as JSON", ErrInvalidOptions)
	}
	for key, a := range cfg.Auths {
		if sameRegistry(registryOfKey(key), host) {
			return a.credential()
		}
	}
	return auth.EmptyCredential, nil
}

func registryOfKey(key string) string {
	k := strings.TrimSpace(key)
	if i := strings.Index(k, "://"); i >= 0 {
		k = k[i+3:]
	}
	if i := strings.IndexByte(k, '/'); i >= 0 {
		k = k[:i]
	}
	return strings.ToLower(k)
}

func sameRegistry(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	return a == b || (dockerHubHosts[a] && dockerHubHosts[b])
}

func (a dockerAuth) credential() (auth.Credential, error) {
	c := auth.Credential{Username: a.Username, Password: a.Password,
		RefreshToken: a.IdentityToken, AccessToken: a.RegistryToken}
	if a.Auth != "" && c.Username == "" && c.Password == "" {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.Auth))
		if err != nil {
			return auth.EmptyCredential, fmt.Errorf("%w: .dockerconfigjson: the auth field is not base64", ErrInvalidOptions)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return auth.EmptyCredential, fmt.Errorf("%w: .dockerconfigjson: the auth field is not user:password", ErrInvalidOptions)
		}
		c.Username, c.Password = user, pass
	}
	return c, nil
}

// ociCredential picks the registry credentials from the options: basic credentials first, then
// a bearer token, then the .dockerconfigjson entry for host.
func ociCredential(host string, o Options) (auth.Credential, error) {
	switch {
	case o.Username != "" || o.Password != "":
		return auth.Credential{Username: o.Username, Password: o.Password}, nil
	case o.BearerToken != "":
		return auth.Credential{AccessToken: o.BearerToken}, nil
	case len(o.DockerConfigJSON) > 0:
		return dockerCredential(o.DockerConfigJSON, host)
	}
	return auth.EmptyCredential, nil
}
