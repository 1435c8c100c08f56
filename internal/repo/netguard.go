package repo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrAddressNotAllowed reports a connection the network policy refused: a cloud metadata or
// link-local address (always), or a private address while private networks are denied. It is
// never retried; *AddressError carries the host and the reason.
var ErrAddressNotAllowed = errors.New("address not allowed")

// AddressError is a connection refused by the network policy before it was made.
type AddressError struct {
	// Host is the host name or address literal that was asked for.
	Host string
	// Addr is the refused address; the zero Addr when the name alone was refused.
	Addr netip.Addr
	// Reason says which rule refused it, in a few words.
	Reason string
}

// Error names the host, the address and the reason. It never holds a URL, so no credential.
func (e *AddressError) Error() string {
	if !e.Addr.IsValid() || e.Host == e.Addr.String() {
		return fmt.Sprintf("connection to %s refused: %s", truncate(e.Host, 256), e.Reason)
	}
	return fmt.Sprintf("connection to %s (%s) refused: %s", truncate(e.Host, 256), e.Addr, e.Reason)
}

// Is makes every AddressError match ErrAddressNotAllowed.
func (e *AddressError) Is(target error) bool { return target == ErrAddressNotAllowed }

// addrClass is what the policy makes of an address.
type addrClass int

const (
	// classPublic addresses are always allowed.
	classPublic addrClass = iota
	// classPrivate addresses are refused when private networks are denied, unless allowed.
	classPrivate
	// classForbidden addresses (link-local, cloud metadata) are always refused.
	classForbidden
)

// rangeRule is a range of addresses with the class and the words a refusal uses.
type rangeRule struct {
	prefix netip.Prefix
	class  addrClass
	reason string
}

