package repo

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
)

func TestNetworkPolicy_Refusal(t *testing.T) {
	// class: what the address is; every spelling of one address must land in the same class.
	cases := map[string]struct {
		addr  string
		class addrClass
	}{
		"AWS/GCP/Azure metadata":               {"169.254.169.254", classForbidden},
		"link-local IPv4":                      {"169.254.0.1", classForbidden},
		"link-local IPv6":                      {"fe80::1", classForbidden},
		"link-local IPv6 with a zone":          {"fe80::a9fe:a9fe%eth0", classForbidden},
		"AWS IPv6 metadata inside the ULA":     {"fd00:ec2::254", classForbidden},
		"Alibaba metadata inside CGNAT":        {"100.100.100.200", classForbidden},
		"Azure host endpoint":                  {"168.63.129.16", classForbidden},
		"NAT64 of the metadata address":        {"64:ff9b::a9fe:a9fe", classForbidden},
		"NAT64 written with a dotted tail":     {"64:ff9b::169.254.169.254", classForbidden},
		"IPv4-mapped metadata address":         {"::ffff:169.254.169.254", classForbidden},
		"IPv4-mapped metadata in hex":          {"::ffff:a9fe:a9fe", classForbidden},
		"IPv4-compatible metadata address":     {"::169.254.169.254", classForbidden},
		"6to4 of the metadata address":         {"2002:a9fe:a9fe::1", classForbidden},
		"IPv4 multicast":                       {"224.0.0.1", classForbidden},
		"IPv6 multicast":                       {"ff02::1", classForbidden},
		"broadcast":                            {"255.255.255.255", classForbidden},
		"loopback":                             {"127.0.0.1", classPrivate},
		"loopback elsewhere in 127/8":          {"127.1.2.3", classPrivate},
		"IPv6 loopback":                        {"::1", classPrivate},
		"IPv4-mapped loopback":                 {"::ffff:127.0.0.1", classPrivate},
		"NAT64 of loopback":                    {"64:ff9b::7f00:1", classPrivate},
		"local-use NAT64":                      {"64:ff9b:1::a00:1", classPrivate},
		"RFC 1918 10/8":                        {"10.0.0.1", classPrivate},
		"RFC 1918 172.16/12 low":               {"172.16.5.4", classPrivate},
		"RFC 1918 172.16/12 high":              {"172.31.255.255", classPrivate},
		"RFC 1918 192.168/16":                  {"192.168.1.1", classPrivate},
		"IPv4-mapped RFC 1918":                 {"::ffff:10.1.2.3", classPrivate},
		"CGNAT low":                            {"100.64.0.1", classPrivate},
		"CGNAT high":                           {"100.127.255.255", classPrivate},
		"ULA fc00::/8":                         {"fc00::1", classPrivate},
		"ULA fd00::/8":                         {"fd12:3456::1", classPrivate},
		"unspecified IPv4":                     {"0.0.0.0", classPrivate},
		"this network 0/8":                     {"0.1.2.3", classPrivate},
		"unspecified IPv6":                     {"::", classPrivate},
		"public IPv4":                          {"8.8.8.8", classPublic},
		"just above 172.16/12":                 {"172.32.0.1", classPublic},
		"just above CGNAT":                     {"100.128.0.1", classPublic},
		"public IPv6":                          {"2001:4860:4860::8888", classPublic},
		"NAT64 of a public address":            {"64:ff9b::808:808", classPublic},
		"IPv4-mapped public address":           {"::ffff:8.8.8.8", classPublic},
		"link-local neighbour 169.253 is fine": {"169.253.255.255", classPublic},
	}
	open := NetworkPolicy{}
	strict := NetworkPolicy{DenyPrivate: true}
	allowAll := NetworkPolicy{DenyPrivate: true, Allow: []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"),
	}}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			a := netip.MustParseAddr(tc.addr)
			class, _ := classify(a)
			g.Expect(class).To(Equal(tc.class), "class of %s", a)
			g.Expect(open.Refusal(a) != "").To(Equal(tc.class == classForbidden), "default policy: %q", open.Refusal(a))
			g.Expect(strict.Refusal(a) != "").To(Equal(tc.class != classPublic), "deny private: %q", strict.Refusal(a))
			g.Expect(allowAll.Refusal(a) != "").To(Equal(tc.class == classForbidden),
				"an allow-list never opens link-local or metadata addresses: %q", allowAll.Refusal(a))
		})
	}
}

