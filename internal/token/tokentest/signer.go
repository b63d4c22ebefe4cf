// Package tokentest makes signed GitLab-like ID tokens for tests: an RSA key
// whose kid is its JWK thumbprint (as GitLab does), the matching JWK set, and
// realistic gitlab.com claims.
package tokentest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Signer signs tokens with one RSA key. Key is exported so that tests can
// build unusual tokens themselves.
type Signer struct {
	Key *rsa.PrivateKey
	KID string
	t   testing.TB
}

// NewSigner makes a fresh 2048-bit RSA key; its kid is the base64url SHA-256
// JWK thumbprint, like GitLab's CI signing key.
func NewSigner(t testing.TB) *Signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("tokentest: generate RSA key: %v", err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatalf("tokentest: JWK thumbprint: %v", err)
	}
	return &Signer{Key: key, KID: base64.RawURLEncoding.EncodeToString(sum), t: t}
}

// JWK is the public key as the issuer publishes it (use sig, alg RS256).
func (s *Signer) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &s.Key.PublicKey, KeyID: s.KID, Use: "sig", Algorithm: string(jose.RS256)}
}

// JWKS is the public JWK set holding this signer's key.
func (s *Signer) JWKS() *jose.JSONWebKeySet {
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.JWK()}}
}

// JWKSJSON is JWKS encoded as an issuer serves it at /oauth/discovery/keys.
func (s *Signer) JWKSJSON() []byte {
	b, err := json.Marshal(s.JWKS())
	if err != nil {
		s.t.Fatalf("tokentest: encode JWK set: %v", err)
	}
	return b
}

// Sign makes a compact RS256 JWS of claims with typ JWT and this kid.
func (s *Signer) Sign(claims map[string]any) string {
	s.t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		s.t.Fatalf("tokentest: encode claims: %v", err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.KID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.Key}, opts)
	if err != nil {
		s.t.Fatalf("tokentest: new signer: %v", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		s.t.Fatalf("tokentest: sign: %v", err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		s.t.Fatalf("tokentest: serialize: %v", err)
	}
	return raw
}

// Now is the issue time GitLabClaims uses: fixed, so that tests comparing
// times are stable. Pass "iat"/"nbf"/"exp" overrides for other times.
var Now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// GitLabClaims builds the claims of a gitlab.com ID token for a job on branch
// main of acme/payments with aud sts.amazonaws.com, issued at Now with a
// one-hour job timeout and nbf = iat - 5 s, as GitLab sets them. Overrides
// replace claims; an override with a nil value removes the claim.
func GitLabClaims(overrides map[string]any) map[string]any {
	iat := Now.Unix()
	c := map[string]any{
		"iss": "https://gitlab.com", "aud": "sts.amazonaws.com",
		"sub": "project_path:acme/payments:ref_type:branch:ref:main",
		"jti": "5d1c6f2e-8a3b-4c9d-9e0f-1a2b3c4d5e6f",
		"iat": iat, "nbf": iat - 5, "exp": iat + 3600,
		"namespace_id": "1010", "namespace_path": "acme",
		"project_id": "4242", "project_path": "acme/payments",
		"job_project_id": "4242", "job_project_path": "acme/payments",
		"job_namespace_id": "1010", "job_namespace_path": "acme",
		"user_id": "77", "user_login": "dev", "user_email": "dev@acme.example",
		"user_access_level": "maintainer",
		"pipeline_id":       "900001", "pipeline_source": "push", "job_id": "5550001",
		"ref": "main", "ref_type": "branch", "ref_path": "refs/heads/main",
		"ref_protected": "true",
		"runner_id":     12270857, "runner_environment": "gitlab-hosted",
		"sha":                "0123456789abcdef0123456789abcdef01234567",
		"project_visibility": "private",
		"ci_config_ref_uri":  "gitlab.com/acme/payments//.gitlab-ci.yml@refs/heads/main",
		"ci_config_sha":      "0123456789abcdef0123456789abcdef01234567",
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}