// forbiddenRules reach the node or the cloud provider's instance services, never a chart: link-local
// (AWS, Azure, GCP, OpenStack, Oracle metadata at 169.254.169.254, AWS's IPv6 endpoint at
// fd00:ec2::254), Alibaba's 100.100.100.200, Azure's host endpoint 168.63.129.16 and multicast.
// The more specific rules come first, since fd00:ec2::254 lies inside the ULA range.
var forbiddenRules = []rangeRule{
	{netip.MustParsePrefix("fd00:ec2::254/128"), classForbidden, "cloud metadata address (AWS)"},
	{netip.MustParsePrefix("100.100.100.200/32"), classForbidden, "cloud metadata address (Alibaba Cloud)"},
	{netip.MustParsePrefix("168.63.129.16/32"), classForbidden, "cloud host endpoint (Azure)"},
	{netip.MustParsePrefix("169.254.0.0/16"), classForbidden, "link-local address (cloud metadata)"},
	{netip.MustParsePrefix("fe80::/10"), classForbidden, "link-local address"},
	{netip.MustParsePrefix("224.0.0.0/4"), classForbidden, "multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), classForbidden, "broadcast address"},
	{netip.MustParsePrefix("ff00::/8"), classForbidden, "multicast address"},
}

// privateRules are the addresses of the cluster, the node and the local networks.
var privateRules = []rangeRule{
	{netip.MustParsePrefix("0.0.0.0/8"), classPrivate, "unspecified address (reaches the local host)"},
	{netip.MustParsePrefix("127.0.0.0/8"), classPrivate, "loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), classPrivate, "private address (RFC 1918)"},
	{netip.MustParsePrefix("172.16.0.0/12"), classPrivate, "private address (RFC 1918)"},
	{netip.MustParsePrefix("192.168.0.0/16"), classPrivate, "private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), classPrivate, "shared address space (CGNAT, RFC 6598)"},
	{netip.MustParsePrefix("::/128"), classPrivate, "unspecified address (reaches the local host)"},
	{netip.MustParsePrefix("::1/128"), classPrivate, "loopback address"},
	{netip.MustParsePrefix("fc00::/7"), classPrivate, "unique local address (ULA)"},
	{netip.MustParsePrefix("fec0::/10"), classPrivate, "site-local address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), classPrivate, "local-use NAT64 address"},
}

// Prefixes whose addresses carry an IPv4 address that a translator or relay would reach.
var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	ipv4Compatible = netip.MustParsePrefix("::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// forbiddenNames are host names of metadata services that are refused before any lookup, so
// that neither a resolver nor a proxy is ever asked for them.
var forbiddenNames = map[string]string{
	"metadata.google.internal": "cloud metadata host name (GCP)",
	"metadata.goog":            "cloud metadata host name (GCP)",
}

// classify returns the class of a and the reason a refusal gives. IPv4-mapped, IPv4-compatible,
// NAT64 and 6to4 forms are judged by the IPv4 address they carry as well as by themselves, and
// the stricter verdict wins; zones are ignored.
func classify(a netip.Addr) (addrClass, string) {
	a = a.WithZone("").Unmap()
	class, reason := classifyPlain(a)
	if v4, ok := embeddedIPv4(a); ok {
		if c, r := classifyPlain(v4); c > class {
			return c, r + " embedded in " + a.String()
		}
	}
	return class, reason
}

func classifyPlain(a netip.Addr) (addrClass, string) {
	for _, rules := range [][]rangeRule{forbiddenRules, privateRules} {
		for _, r := range rules {
			if r.prefix.Contains(a) {
				return r.class, r.reason
			}
		}
	}
	return classPublic, ""
}

// embeddedIPv4 returns the IPv4 address a NAT64 (64:ff9b::/96), IPv4-compatible (::/96) or 6to4
// (2002::/16) address carries.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case nat64WellKnown.Contains(a), ipv4Compatible.Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback():
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// NetworkPolicy decides which addresses repository connections may reach. Link-local and cloud
// metadata addresses are always refused; private ones (loopback, RFC 1918, CGNAT, ULA) only
// when DenyPrivate is set, and then Allow lists the private ranges that stay reachable.
type NetworkPolicy struct {
	// DenyPrivate refuses loopback, RFC 1918, CGNAT, ULA and unspecified addresses.
	DenyPrivate bool
	// Allow lists ranges reachable despite DenyPrivate (in-cluster chart servers). It never
	// opens link-local or metadata addresses.
	Allow []netip.Prefix
}

// Refusal returns why a may not be dialled, or "" when it may.
func (p NetworkPolicy) Refusal(a netip.Addr) string {
	class, reason := classify(a)
	switch class {
	case classForbidden:
		return reason + ", refused for every repository"
	case classPrivate:
		if !p.DenyPrivate || p.allowed(a) {
			return ""
		}
		return reason + ", refused while private networks are denied"
	}
	return ""
}

// allowed reports whether a, or the IPv4 address it carries, is in the allow-list.
func (p NetworkPolicy) allowed(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	v4, embedded := embeddedIPv4(a)
	for _, pre := range p.Allow {
		if pre.Contains(a) || (embedded && pre.Contains(v4)) {
			return true
		}
	}
	return false
}

// refuseName returns the refusal of a host name that is itself a metadata service's name.
func refuseName(host string) *AddressError {
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if reason, ok := forbiddenNames[name]; ok {
		return &AddressError{Host: host, Reason: reason + ", refused for every repository"}
	}
	return nil
}

// dialTimeout bounds one dial over all of a name's addresses; minDialShare is the least time
// one address gets.
const (
	dialTimeout  = 30 * time.Second
	minDialShare = 2 * time.Second
)

// netHooks replaces name resolution and the final dial; tests set them to fake DNS answers and
// to a dial that fails the test if a refused address is ever reached.
type netHooks struct {
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	dial   func(ctx context.Context, network, address string) (net.Conn, error)
}

// guardedDialer dials only addresses its policy allows. It resolves the name itself so that a
// refusal can name the host, skips refused answers (a name answering both a public and a
// metadata address reaches only the public one), and dials through a net.Dialer whose Control
// hook checks the address actually dialled once more, so nothing reaches a socket unchecked.
type guardedDialer struct {
	policy NetworkPolicy
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	dial   func(ctx context.Context, network, address string) (net.Conn, error)
}

func newGuardedDialer(p NetworkPolicy, hooks *netHooks) *guardedDialer {
	d := &guardedDialer{policy: p, lookup: defaultLookup}
	nd := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, ControlContext: d.control}
	d.dial = nd.DialContext
	if hooks != nil && hooks.lookup != nil {
		d.lookup = hooks.lookup
	}
	if hooks != nil && hooks.dial != nil {
		next := hooks.dial
		d.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			if err := d.control(ctx, network, address, nil); err != nil {
				return nil, err
			}
			return next(ctx, network, address)
		}
	}
	return d
}

func defaultLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// control is the net.Dialer hook: it sees the resolved address about to be connected.
func (d *guardedDialer) control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &AddressError{Host: address, Reason: "not an IP address"}
	}
	if reason := d.policy.Refusal(ap.Addr()); reason != "" {
		return &AddressError{Host: ap.Addr().String(), Addr: ap.Addr(), Reason: reason}
	}
	return nil
}

// DialContext resolves address's host, drops the answers the policy refuses and dials the
// others in order until one connects. With no allowed answer it returns the first refusal.
func (d *guardedDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("dial %s: invalid port %q", truncate(host, 256), truncate(port, 16))
	}
	addrs, err := d.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var allowed []netip.Addr
	var refused error
	for _, a := range addrs {
		if reason := d.policy.Refusal(a); reason != "" {
			if refused == nil {
				refused = &AddressError{Host: host, Addr: a, Reason: reason}
			}
			continue
		}
		allowed = append(allowed, a)
	}
	if len(allowed) == 0 {
		return nil, refused
	}
	return d.dialEach(ctx, network, port, allowed)
}

