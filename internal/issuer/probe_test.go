package issuer

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestProbeHealthyIssuer(t *testing.T) {
	srv := startServer(t, gitlabRoutes(t, ""), nil)
	r := Probe(context.Background(), srv.URL, trusting(srv))

	if r.Err != "" || !r.Discovery.OK() || !r.JWKS.OK() {
		t.Fatalf("probe failed: %+v", r)
	}
	if !r.IssuerMatches || r.DiscoveredIssuer != srv.URL {
		t.Errorf("issuer %q matches=%v, want %q", r.DiscoveredIssuer, r.IssuerMatches, srv.URL)
	}
	if r.JWKSURI != srv.URL+"/oauth/discovery/keys" {
		t.Errorf("jwks_uri %q", r.JWKSURI)
	}
	if len(r.KeyIDs) != 1 || r.KeyIDs[0] != fixtureKID || r.Keys == nil || len(r.Keys.Key(fixtureKID)) != 1 {
		t.Errorf("keys %v, want [%s]", r.KeyIDs, fixtureKID)
	}
	if r.JWKS.CacheControl != "max-age=86400, public" || !strings.HasPrefix(r.JWKS.ContentType, "application/json") || r.JWKS.Bytes == 0 {
		t.Errorf("JWKS fetch record incomplete: %+v", r.JWKS)
	}
	if !r.TLS.PubliclyTrusted || r.TLS.TopThumbprint != Thumbprint(srv.Certificate()) || r.TLS.ThumbprintMatches != nil {
		t.Errorf("TLS %+v", r.TLS)
	}
	if r.JWKSTLS != nil {
		t.Errorf("JWKSTLS set for a same-host jwks_uri: %+v", r.JWKSTLS)
	}
	if len(r.Addresses) != 1 || r.Addresses[0] != "127.0.0.1" || !r.PrivateOnly {
		t.Errorf("addresses %v private-only %v", r.Addresses, r.PrivateOnly)
	}
	if r.Total < r.Discovery.Duration+r.JWKS.Duration {
		t.Errorf("total %v is less than discovery %v + jwks %v", r.Total, r.Discovery.Duration, r.JWKS.Duration)
	}
}

func TestProbeMisbehavingIssuers(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	tests := map[string]struct {
		override routes
		opts     func(*Options)
		check    func(t *testing.T, r Report)
	}{
		"slow discovery": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{DiscoveryPath: slow}
			},
			opts: func(o *Options) { o.Timeout = 60 * time.Millisecond },
			check: func(t *testing.T, r Report) {
				wantErr(t, r.Discovery.Err, "timed out after 60ms")
				if r.Discovery.Duration > time.Second {
					t.Errorf("took %v despite a 60ms timeout", r.Discovery.Duration)
				}
				wantErr(t, r.JWKS.Err, "not fetched")
			},
		},
		"slow jwks": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{"/oauth/discovery/keys": slow}
			},
			opts: func(o *Options) { o.Timeout = 80 * time.Millisecond },
			check: func(t *testing.T, r Report) {
				if !r.Discovery.OK() {
					t.Errorf("discovery failed: %s", r.Discovery.Err)
				}
				wantErr(t, r.JWKS.Err, "timed out after 80ms")
			},
		},
		"jwks rate limited": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{"/oauth/discovery/keys": textHandler(429, "slow down")}
			},
			check: func(t *testing.T, r Report) {
				wantErr(t, r.JWKS.Err, "429")
				if !r.JWKS.RateLimited || r.JWKS.Status != 429 {
					t.Errorf("JWKS %+v, want rate-limited 429", r.JWKS)
				}
			},
		},
		"discovery forbidden by a WAF": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{DiscoveryPath: textHandler(403, "<html>blocked</html>")}
			},
			check: func(t *testing.T, r Report) {
				wantErr(t, r.Discovery.Err, "WAF")
				if !r.Discovery.RateLimited || r.Discovery.Status != 403 {
					t.Errorf("discovery %+v, want 403 rate-limited", r.Discovery)
				}
			},
		},
		"issuer with trailing slash": {
			override: func(base string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{DiscoveryPath: jsonHandler(map[string]string{"issuer": base + "/", "jwks_uri": base + "/oauth/discovery/keys"})}
			},
			check: func(t *testing.T, r Report) {
				if r.IssuerMatches || !strings.HasSuffix(r.DiscoveredIssuer, "/") {
					t.Errorf("issuer %q matches=%v, want a mismatch", r.DiscoveredIssuer, r.IssuerMatches)
				}
				if !r.JWKS.OK() {
					t.Errorf("JWKS not fetched: %s", r.JWKS.Err)
				}
			},
		},
		"missing jwks_uri": {
			override: func(base string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{DiscoveryPath: jsonHandler(map[string]string{"issuer": base})}
			},
			check: func(t *testing.T, r Report) {
				wantErr(t, r.Discovery.Err, "has no jwks_uri")
				wantErr(t, r.JWKS.Err, "not fetched")
				if !r.IssuerMatches {
					t.Error("issuer should still match")
				}
			},
		},
		"jwks not found": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{"/oauth/discovery/keys": http.NotFound}
			},
			check: func(t *testing.T, r Report) { wantErr(t, r.JWKS.Err, "404") },
		},
		"discovery not JSON": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{DiscoveryPath: textHandler(200, "<html>Sign in</html>")}
			},
			check: func(t *testing.T, r Report) { wantErr(t, r.Discovery.Err, "not valid JSON") },
		},
		"jwks not a key set": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{"/oauth/discovery/keys": textHandler(200, `{"keys":[{"kty":"nope"}]}`)}
			},
			check: func(t *testing.T, r Report) { wantErr(t, r.JWKS.Err, "did not return a JWK set") },
		},
		"jwks empty": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{"/oauth/discovery/keys": textHandler(200, `{"keys":[]}`)}
			},
			check: func(t *testing.T, r Report) { wantErr(t, r.JWKS.Err, "no keys") },
		},
		"jwks too large": {
			override: func(string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{"/oauth/discovery/keys": textHandler(200, `{"keys":[],"pad":"`+strings.Repeat("x", 3000)+`"}`)}
			},
			opts: func(o *Options) { o.MaxBody = 2048 },
			check: func(t *testing.T, r Report) {
				wantErr(t, r.JWKS.Err, "body larger than 2 KiB")
				if r.JWKS.Bytes != 2049 {
					t.Errorf("read %d bytes, want MaxBody+1 = 2049", r.JWKS.Bytes)
				}
			},
		},
		"same-host redirect is followed": {
			override: func(base string) map[string]http.HandlerFunc {
				return map[string]http.HandlerFunc{
					DiscoveryPath: http.RedirectHandler(base+"/moved", http.StatusFound).ServeHTTP,
					"/moved":      jsonHandler(map[string]string{"issuer": base, "jwks_uri": base + "/oauth/discovery/keys"}),
				}
			},
			check: func(t *testing.T, r Report) {
				if !r.Discovery.OK() || !r.JWKS.OK() {
					t.Errorf("discovery %q jwks %q", r.Discovery.Err, r.JWKS.Err)
				}
			},
		},
		"loopback refused without AllowPrivate": {
			opts: func(o *Options) { o.AllowPrivate = false },
			check: func(t *testing.T, r Report) {
				wantErr(t, r.Discovery.Err, "resolves only to private addresses (127.0.0.1)")
				wantErr(t, r.TLS.Err, "private")
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := gitlabRoutes(t, "")
			if tc.override != nil {
				r = r.with(tc.override)
			}
			srv := startServer(t, r, nil)
			opts := trusting(srv)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			tc.check(t, Probe(context.Background(), srv.URL, opts))
		})
	}
}

