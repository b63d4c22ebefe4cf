package diagnose

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/internal/token/tokentest"
)

// testIssuer is a real OIDC issuer over TLS, serving discovery and the JWK
// set the way GitLab does, with switches for the ways issuers misbehave.
type testIssuer struct {
	srv    *httptest.Server
	signer *tokentest.Signer
	URL    string
}

// issuerMode selects a misbehaviour.
type issuerMode struct {
	delay           time.Duration // before every answer
	discoveryStatus int           // non-200 answer for discovery
	jwksStatus      int           // non-200 answer for the JWK set
	issuerSuffix    string        // appended to "issuer" in discovery
	otherKey        bool          // serve another key than the one that signs
}

func startIssuer(t *testing.T, mode issuerMode) *testIssuer {
	t.Helper()
	ti := &testIssuer{signer: tokentest.NewSigner(t)}
	served := ti.signer
	if mode.otherKey {
		served = tokentest.NewSigner(t)
	}
	mux := http.NewServeMux()
	wait := func(r *http.Request) {
		select {
		case <-time.After(mode.delay):
		case <-r.Context().Done():
		}
	}
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		wait(r)
		if mode.discoveryStatus != 0 {
			http.Error(w, http.StatusText(mode.discoveryStatus), mode.discoveryStatus)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": ti.URL + mode.issuerSuffix, "jwks_uri": ti.URL + "/oauth/discovery/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/oauth/discovery/keys", func(w http.ResponseWriter, r *http.Request) {
		wait(r)
		if mode.jwksStatus != 0 {
			http.Error(w, http.StatusText(mode.jwksStatus), mode.jwksStatus)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=86400")
		_, _ = w.Write(served.JWKSJSON())
	})
	ti.srv = httptest.NewUnstartedServer(mux)
	// The probe hangs up after reading the certificate chain, which the
	// server would log as a handshake error on every test.
	ti.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	ti.srv.StartTLS()
	ti.URL = ti.srv.URL
	t.Cleanup(ti.srv.Close)
	return ti
}

// probe runs the real issuer probe against the server; trusted puts the
// server's certificate into the roots, as a public CA would be.
func (ti *testIssuer) probe(t *testing.T, trusted bool) issuer.Report {
	t.Helper()
	opts := issuer.Options{AllowPrivate: true, Timeout: 400 * time.Millisecond}
	if trusted {
		pool := x509.NewCertPool()
		pool.AddCert(ti.srv.Certificate())
		opts.RootCAs = pool
	}
	return issuer.Probe(context.Background(), ti.URL, opts)
}

// token signs GitLab claims for this issuer.
func (ti *testIssuer) token(overrides map[string]any) string {
	claims := map[string]any{"iss": ti.URL, "sub": "project_path:acme/payments:ref_type:branch:ref:main"}
	for k, v := range overrides {
		claims[k] = v
	}
	return ti.signer.Sign(tokentest.GitLabClaims(claims))
}
