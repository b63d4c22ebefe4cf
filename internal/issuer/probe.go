package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DiscoveryPath is appended to the issuer URL (without its trailing slash)
// to find the discovery document.
const DiscoveryPath = "/.well-known/openid-configuration"

// Probe fetches the issuer's discovery document and then its jwks_uri, as
// STS does, while it resolves the host and inspects its certificate chain
// concurrently. It never fails as a whole: every problem is recorded in the
// Report, where the caller decides what it means.
//
// The documents are read even when the certificate does not verify, so that
// the rest can still be diagnosed; check TLS.Acceptable before relying on
// Keys.
func Probe(ctx context.Context, issuerURL string, opts Options) (r Report) {
	opts = opts.withDefaults()
	start := time.Now()
	r.IssuerURL = issuerURL
	defer func() { r.Total = time.Since(start) }()

	u, err := parseHTTPS(issuerURL, "issuer")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	f := newFetcher(opts)
	defer f.close()

	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.Addresses, r.ResolveErr, r.PrivateOnly = addressReport(ctx, opts, u.Hostname()) })
	wg.Go(func() { r.TLS = inspectTLS(ctx, hostPortOf(u), opts) })

	var body []byte
	r.Discovery, body = f.get(ctx, strings.TrimSuffix(issuerURL, "/")+DiscoveryPath)
	if body != nil {
		r.DiscoveredIssuer, r.JWKSURI, err = parseDiscovery(body)
		if err != nil {
			r.Discovery.Err = err.Error()
		}
	}
	r.IssuerMatches = r.DiscoveredIssuer != "" && r.DiscoveredIssuer == issuerURL

	if r.JWKSURI == "" {
		r.JWKS.Err = "not fetched: no jwks_uri from the discovery document"
		return r
	}
	ju, err := parseHTTPS(r.JWKSURI, "jwks_uri")
	if err != nil {
		r.JWKS = Fetch{URL: r.JWKSURI, Err: err.Error()}
		return r
	}
	if ju.Host != u.Host {
		info := new(TLSInfo)
		r.JWKSTLS = info
		wg.Go(func() { *info = inspectTLS(ctx, hostPortOf(ju), opts) })
	}
	r.JWKS, body = f.get(ctx, r.JWKSURI)
	if body != nil {
		r.Keys, err = parseJWKS(body)
		if err != nil {
			r.JWKS.Err = err.Error()
		}
		for _, k := range keysOf(r.Keys) {
			r.KeyIDs = append(r.KeyIDs, k.KeyID)
		}
	}
	return r
}

// parseHTTPS accepts only what STS accepts: an absolute https URL with a
// host and no query or fragment.
func parseHTTPS(raw, what string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not a URL: %w", what, raw, err)
	}
	switch {
	case u.Scheme != "https":
		return nil, fmt.Errorf("%s %q must use https: STS only fetches https URLs", what, raw)
	case u.Host == "":
		return nil, fmt.Errorf("%s %q has no host", what, raw)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%s %q has a query or fragment, which an issuer URL cannot have", what, raw)
	}
	return u, nil
}

// hostPortOf is the host:port to connect to for an https URL.
func hostPortOf(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return u.Hostname() + ":443"
}

// parseDiscovery reads the two members STS uses from a discovery document.
func parseDiscovery(body []byte) (issuer, jwksURI string, err error) {
	var doc struct {
		Issuer  *string `json:"issuer"`
		JWKSURI *string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", "", fmt.Errorf("the discovery document is not valid JSON: %v", err)
	}
	var missing []string
	if doc.Issuer != nil {
		issuer = *doc.Issuer
	} else {
		missing = append(missing, "issuer")
	}
	if doc.JWKSURI != nil && *doc.JWKSURI != "" {
		jwksURI = *doc.JWKSURI
	} else {
		missing = append(missing, "jwks_uri")
	}
	if len(missing) > 0 {
		err = fmt.Errorf("the discovery document has no %s", strings.Join(missing, " and no "))
	}
	return issuer, jwksURI, err
}

// parseJWKS decodes a JWK set and insists on at least one key.
func parseJWKS(body []byte) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks_uri did not return a JWK set: %v", err)
	}
	if len(set.Keys) == 0 {
		return &set, errors.New("the JWK set has no keys")
	}
	return &set, nil
}

func keysOf(set *jose.JSONWebKeySet) []jose.JSONWebKey {
	if set == nil {
		return nil
	}
	return set.Keys
}
