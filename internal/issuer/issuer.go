// Package issuer probes an OIDC issuer the way AWS STS does before it accepts
// a web identity token: discovery document, then jwks_uri, over HTTPS from the
// public internet, within about five seconds. The Report records what was
// seen (addresses, status codes, timings, certificate chain, thumbprints) so
// that setup can show it and doctor can turn it into findings.
package issuer

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults for Options.
const (
	DefaultTimeout = 5 * time.Second
	DefaultMaxBody = 1 << 20
)

// Resolver looks up host addresses; *net.Resolver satisfies it, and tests
// pass a fake to map names to local servers or private addresses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options tune a probe. The zero value probes like STS: system roots, 5 s per
// request, 1 MiB bodies, public addresses only.
type Options struct {
	// Client, if set, makes the HTTP requests instead of the built-in client
	// (whose dialer enforces AllowPrivate). Its redirect policy is replaced.
	Client *http.Client
	// RootCAs verifies certificates; nil means the system roots, which
	// honour SSL_CERT_FILE.
	RootCAs *x509.CertPool
	// Timeout bounds each request, including reading the body.
	Timeout time.Duration
	// MaxBody is the largest body accepted.
	MaxBody int64
	// AllowPrivate lets the probe connect to loopback and private addresses
	// (tests, labs). STS cannot, so PrivateOnly is still reported.
	AllowPrivate bool
	// Resolver defaults to net.DefaultResolver.
	Resolver Resolver
	// Thumbprints are the IAM provider's configured thumbprints (40 hex
	// digits), compared with the top certificate the server sends.
	Thumbprints []string
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	return o
}

// Report is everything a probe saw. Error strings are empty on success.
type Report struct {
	IssuerURL string `json:"issuer_url"`
	// Err is set when the probe could not start, e.g. the issuer is not an
	// https URL.
	Err string `json:"error,omitempty"`

	Addresses  []string `json:"addresses"`
	ResolveErr string   `json:"resolve_error,omitempty"`
	// PrivateOnly is true when every address is loopback, private,
	// link-local, CGNAT or ULA, or the name does not resolve: STS, on the
	// public internet, cannot reach such an issuer.
	PrivateOnly bool `json:"private_only"`

	Discovery        Fetch  `json:"discovery"`
	DiscoveredIssuer string `json:"discovered_issuer,omitempty"`
	JWKSURI          string `json:"jwks_uri,omitempty"`
	// IssuerMatches compares the discovery document's issuer with IssuerURL
	// exactly, as STS does: a trailing slash matters.
	IssuerMatches bool `json:"issuer_matches"`

	JWKS   Fetch               `json:"jwks"`
	Keys   *jose.JSONWebKeySet `json:"keys,omitempty"`
	KeyIDs []string            `json:"key_ids,omitempty"`

	TLS TLSInfo `json:"tls"`
	// JWKSTLS is set when jwks_uri is on another host than the issuer; AWS
	// then wants the thumbprints of both.
	JWKSTLS *TLSInfo `json:"jwks_tls,omitempty"`

	Total time.Duration `json:"total_ns"`
}

// Fetch is one HTTP GET as STS would make it.
type Fetch struct {
	URL          string        `json:"url"`
	Status       int           `json:"status,omitempty"`
	Duration     time.Duration `json:"duration_ns"`
	Bytes        int64         `json:"bytes"`
	ContentType  string        `json:"content_type,omitempty"`
	CacheControl string        `json:"cache_control,omitempty"`
	Err          string        `json:"error,omitempty"`
	// RateLimited is set for 429, and for 403, which on these public
	// documents almost always comes from a WAF or ingress rule.
	RateLimited bool `json:"rate_limited,omitempty"`
}

// OK tells whether the fetch returned a usable document.
func (f Fetch) OK() bool { return f.Err == "" && f.Status == http.StatusOK }

// TLSInfo describes the certificate chain a server sends.
type TLSInfo struct {
	Host  string     `json:"host"`
	Chain []CertInfo `json:"chain"`
	// PubliclyTrusted means the chain verifies for Host against RootCAs
	// (system roots by default).
	PubliclyTrusted bool   `json:"publicly_trusted"`
	VerifyError     string `json:"verify_error,omitempty"`
	// OrderError says where the chain is not in issuing order (each
	// certificate followed by its issuer), which IAM rejects even when a
	// browser copes.
	OrderError string `json:"order_error,omitempty"`
	// TopThumbprint is the lowercase SHA-1 hex of the last certificate sent
	// (top intermediate or root): the value IAM uses as a thumbprint.
	TopThumbprint string `json:"top_thumbprint,omitempty"`
	// ThumbprintMatches is nil when no thumbprints were configured.
	ThumbprintMatches *bool  `json:"thumbprint_matches,omitempty"`
	Err               string `json:"error,omitempty"`
}

// CertInfo is one certificate of a chain.
type CertInfo struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	SHA1     string    `json:"sha1"`
	NotAfter time.Time `json:"not_after"`
}

// Acceptable tells whether STS would accept the server's certificate: it
// verifies against the roots, or a configured thumbprint matches.
func (t TLSInfo) Acceptable() bool {
	return t.PubliclyTrusted || (t.ThumbprintMatches != nil && *t.ThumbprintMatches)
}
