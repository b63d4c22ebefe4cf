package issuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// fixtureKID is the kid of the key in testdata/jwks.json.
const fixtureKID = "LAJYs-XPnTIx4mpfboMQjhAtQc7ent5y3w_uvi4d-WI"

// routes maps a request path to its handler; base is the server's URL.
type routes func(base string) map[string]http.HandlerFunc

// gitlabRoutes serves what a GitLab instance at base+path serves: the
// discovery document and the JWK set from testdata, with the cache header
// GitLab sends.
func gitlabRoutes(t *testing.T, path string) routes {
	jwks, err := os.ReadFile("testdata/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	return func(base string) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			path + DiscoveryPath: jsonHandler(map[string]any{
				"issuer": base + path, "jwks_uri": base + path + "/oauth/discovery/keys",
				"id_token_signing_alg_values_supported": []string{"RS256"},
			}),
			path + "/oauth/discovery/keys": func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "max-age=86400, public")
				w.Write(jwks)
			},
		}
	}
}

// with overrides some routes of r.
func (r routes) with(extra routes) routes {
	return func(base string) map[string]http.HandlerFunc {
		m := r(base)
		for k, v := range extra(base) {
			m[k] = v
		}
		return m
	}
}

func jsonHandler(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
}

func textHandler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

// startServer runs an HTTPS server for r; certs, when given, replace the
// httptest certificate (chain in the order the server will send it).
func startServer(t *testing.T, r routes, cert *tls.Certificate) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	// srv.URL is set before the server serves, so the routes are built on
	// the first request.
	table := sync.OnceValue(func() map[string]http.HandlerFunc { return r(srv.URL) })
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if h, ok := table()[req.URL.Path]; ok {
			h(w, req)
			return
		}
		http.NotFound(w, req)
	}))
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// trusting gives options that trust srv's certificate and allow loopback.
func trusting(srv *httptest.Server) Options {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return Options{RootCAs: pool, AllowPrivate: true, Timeout: 2 * time.Second}
}

// fakeResolver maps host names to addresses; unknown names do not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// testPKI is a root CA, an intermediate and a leaf for 127.0.0.1.
type testPKI struct {
	root, inter, leaf *x509.Certificate
	leafKey           *ecdsa.PrivateKey
}

func newPKI(t *testing.T) testPKI {
	t.Helper()
	rootKey, interKey, leafKey := ecKey(t), ecKey(t), ecKey(t)
	root := makeCert(t, "Test Root CA", true, nil, rootKey, nil, rootKey)
	inter := makeCert(t, "Test Intermediate CA", true, nil, interKey, root, rootKey)
	leaf := makeCert(t, "issuer.test", false, []net.IP{net.IPv4(127, 0, 0, 1)}, leafKey, inter, interKey)
	return testPKI{root: root, inter: inter, leaf: leaf, leafKey: leafKey}
}

// serverCert is the leaf's TLS certificate with chain sent in that order.
func (p testPKI) serverCert(chain ...*x509.Certificate) *tls.Certificate {
	c := &tls.Certificate{PrivateKey: p.leafKey}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func makeCert(t *testing.T, cn string, isCA bool, ips []net.IP, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: isCA, BasicConstraintsValid: true, IPAddresses: ips,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
