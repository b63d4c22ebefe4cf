package issuer

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestIsPrivate(t *testing.T) {
	tests := map[string]bool{
		"10.1.2.3": true, "172.16.0.1": true, "172.31.255.255": true, "192.168.1.1": true,
		"127.0.0.1": true, "169.254.169.254": true, "100.64.0.1": true, "100.127.255.254": true,
		"0.0.0.0": true, "::1": true, "fe80::1": true, "fd12:3456::1": true, "::ffff:10.0.0.1": true,
		"8.8.8.8": false, "172.32.0.1": false, "100.128.0.1": false, "2001:4860:4860::8888": false,
		"::ffff:8.8.8.8": false, "35.231.145.151": false,
	}
	for addr, want := range tests {
		t.Run(addr, func(t *testing.T) {
			if got := IsPrivate(netip.MustParseAddr(addr)); got != want {
				t.Errorf("IsPrivate(%s) = %v, want %v", addr, got, want)
			}
		})
	}
}

func TestAddressReport(t *testing.T) {
	res := fakeResolver{
		"gitlab.internal": {"10.0.0.5", "fd00::5"},
		"gitlab.example":  {"10.0.0.5", "203.0.113.10"},
		"gitlab.com":      {"172.65.251.78"},
	}
	tests := map[string]struct {
		host        string
		wantAddrs   string
		wantPrivate bool
		wantErr     string
	}{
		"private only":     {"gitlab.internal", "10.0.0.5 fd00::5", true, ""},
		"mixed":            {"gitlab.example", "10.0.0.5 203.0.113.10", false, ""},
		"public":           {"gitlab.com", "172.65.251.78", false, ""},
		"does not resolve": {"nowhere.example", "", true, "no such host"},
		"IP literal":       {"192.168.0.10", "192.168.0.10", true, ""},
		"IPv6 literal":     {"2001:db8::1", "2001:db8::1", false, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			addrs, errText, private := addressReport(context.Background(), Options{Resolver: res}, tc.host)
			if strings.Join(addrs, " ") != tc.wantAddrs || private != tc.wantPrivate || !strings.Contains(errText, tc.wantErr) {
				t.Errorf("got %v %q private=%v; want %q %q private=%v", addrs, errText, private, tc.wantAddrs, tc.wantErr, tc.wantPrivate)
			}
		})
	}
}

// TestProbePrivateIssuer checks that a name resolving to private addresses
// is reported and not connected to: the probe must be quick although
// nothing listens there.
func TestProbePrivateIssuer(t *testing.T) {
	opts := Options{Resolver: fakeResolver{"gitlab.internal": {"10.0.0.5"}}, Timeout: 3 * time.Second}
	start := time.Now()
	r := Probe(context.Background(), "https://gitlab.internal", opts)
	if !r.PrivateOnly || len(r.Addresses) != 1 {
		t.Errorf("private-only %v addresses %v", r.PrivateOnly, r.Addresses)
	}
	wantErr(t, r.Discovery.Err, "gitlab.internal resolves only to private addresses (10.0.0.5)")
	wantErr(t, r.TLS.Err, "private")
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v: it tried to connect", d)
	}
}

func TestByteSize(t *testing.T) {
	tests := map[int64]string{1 << 20: "1 MiB", 2048: "2 KiB", 1000: "1000 bytes", 3 << 20: "3 MiB", 1<<20 + 1: "1048577 bytes"}
	for n, want := range tests {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
