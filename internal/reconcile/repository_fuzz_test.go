package reconcile_test

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
)

// repoFuzzCanary prefixes every fuzzed Secret value; no error may ever show it.
const repoFuzzCanary = "CANARY-"

// FuzzChartSources_For parses arbitrary credential and TLS Secrets (present keys chosen by a
// bit mask) for HTTP and OCI repositories. It must never panic, and an error must never quote
// a Secret value.
func FuzzChartSources_For(f *testing.F) {
	cert, key := repoSelfSignedPEM(f, "fuzz")
	f.Add(uint8(0b0000011), false, "user", "pass", "", "", "", "", "")
	f.Add(uint8(0b0000100), false, "", "", "tok\n", "", "", "", "")
	f.Add(uint8(0b0001000), true, "", "", "", `{"auths":{"registry.example.com":{"auth":"dTpw"}}}`, "", "", "")
	f.Add(uint8(0b0001000), true, "", "", "", `{"auths":{"registry.example.com":{"auth":"not base64!"}}}`, "", "", "")
	f.Add(uint8(0b1110000), false, "", "", "", "", "\n"+string(cert), "\n"+string(cert), "\n"+string(key))
	f.Add(uint8(0b0100000), false, "", "", "", "", "", "\n"+string(cert), "")
	f.Add(uint8(0b1100000), false, "", "", "", "", "", "\n"+string(key), "\n"+string(cert))
	f.Add(uint8(0b0000111), true, "u", "p", "t", "", "", "", "")
	f.Fuzz(func(t *testing.T, mask uint8, oci bool, user, pass, token, docker, ca, crt, tlsKey string) {
		auth, tlsData := map[string]string{}, map[string]string{}
		for i, kv := range []struct {
			data       map[string]string
			key, value string
		}{
			{auth, "username", user}, {auth, "password", pass}, {auth, "bearerToken", token},
			{auth, ".dockerconfigjson", docker}, {tlsData, "ca.crt", ca}, {tlsData, "tls.crt", crt}, {tlsData, "tls.key", tlsKey},
		} {
			if mask&(1<<i) != 0 {
				kv.data[kv.key] = repoFuzzCanary + kv.value
			}
		}
		url := "https://charts.example.com"
		if oci {
			url = "oci://registry.example.com/charts"
		}
		cr := repoCR("repo", url)
		cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
		cr.Spec.CertSecretRef = &capstanv1.LocalObjectReference{Name: "tls"}
		reader := repoReader([]client.Object{repoSecret("auth", auth), repoSecret("tls", tlsData)}...)
		_, err := reconcile.NewChartSources(repoTestOptions()).For(context.Background(), reader, cr)
		if err != nil && strings.Contains(err.Error(), repoFuzzCanary) {
			t.Fatalf("the error quotes a Secret value: %v", err)
		}
	})
}