func TestNetworkPolicy_allowList(t *testing.T) {
	g := NewWithT(t)
	p := NetworkPolicy{DenyPrivate: true, Allow: []netip.Prefix{
		netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("169.254.0.0/16"),
	}}
	g.Expect(p.Refusal(netip.MustParseAddr("10.96.0.10"))).To(BeEmpty())
	g.Expect(p.Refusal(netip.MustParseAddr("::ffff:10.96.0.10"))).To(BeEmpty(), "the mapped form of an allowed address")
	g.Expect(p.Refusal(netip.MustParseAddr("10.0.0.1"))).To(ContainSubstring("RFC 1918"))
	g.Expect(p.Refusal(netip.MustParseAddr("fd12::1"))).To(BeEmpty())
	g.Expect(p.Refusal(netip.MustParseAddr("fd00:ec2::254"))).To(ContainSubstring("metadata"), "inside an allowed range, still refused")
	g.Expect(p.Refusal(netip.MustParseAddr("169.254.169.254"))).To(ContainSubstring("every repository"))
	g.Expect(p.Refusal(netip.MustParseAddr("127.0.0.1"))).To(ContainSubstring("private networks are denied"))
}

// TestNetworkPolicy_ipv4LiteralForms: Go's parsers refuse the decimal, octal and hex spellings
// of IPv4 that inet_aton accepts, so they are host names; whatever a resolver makes of them is
// checked after resolution, which is where the policy applies.
func TestNetworkPolicy_ipv4LiteralForms(t *testing.T) {
	for _, form := range []string{"2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "017700000001", "0251.0376.0251.0376", "2852039166"} {
		t.Run(form, func(t *testing.T) {
			g := NewWithT(t)
			_, err := netip.ParseAddr(form)
			g.Expect(err).To(HaveOccurred(), "netip does not read %q as an address", form)
			g.Expect(net.ParseIP(form)).To(BeNil(), "net does not read %q as an address", form)

			// A resolver that reads it as inet_aton does (glibc through cgo would).
			answer := netip.MustParseAddr("127.0.0.1")
			if strings.Contains(form, "0251") || form == "2852039166" {
				answer = netip.MustParseAddr("169.254.169.254")
			}
			h := guardHooks(t, map[string][]string{form: {answer.String()}})
			d := newGuardedDialer(NetworkPolicy{DenyPrivate: true}, h)
			_, err = d.DialContext(context.Background(), "tcp", net.JoinHostPort(form, "80"))
			g.Expect(err).To(MatchError(ErrAddressNotAllowed))
			var ae *AddressError
			g.Expect(errors.As(err, &ae)).To(BeTrue())
			g.Expect(ae.Host).To(Equal(form))
			g.Expect(ae.Addr).To(Equal(answer))
		})
	}
}

// guardHooks returns hooks whose resolver answers from names (anything else is NXDOMAIN) and
// whose dial fails the test for any address but loopback: the guard must refuse before a
// connection to anything else is even attempted.
func guardHooks(t *testing.T, names map[string][]string) *netHooks {
	return &netHooks{
		lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
			var out []netip.Addr
			for _, s := range names[host] {
				out = append(out, netip.MustParseAddr(s))
			}
			if len(out) == 0 {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			return out, nil
		},
		dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !ap.Addr().IsLoopback() {
				t.Errorf("the guard let a connection to %s through", address)
				return nil, errors.New("test: only loopback may be dialled")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, address)
		},
	}
}