func TestProbeRedirectToAnotherHost(t *testing.T) {
	other := startServer(t, gitlabRoutes(t, ""), nil)
	srv := startServer(t, gitlabRoutes(t, "").with(func(string) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{DiscoveryPath: http.RedirectHandler(other.URL+DiscoveryPath, http.StatusMovedPermanently).ServeHTTP}
	}), nil)
	r := Probe(context.Background(), srv.URL, trusting(srv))
	wantErr(t, r.Discovery.Err, "redirected to "+other.URL+DiscoveryPath)
}

func TestProbeIssuerWithPath(t *testing.T) {
	srv := startServer(t, gitlabRoutes(t, "/gitlab"), nil)
	r := Probe(context.Background(), srv.URL+"/gitlab", trusting(srv))
	if r.Discovery.URL != srv.URL+"/gitlab/.well-known/openid-configuration" {
		t.Errorf("discovery URL %s", r.Discovery.URL)
	}
	if !r.Discovery.OK() || !r.IssuerMatches || !r.JWKS.OK() {
		t.Errorf("probe of a path issuer failed: %+v", r)
	}
}

func TestProbeRejectsNonHTTPS(t *testing.T) {
	tests := map[string]struct{ url, want string }{
		"http":      {"http://gitlab.example.com", "must use https"},
		"no host":   {"https:///x", "has no host"},
		"query":     {"https://gitlab.example.com?x=1", "query"},
		"not a URL": {"https://%zz", "not a URL"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := Probe(context.Background(), tc.url, Options{Resolver: fakeResolver{}})
			wantErr(t, r.Err, tc.want)
			if r.Discovery.URL != "" {
				t.Errorf("fetched %s anyway", r.Discovery.URL)
			}
		})
	}
}

func TestProbeJWKSOnAnotherHost(t *testing.T) {
	keys := startServer(t, gitlabRoutes(t, ""), nil)
	var issuerURL string
	srv := startServer(t, gitlabRoutes(t, "").with(func(string) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{DiscoveryPath: func(w http.ResponseWriter, r *http.Request) {
			jsonHandler(map[string]string{"issuer": issuerURL, "jwks_uri": keys.URL + "/oauth/discovery/keys"})(w, r)
		}}
	}), nil)
	// The issuer is reached by name, the keys by address: two hosts, as
	// with keys published in S3.
	issuerURL = "https://example.com:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	opts := trusting(srv)
	opts.RootCAs.AddCert(keys.Certificate())
	opts.Resolver = fakeResolver{"example.com": {"127.0.0.1"}}
	r := Probe(context.Background(), issuerURL, opts)

	if !r.Discovery.OK() || !r.IssuerMatches || !r.JWKS.OK() {
		t.Fatalf("probe failed: discovery %q jwks %q", r.Discovery.Err, r.JWKS.Err)
	}
	if r.TLS.Host != "example.com" || !r.TLS.PubliclyTrusted {
		t.Errorf("issuer TLS %+v", r.TLS)
	}
	if r.JWKSTLS == nil || r.JWKSTLS.Host != "127.0.0.1" || r.JWKSTLS.TopThumbprint != Thumbprint(keys.Certificate()) {
		t.Errorf("JWKS TLS %+v, want the keys server's thumbprint", r.JWKSTLS)
	}
	if len(r.Addresses) != 1 || r.Addresses[0] != "127.0.0.1" {
		t.Errorf("addresses %v", r.Addresses)
	}
}

func TestProbeContextCancelled(t *testing.T) {
	srv := startServer(t, gitlabRoutes(t, ""), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Probe(ctx, srv.URL, trusting(srv))
	wantErr(t, r.Discovery.Err, "canceled")
}

func wantErr(t *testing.T, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("error %q, want it to contain %q", got, want)
	}
}
