package token_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"gitlab-oidc/internal/token"
	"gitlab-oidc/internal/token/tokentest"
)

func TestRedact(t *testing.T) {
	raw := tokentest.NewSigner(t).Sign(tokentest.GitLabClaims(nil))
	parts := strings.Split(raw, ".")
	got := token.Redact(raw)
	want := regexp.MustCompile(`^eyJhbGciOi…\(` + fmt.Sprint(len(raw)) + ` chars, sha256:[0-9a-f]{8}\)$`)
	if !want.MatchString(got) {
		t.Errorf("Redact = %q, want the form %s", got, want)
	}
	for i, p := range parts {
		if strings.Contains(got, p[len(p)-12:]) {
			t.Errorf("Redact shows part %d: %q", i+1, got)
		}
	}
	if token.Redact(raw+"x") == got {
		t.Error("two different tokens redact alike")
	}
	if got := token.Redact("ab.cd"); strings.Contains(got, "cd") {
		t.Errorf("Redact of a short token shows its second part: %q", got)
	}
}

func TestTokenFormattingHidesSecrets(t *testing.T) {
	raw := tokentest.NewSigner(t).Sign(tokentest.GitLabClaims(nil))
	tok, err := token.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	sig := strings.Split(raw, ".")[2]
	claimsPart := strings.Split(raw, ".")[1]
	type holder struct {
		tok token.Token
		ptr *token.Token
	}
	outputs := map[string]string{
		"%v value":   fmt.Sprintf("%v", *tok),
		"%+v value":  fmt.Sprintf("%+v", *tok),
		"%#v value":  fmt.Sprintf("%#v", *tok),
		"%v pointer": fmt.Sprintf("%v", tok),
		"%+v ptr":    fmt.Sprintf("%+v", tok),
		"%s":         fmt.Sprintf("%s", tok),
		"%q":         fmt.Sprintf("%q", tok),
		"%x":         fmt.Sprintf("%x", tok),
		"nested":     fmt.Sprintf("%+v", holder{*tok, tok}),
		"nested #":   fmt.Sprintf("%#v", holder{*tok, tok}),
		"slice":      fmt.Sprintf("%v", []*token.Token{tok}),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, secret := range []string{sig[:20], sig[len(sig)-20:], claimsPart[:40], raw} {
				if strings.Contains(out, secret) {
					t.Fatalf("output shows part of the raw token: %s", out)
				}
			}
		})
	}
	if s := tok.String(); !strings.Contains(s, "project_path:acme/payments") || !strings.Contains(s, "sha256:") {
		t.Errorf("String() = %q, want the sub and the redacted form", s)
	}
}
