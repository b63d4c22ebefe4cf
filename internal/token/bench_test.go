package token_test

import (
	"testing"

	"gitlab-oidc/internal/token"
	"gitlab-oidc/internal/token/tokentest"
)

func BenchmarkParse(b *testing.B) {
	raw := tokentest.NewSigner(b).Sign(tokentest.GitLabClaims(nil))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := tokentest.NewSigner(b)
	tok, err := token.Parse(s.Sign(tokentest.GitLabClaims(nil)))
	if err != nil {
		b.Fatal(err)
	}
	set := s.JWKS()
	b.ReportAllocs()
	for b.Loop() {
		if err := tok.Verify(set); err != nil {
			b.Fatal(err)
		}
	}
}
