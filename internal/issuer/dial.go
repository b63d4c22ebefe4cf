package issuer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// cgnat is the carrier-grade NAT range (RFC 6598), not routable from the
// internet although netip does not call it private.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// IsPrivate reports whether addr cannot be reached from the public internet:
// loopback, RFC 1918 and ULA, link-local, CGNAT or unspecified.
func IsPrivate(addr netip.Addr) bool {
	a := addr.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

// PrivateAddressError is returned when a host resolves only to addresses STS
// could not reach and Options.AllowPrivate is off, so the probe does not
// connect either.
type PrivateAddressError struct {
	Host  string
	Addrs []netip.Addr
}

func (e *PrivateAddressError) Error() string {
	return fmt.Sprintf("%s resolves only to private addresses (%s): STS on the public internet cannot reach it, so the probe does not connect either",
		e.Host, joinAddrs(e.Addrs))
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// resolve returns the addresses of host; an IP literal resolves to itself.
func resolve(ctx context.Context, r Resolver, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s has no addresses", host)
	}
	return addrs, nil
}

// addressReport resolves host for the Report: the addresses, the lookup
// error, and whether STS could reach none of them.
func addressReport(ctx context.Context, opts Options, host string) (addrs []string, resolveErr string, privateOnly bool) {
	ips, err := resolve(ctx, opts.Resolver, host)
	if err != nil {
		return nil, err.Error(), true
	}
	privateOnly = true
	for _, a := range ips {
		addrs = append(addrs, a.String())
		if !IsPrivate(a) {
			privateOnly = false
		}
	}
	return addrs, "", privateOnly
}

// dialer connects through Options.Resolver and refuses private addresses
// unless AllowPrivate, so that the probe reaches only what STS could reach.
type dialer struct {
	opts Options
}

// DialContext resolves the host of addr and connects to its first usable
// address that answers.
func (d dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := resolve(ctx, d.opts.Resolver, host)
	if err != nil {
		return nil, err
	}
	var usable []netip.Addr
	for _, a := range ips {
		if d.opts.AllowPrivate || !IsPrivate(a) {
			usable = append(usable, a)
		}
	}
	if len(usable) == 0 {
		return nil, &PrivateAddressError{Host: host, Addrs: ips}
	}
	var nd net.Dialer
	var errs []error
	for _, a := range usable {
		conn, err := nd.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}
