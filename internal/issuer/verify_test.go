package issuer

import (
	"context"
	"net/http"
	"testing"

	"gitlab-oidc/internal/token"
	"gitlab-oidc/internal/token/tokentest"
)

// TestProbedKeysVerifyAToken follows doctor's path: probe the issuer named by
// the token, then verify the token with the keys found.
func TestProbedKeysVerifyAToken(t *testing.T) {
	signer := tokentest.NewSigner(t)
	srv := startServer(t, gitlabRoutes(t, "").with(func(string) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{"/oauth/discovery/keys": textHandler(http.StatusOK, string(signer.JWKSJSON()))}
	}), nil)
	tok, err := token.Parse(signer.Sign(tokentest.GitLabClaims(map[string]any{"iss": srv.URL})))
	if err != nil {
		t.Fatal(err)
	}
	r := Probe(context.Background(), tok.Claims.Issuer, trusting(srv))
	if !r.IssuerMatches || !r.JWKS.OK() {
		t.Fatalf("probe: discovery %q jwks %q", r.Discovery.Err, r.JWKS.Err)
	}
	if err := tok.Verify(r.Keys); err != nil {
		t.Errorf("token does not verify with the probed keys: %v", err)
	}
	other := tokentest.NewSigner(t)
	forged, err := token.Parse(other.Sign(tokentest.GitLabClaims(map[string]any{"iss": srv.URL})))
	if err != nil {
		t.Fatal(err)
	}
	if err := forged.Verify(r.Keys); err == nil {
		t.Error("a token from another key verified")
	}
}