// dialEach dials the addresses in order until one connects. Like net.Dialer with several
// answers, it gives each attempt an equal share of the time left, so one address that never
// answers does not use up the whole dial timeout.
func (d *guardedDialer) dialEach(ctx context.Context, network, port string, addrs []netip.Addr) (net.Conn, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(dialTimeout)
	}
	var failed error
	for i, a := range addrs {
		share := time.Until(deadline) / time.Duration(len(addrs)-i)
		actx, cancel := context.WithTimeout(ctx, max(share, minDialShare))
		conn, err := d.dial(actx, network, net.JoinHostPort(a.String(), port))
		cancel()
		if err == nil {
			return conn, nil
		}
		failed = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, failed
}

// resolve returns the addresses of host: the literal itself, or the resolver's answers. A
// metadata service's name is refused before any lookup.
func (d *guardedDialer) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if err := refuseName(host); err != nil {
		return nil, err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := d.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("lookup %s: no addresses", truncate(host, 256))
	}
	return addrs, nil
}

// checkTarget checks a request's target host before the request is handed to a proxy, which
// resolves and dials the target itself. Every address the name resolves to here must be
// allowed, since the proxy may pick any of them; a name that does not resolve here is not
// sent to the proxy at all (fail closed).
func (d *guardedDialer) checkTarget(ctx context.Context, host string) error {
	addrs, err := d.resolve(ctx, host)
	if err != nil {
		var ae *AddressError
		if errors.As(err, &ae) {
			return err
		}
		return fmt.Errorf("resolving %s to check it before using the proxy: %w", truncate(host, 256), err)
	}
	for _, a := range addrs {
		if reason := d.policy.Refusal(a); reason != "" {
			return &AddressError{Host: host, Addr: a, Reason: reason + " (checked before using the proxy)"}
		}
	}
	return nil
}

// proxy wraps the proxy selection next: when a request goes through a proxy, its target is
// checked first. The proxy's own address is dialled through DialContext and checked like any.
func (d *guardedDialer) proxy(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		pu, err := next(req)
		if err != nil || pu == nil {
			return pu, err
		}
		if err := d.checkTarget(req.Context(), req.URL.Hostname()); err != nil {
			return nil, err
		}
		return pu, nil
	}
}
