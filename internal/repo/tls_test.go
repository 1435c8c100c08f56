package repo

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestHTTPRepository_TLS(t *testing.T) {
	serverCA := newPKI(t, "server-ca")
	clientCA := newPKI(t, "client-ca")
	otherCA := newPKI(t, "other-ca")
	_, clientCert, clientKey := clientCA.issue(t, true, time.Now().Add(time.Hour))
	_, strangerCert, strangerKey := otherCA.issue(t, true, time.Now().Add(time.Hour))
	cases := map[string]struct {
		mtls     bool
		expired  bool
		opts     Options
		errText  string
		attempts int32
	}{
		"the server's CA from CAPEM verifies it":         {opts: Options{CAPEM: serverCA.pem}},
		"an unknown authority fails and is not retried":  {errText: "certificate signed by unknown authority", attempts: 1},
		"the wrong CA fails":                             {opts: Options{CAPEM: otherCA.pem}, errText: "unknown authority", attempts: 1},
		"InsecureSkipVerify is honoured only when asked": {opts: Options{InsecureSkipVerify: true}},
		"an expired certificate fails": {expired: true, opts: Options{CAPEM: serverCA.pem},
			errText: "certificate has expired", attempts: 1},
		"a client certificate opens an mTLS server": {mtls: true,
			opts: Options{CAPEM: serverCA.pem, CertPEM: clientCert, KeyPEM: clientKey}},
		"no client certificate fails on an mTLS server": {mtls: true, opts: Options{CAPEM: serverCA.pem},
			errText: "certificate", attempts: 1},
		"a client certificate from another CA fails": {mtls: true,
			opts: Options{CAPEM: serverCA.pem, CertPEM: strangerCert, KeyPEM: strangerKey}, errText: "certificate", attempts: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var attempts atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(indexYAML()))
			})
			o := tlsServerOptions{expired: tc.expired, connState: func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					attempts.Add(1)
				}
			}}
			if tc.mtls {
				o.clientCAs = clientCA
			}
			srv := newTLSServer(t, serverCA, h, o)
			tc.opts.Retry = fastRetry
			r, err := NewHTTPRepository(srv.URL, tc.opts)
			g.Expect(err).NotTo(HaveOccurred())
			_, err = r.Index(context.Background())
			if tc.errText == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.errText)))
			g.Expect(attempts.Load()).To(Equal(tc.attempts), "certificate failures are not retried")
		})
	}
}

// TestHTTPRepository_clientCertStaysHome checks that the client certificate is offered to the
// repository's host only, not to a chart host that asks for one.
func TestHTTPRepository_clientCertStaysHome(t *testing.T) {
	g := NewWithT(t)
	ca := newPKI(t, "ca")
	_, certPEM, keyPEM := ca.issue(t, true, time.Now().Add(time.Hour))
	var presented atomic.Int32
	chart := makeChart(t, "app", "1.0.0")
	other := newTLSServer(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			presented.Add(1)
		}
		_, _ = w.Write(chart)
	}), tlsServerOptions{askForCert: true})
	home := newTLSServer(t, ca, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(indexYAML(testEntry{"app", "1.0.0", sha256Hex(chart), other.URL + "/app.tgz"})))
	}), tlsServerOptions{clientCAs: ca})
	r, err := NewHTTPRepository(home.URL, Options{CAPEM: ca.pem, CertPEM: certPEM, KeyPEM: keyPEM, PassCredentials: true})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "")
	g.Expect(err).NotTo(HaveOccurred(), "the mTLS home server accepted the certificate")
	_, err = r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(presented.Load()).To(BeZero())
}

func TestNewHTTPRepository_badTLSOptions(t *testing.T) {
	ca := newPKI(t, "ca")
	_, certPEM, keyPEM := ca.issue(t, true, time.Now().Add(time.Hour))
	cases := map[string]Options{
		"a CA bundle without certificates": {CAPEM: []byte("not a pem")},
		"a certificate without its key":    {CertPEM: certPEM},
		"a key without its certificate":    {KeyPEM: keyPEM},
		"a key that does not match":        {CertPEM: certPEM, KeyPEM: []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := NewHTTPRepository("https://charts.example.com", opts)
			g.Expect(err).To(MatchError(ErrInvalidOptions))
		})
	}
}
