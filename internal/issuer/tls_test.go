package issuer

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestProbeTLS(t *testing.T) {
	pki := newPKI(t)
	interPrint := Thumbprint(pki.inter)
	upperColons := func(hexs string) string {
		var parts []string
		for i := 0; i < len(hexs); i += 2 {
			parts = append(parts, strings.ToUpper(hexs[i:i+2]))
		}
		return strings.Join(parts, ":")
	}
	tests := map[string]struct {
		chain       []*x509.Certificate
		roots       []*x509.Certificate
		thumbprints []string
		trusted     bool
		top         string
		matches     *bool
		orderErr    string
	}{
		"trusted chain in order": {
			chain: []*x509.Certificate{pki.leaf, pki.inter}, roots: []*x509.Certificate{pki.root},
			trusted: true, top: interPrint,
		},
		"untrusted private CA": {
			chain: []*x509.Certificate{pki.leaf, pki.inter}, roots: nil,
			trusted: false, top: interPrint,
		},
		"thumbprint matches, pasted in upper case with colons": {
			chain: []*x509.Certificate{pki.leaf, pki.inter}, thumbprints: []string{strings.Repeat("0", 40), upperColons(interPrint)},
			trusted: false, top: interPrint, matches: ptr(true),
		},
		"thumbprint of the leaf does not match": {
			chain: []*x509.Certificate{pki.leaf, pki.inter}, thumbprints: []string{Thumbprint(pki.leaf)},
			trusted: false, top: interPrint, matches: ptr(false),
		},
		"root sent too": {
			chain: []*x509.Certificate{pki.leaf, pki.inter, pki.root}, roots: []*x509.Certificate{pki.root},
			trusted: true, top: Thumbprint(pki.root),
		},
		"chain out of order": {
			chain: []*x509.Certificate{pki.leaf, pki.root, pki.inter}, roots: []*x509.Certificate{pki.root},
			trusted: true, top: interPrint, orderErr: "certificate 1 (CN=issuer.test) is not issued by certificate 2 (CN=Test Root CA)",
		},
		"incomplete chain": {
			chain: []*x509.Certificate{pki.leaf}, roots: []*x509.Certificate{pki.root},
			trusted: false, top: Thumbprint(pki.leaf),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := startServer(t, gitlabRoutes(t, ""), pki.serverCert(tc.chain...))
			pool := x509.NewCertPool()
			for _, c := range tc.roots {
				pool.AddCert(c)
			}
			opts := Options{RootCAs: pool, AllowPrivate: true, Timeout: 2 * time.Second, Thumbprints: tc.thumbprints}
			r := Probe(context.Background(), srv.URL, opts)
			info := r.TLS
			if info.Err != "" {
				t.Fatalf("TLS inspection failed: %s", info.Err)
			}
			if info.PubliclyTrusted != tc.trusted || (info.VerifyError == "") != tc.trusted {
				t.Errorf("trusted %v (%q), want %v", info.PubliclyTrusted, info.VerifyError, tc.trusted)
			}
			if info.TopThumbprint != tc.top {
				t.Errorf("top thumbprint %s, want %s", info.TopThumbprint, tc.top)
			}
			if (info.ThumbprintMatches == nil) != (tc.matches == nil) || (tc.matches != nil && *info.ThumbprintMatches != *tc.matches) {
				t.Errorf("thumbprint matches %v, want %v", deref(info.ThumbprintMatches), deref(tc.matches))
			}
			if !strings.Contains(info.OrderError, tc.orderErr) || (tc.orderErr == "") != (info.OrderError == "") {
				t.Errorf("order error %q, want %q", info.OrderError, tc.orderErr)
			}
			if len(info.Chain) != len(tc.chain) || info.Chain[0].Subject != "CN=issuer.test" || info.Chain[0].SHA1 != Thumbprint(pki.leaf) {
				t.Errorf("chain %+v", info.Chain)
			}
			if info.Acceptable() != (tc.trusted || (tc.matches != nil && *tc.matches)) {
				t.Errorf("Acceptable() = %v", info.Acceptable())
			}
			// The documents are read regardless, so the rest can be diagnosed.
			if !r.Discovery.OK() || !r.JWKS.OK() {
				t.Errorf("discovery %q jwks %q", r.Discovery.Err, r.JWKS.Err)
			}
		})
	}
}

func TestThumbprintIsSHA1OfDER(t *testing.T) {
	pki := newPKI(t)
	sum := sha1.Sum(pki.root.Raw)
	if got := Thumbprint(pki.root); got != hex.EncodeToString(sum[:]) || len(got) != 40 || strings.ToLower(got) != got {
		t.Errorf("Thumbprint = %s", got)
	}
}

func TestFetchThumbprint(t *testing.T) {
	pki := newPKI(t)
	srv := startServer(t, gitlabRoutes(t, ""), pki.serverCert(pki.leaf, pki.inter))
	hostport := strings.TrimPrefix(srv.URL, "https://")
	opts := Options{AllowPrivate: true, Timeout: time.Second, RootCAs: x509.NewCertPool()}
	for name, host := range map[string]string{"host:port": hostport, "URL": srv.URL + "/gitlab"} {
		t.Run(name, func(t *testing.T) {
			got, info, err := FetchThumbprint(context.Background(), host, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got != Thumbprint(pki.inter) || info.PubliclyTrusted {
				t.Errorf("thumbprint %s trusted %v, want %s untrusted", got, info.PubliclyTrusted, Thumbprint(pki.inter))
			}
		})
	}
	t.Run("refused private address", func(t *testing.T) {
		_, info, err := FetchThumbprint(context.Background(), hostport, Options{Timeout: time.Second})
		if err == nil || !strings.Contains(info.Err, "private") {
			t.Errorf("err %v info %+v, want a private-address refusal", err, info)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		_, _, err := FetchThumbprint(context.Background(), "127.0.0.1:1", opts)
		if err == nil {
			t.Error("no error for a closed port")
		}
	})
}

func TestHostPort(t *testing.T) {
	tests := map[string]string{
		"gitlab.example.com":             "gitlab.example.com:443",
		"gitlab.example.com:8443":        "gitlab.example.com:8443",
		"https://gitlab.example.com/x":   "gitlab.example.com:443",
		"https://gitlab.example.com:9/x": "gitlab.example.com:9",
		"[2001:db8::1]":                  "[2001:db8::1]:443",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got, err := hostPort(in); err != nil || got != want {
				t.Errorf("hostPort(%q) = %q, %v; want %q", in, got, err, want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}