// portOf returns a loopback server's port.
func portOf(t *testing.T, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func TestNetGuard_hostResolvingToDeniedAddress(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.put("/index.yaml", []byte(indexYAML()))
	port := portOf(t, srv.URL)
	h := guardHooks(t, map[string][]string{
		"charts.evil.test":  {"169.254.169.254"},
		"rebind.evil.test":  {"169.254.169.254", "127.0.0.1"},
		"private.evil.test": {"10.0.0.7"},
		"fallback.test":     {"169.254.169.254", "127.0.0.2", "127.0.0.1"},
	})

	r, err := NewHTTPRepository("http://charts.evil.test:"+port, Options{Retry: fastRetry, hooks: h})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ErrAddressNotAllowed))
	g.Expect(err.Error()).To(ContainSubstring("connection to charts.evil.test (169.254.169.254) refused: link-local address"))

	// A name that answers a metadata and a loopback address reaches only the loopback one.
	r, err = NewHTTPRepository("http://rebind.evil.test:"+port, Options{Retry: fastRetry, hooks: h})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).NotTo(HaveOccurred())

	r, err = NewHTTPRepository("http://private.evil.test:"+port, Options{Retry: fastRetry, DenyPrivateNetworks: true, hooks: h})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ErrAddressNotAllowed))
	g.Expect(err.Error()).To(ContainSubstring("(10.0.0.7) refused: private address (RFC 1918), refused while private networks are denied"))

	// The metadata host name is refused before anyone is asked to resolve it.
	r, err = NewHTTPRepository("http://Metadata.Google.Internal./computeMetadata/v1/", Options{Retry: fastRetry, hooks: h})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ErrAddressNotAllowed))
	g.Expect(err.Error()).To(ContainSubstring("cloud metadata host name"))
	g.Expect(srv.rec.all()).To(HaveLen(1), "only the rebinding name's allowed answer reached the server")

	// Allowed answers are tried in order: 127.0.0.2 refuses the connection, 127.0.0.1 serves.
	r, err = NewHTTPRepository("http://fallback.test:"+port, Options{Retry: fastRetry, hooks: h})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(srv.rec.all()).To(HaveLen(2))
}

func TestNetGuard_literalAddresses(t *testing.T) {
	h := guardHooks(t, nil)
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/", "http://100.100.100.200/latest/",
		"http://[64:ff9b::a9fe:a9fe]/", "http://[::ffff:169.254.169.254]/", "http://[fe80::1%25eth0]:8080/",
		"https://169.254.169.254/", "oci://169.254.169.254/charts", "oci://[fd00:ec2::254]:5000/charts",
	} {
		t.Run(u, func(t *testing.T) {
			g := NewWithT(t)
			src, err := New(u, Options{Retry: fastRetry, PlainHTTP: true, hooks: h})
			g.Expect(err).NotTo(HaveOccurred())
			_, err = src.Check(context.Background())
			g.Expect(err).To(MatchError(ErrAddressNotAllowed))
			g.Expect(err.Error()).To(ContainSubstring("refused for every repository"))
		})
	}
}

func TestNetGuard_redirectToMetadata(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	var lookups atomic.Int32
	h := guardHooks(t, nil)
	base := h.lookup
	h.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		lookups.Add(1)
		return base(ctx, host)
	}
	for path, to := range map[string]string{
		"/a/index.yaml": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"/b/index.yaml": "http://metadata.google.internal/computeMetadata/v1/",
		"/c/index.yaml": "http://[::ffff:a9fe:a9fe]/latest/",
	} {
		srv.setHandler(http.RedirectHandler(to, http.StatusFound))
		r, err := NewHTTPRepository(srv.URL+strings.TrimSuffix(path, "index.yaml"), Options{Retry: fastRetry, hooks: h})
		g.Expect(err).NotTo(HaveOccurred())
		_, err = r.Index(context.Background())
		g.Expect(err).To(MatchError(ErrAddressNotAllowed), "redirect to %s", to)
		g.Expect(err).NotTo(MatchError(errRedirectPolicy))
	}
	g.Expect(lookups.Load()).To(BeZero(), "no name was resolved: literals and the metadata name need no lookup")
}

func TestNetGuard_denyPrivateWithAllowList(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.put("/index.yaml", []byte(indexYAML()))
	h := guardHooks(t, nil)

	r, err := NewHTTPRepository(srv.URL, Options{Retry: fastRetry, DenyPrivateNetworks: true, hooks: h})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ErrAddressNotAllowed))
	g.Expect(err.Error()).To(ContainSubstring("loopback address, refused while private networks are denied"))

	r, err = NewHTTPRepository(srv.URL, Options{Retry: fastRetry, DenyPrivateNetworks: true, hooks: h,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ErrAddressNotAllowed), "an allow-list that does not cover the server")
	g.Expect(srv.rec.all()).To(BeEmpty(), "the refusals reached nothing and were not retried")

	r, err = NewHTTPRepository(srv.URL, Options{Retry: fastRetry, DenyPrivateNetworks: true, hooks: h,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(srv.rec.all()).To(HaveLen(1))

	// Without a hook too: the net.Dialer Control hook is what refuses.
	r, err = NewHTTPRepository(srv.URL, Options{Retry: fastRetry, DenyPrivateNetworks: true})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).To(MatchError(ErrAddressNotAllowed))
	r, err = NewHTTPRepository(srv.URL, Options{Retry: fastRetry})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).NotTo(HaveOccurred(), "loopback is allowed unless private networks are denied")
}

