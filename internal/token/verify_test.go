package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"gitlab-oidc/internal/token"
	"gitlab-oidc/internal/token/tokentest"
)

func TestVerify(t *testing.T) {
	signer := tokentest.NewSigner(t)
	other := tokentest.NewSigner(t)
	good := signer.Sign(tokentest.GitLabClaims(nil))
	parts := strings.Split(good, ".")

	altered := parts[0] + "." + enc(t, tokentest.GitLabClaims(map[string]any{"ref": "evil"})) + "." + parts[2]
	noneTok := enc(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "."
	hsTok := enc(t, map[string]any{"alg": "HS256", "kid": signer.KID}) + "." + parts[1] + "." + parts[2]
	noKid := signWithoutKid(t, signer, tokentest.GitLabClaims(nil))
	// Cutting the signature by 8 characters keeps it valid base64url.
	truncated := good[:len(good)-8]
	// The other key published under this signer's kid: the right kid, the
	// wrong key.
	impostor := other.JWK()
	impostor.KeyID = signer.KID
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecSameKid := jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: signer.KID}

	tests := map[string]struct {
		raw     string
		set     *jose.JSONWebKeySet
		wantErr error
		wantMsg string
	}{
		"good":                  {good, signer.JWKS(), nil, ""},
		"good among other keys": {good, &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{other.JWK(), signer.JWK()}}, nil, ""},
		"private key in set":    {good, &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: signer.Key, KeyID: signer.KID}}}, nil, ""},
		"no kid, key present":   {noKid, signer.JWKS(), nil, ""},
		"kid not in set":        {good, other.JWKS(), token.ErrKeyNotFound, other.KID},
		"empty set":             {good, &jose.JSONWebKeySet{}, token.ErrKeyNotFound, "the set is empty"},
		"nil set":               {good, nil, token.ErrKeyNotFound, "the set is empty"},
		"wrong key":             {good, &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{impostor}}, token.ErrSignatureInvalid, "altered"},
		"no kid, wrong key":     {noKid, other.JWKS(), token.ErrSignatureInvalid, "does not verify"},
		"altered payload":       {altered, signer.JWKS(), token.ErrSignatureInvalid, "altered"},
		"truncated signature":   {truncated, signer.JWKS(), token.ErrSignatureInvalid, "cut off"},
		"alg none":              {noneTok, signer.JWKS(), token.ErrSignatureInvalid, `alg "none"`},
		"alg HS256":             {hsTok, signer.JWKS(), token.ErrSignatureInvalid, `alg "HS256"`},
		"EC key for RS256":      {good, &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{ecSameKid}}, token.ErrSignatureInvalid, "is EC"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tok, err := token.Parse(tc.raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = tok.Verify(tc.set)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), parts[2][:16]) {
				t.Errorf("error %q contains the signature", err)
			}
		})
	}
}

func TestKeyNotFoundErrorListsKids(t *testing.T) {
	a, b := tokentest.NewSigner(t), tokentest.NewSigner(t)
	tok, err := token.Parse(a.Sign(tokentest.GitLabClaims(nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = tok.Verify(b.JWKS())
	var knf *token.KeyNotFoundError
	if !errors.As(err, &knf) {
		t.Fatalf("want *KeyNotFoundError, got %T %v", err, err)
	}
	if knf.Kid != a.KID || len(knf.Available) != 1 || knf.Available[0] != b.KID {
		t.Errorf("got kid %s available %v; want %s and [%s]", knf.Kid, knf.Available, a.KID, b.KID)
	}
}

func TestSignerKidIsThumbprint(t *testing.T) {
	s := tokentest.NewSigner(t)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(s.JWKSJSON(), &set); err != nil {
		t.Fatal(err)
	}
	sum, err := set.Keys[0].Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(sum); got != s.KID {
		t.Errorf("kid %s, thumbprint %s", s.KID, got)
	}
	if set.Keys[0].Use != "sig" || set.Keys[0].Algorithm != "RS256" {
		t.Errorf("published key has use %q alg %q, want sig RS256", set.Keys[0].Use, set.Keys[0].Algorithm)
	}
}

func TestGitLabClaims(t *testing.T) {
	c := tokentest.GitLabClaims(map[string]any{"ref": "dev", "environment": "prod", "user_email": nil})
	if c["ref"] != "dev" || c["environment"] != "prod" {
		t.Errorf("overrides not applied: ref %v environment %v", c["ref"], c["environment"])
	}
	if _, ok := c["user_email"]; ok {
		t.Error("nil override did not remove user_email")
	}
	if c["nbf"].(int64) != c["iat"].(int64)-5 {
		t.Errorf("nbf %v is not iat-5 (iat %v)", c["nbf"], c["iat"])
	}
}

// enc encodes v as a JSON base64url JWT part.
func enc(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signWithoutKid signs claims with the signer's key but leaves kid out of the
// header, as some non-GitLab issuers do.
func signWithoutKid(t *testing.T, s *tokentest.Signer, claims map[string]any) string {
	t.Helper()
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.Key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := js.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