// testProxy is a forward proxy on loopback that records the targets it was asked for and answers
// every request with an index, as if it had fetched it.
type testProxy struct {
	*httptest.Server
	mu      sync.Mutex
	targets []string
}

func newTestProxy(t *testing.T) *testProxy {
	p := &testProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.targets = append(p.targets, r.Method+" "+r.URL.String())
		p.mu.Unlock()
		_, _ = w.Write([]byte(indexYAML()))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *testProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

func TestNetGuard_behindProxy(t *testing.T) {
	proxy := newTestProxy(t)
	proxyURL, _ := url.Parse(proxy.URL)
	useProxy := func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	h := guardHooks(t, map[string][]string{
		"charts.evil.test":    {"169.254.169.254"},
		"mixed.evil.test":     {"93.184.215.14", "169.254.169.254"},
		"charts.example.test": {"93.184.215.14"},
		"internal.test":       {"10.0.0.7"},
	})
	refused := map[string]string{
		"http://169.254.169.254/latest/":          "link-local address",
		"http://metadata.google.internal/":        "cloud metadata host name",
		"http://charts.evil.test/":                "(169.254.169.254) refused: link-local address",
		"http://mixed.evil.test/":                 "checked before using the proxy",
		"https://charts.evil.test/":               "link-local address",
		"http://[64:ff9b::a9fe:a9fe]/":            "embedded in 64:ff9b::a9fe:a9fe",
		"http://unresolvable.test/":               "resolving unresolvable.test to check it before using the proxy",
		"http://internal.test/":                   "private address (RFC 1918), refused while private networks are denied",
		"http://charts.example.test/index-proxy/": "", // allowed target, but the proxy itself is on loopback
	}
	for target, want := range refused {
		t.Run(target, func(t *testing.T) {
			g := NewWithT(t)
			r, err := NewHTTPRepository(target, Options{Retry: fastRetry, hooks: h, Proxy: useProxy, DenyPrivateNetworks: true})
			g.Expect(err).NotTo(HaveOccurred())
			_, err = r.Index(context.Background())
			g.Expect(err).To(HaveOccurred())
			if want == "" {
				g.Expect(err).To(MatchError(ErrAddressNotAllowed))
				g.Expect(err.Error()).To(ContainSubstring("connection to 127.0.0.1 refused: loopback address"),
					"the proxy's own address is dialled and checked")
				return
			}
			g.Expect(err.Error()).To(ContainSubstring(want))
			if !strings.Contains(want, "resolving") {
				g.Expect(err).To(MatchError(ErrAddressNotAllowed))
			}
		})
	}
	g := NewWithT(t)
	g.Expect(proxy.seen()).To(BeEmpty(), "no refused target was handed to the proxy")

	// An allowed target goes through the proxy; only the proxy (loopback, allow-listed) is dialled.
	r, err := NewHTTPRepository("http://charts.example.test/", Options{Retry: fastRetry, hooks: h, Proxy: useProxy,
		DenyPrivateNetworks: true, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Index(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(proxy.seen()).To(Equal([]string{"GET http://charts.example.test/index.yaml"}))
}

func TestNetGuard_ociTokenEndpoint(t *testing.T) {
	g := NewWithT(t)
	var tokenAsked atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokenAsked.Store(true)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://token.evil.test/token",service="registry"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	// oras refuses a realm written as a private address literal by itself; a name is our job.
	h := guardHooks(t, map[string][]string{"registry.evil.test": {"169.254.169.254"}, "token.evil.test": {"169.254.169.254"}})

	src, err := New("oci://"+strings.TrimPrefix(srv.URL, "http://")+"/charts", Options{PlainHTTP: true, Retry: fastRetry, hooks: h})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = src.Resolve(context.Background(), "app", "1.0.0")
	g.Expect(err).To(MatchError(ErrAddressNotAllowed), "the token realm resolving to the metadata address is refused")
	g.Expect(err.Error()).To(ContainSubstring("token.evil.test"))
	g.Expect(tokenAsked.Load()).To(BeFalse())

	src, err = New("oci://registry.evil.test:"+portOf(t, srv.URL)+"/charts", Options{PlainHTTP: true, Retry: fastRetry, hooks: h})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = src.Resolve(context.Background(), "app", "1.0.0")
	g.Expect(err).To(MatchError(ErrAddressNotAllowed))
	g.Expect(err.Error()).To(ContainSubstring("registry.evil.test"))
}
