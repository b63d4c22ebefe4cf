package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab-oidc/internal/token/tokentest"
)

// doctor --demo in a real terminal: the AccessDenied of a tag job against
// a main-only role is explained first by sub-ref-type-mismatch, and Detail
// marks where the token's sub first differs from the policy's.
func TestDoctorDemoInTmuxExplainsAccessDenied(t *testing.T) {
	bin := binary(t)
	env := []string{"TERM=xterm-256color", "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	s := startTmux(t, 100, 30, env, t.TempDir(), bin+" doctor --demo")

	screen := s.waitFor("signature verified", 20*time.Second)
	for _, want := range []string{"SIMULATED (demo)", "project_path:acme/payments:ref_type:tag:ref:v2.3.0", "acme-payments-main", "AccessDenied"} {
		if !strings.Contains(screen, want) {
			t.Errorf("Evidence lacks %q:\n%s", want, screen)
		}
	}
	s.keys("Enter")
	screen = s.waitFor("▸ ✗ sub-ref-type-mismatch", 5*time.Second)
	if !strings.Contains(screen, "STS said AccessDenied") {
		t.Errorf("Diagnosis does not name the STS error:\n%s", screen)
	}
	s.keys("Enter")
	screen = s.waitFor("first difference", 5*time.Second)
	checkCaretsUnder(t, screen, "ref_type:tag", "^^^")
	s.keys("Enter")
	screen = s.waitFor("c copies it", 5*time.Second)
	if !strings.Contains(screen, `"project_path:acme/payments:ref_type:tag:ref:v2.3.0"`) {
		t.Errorf("Fix lacks the tag's sub in the edited policy:\n%s", screen)
	}
	s.keys("Escape")
	s.waitFor("Deciding condition", 5*time.Second)
	s.keys("q")
	screen = s.waitFor("EXIT=", 10*time.Second)
	if !strings.Contains(screen, "EXIT=1") || !strings.Contains(screen, "sub-ref-type-mismatch") {
		t.Fatalf("doctor --demo should exit 1 naming the finding:\n%s", screen)
	}
}

// checkCaretsUnder finds the line holding marked and checks that the next
// line has carets starting under the part after its last colon.
func checkCaretsUnder(t *testing.T, screen, marked, carets string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		at := strings.Index(l, marked)
		if at < 0 || i+1 >= len(lines) {
			continue
		}
		want := at + strings.LastIndex(marked, ":") + 1
		if got := strings.Index(lines[i+1], carets); got != want {
			t.Errorf("carets at column %d, want %d under %q:\n%s\n%s", got, want, marked, l, lines[i+1])
		}
		return
	}
	t.Errorf("no line shows %q:\n%s", marked, screen)
}

// doctor on a token whose aud the provider does not list, as STS reports
// with InvalidIdentityToken: offline, with the provider described by flags
// and the keys from a file, the first finding is aud-not-in-client-ids.
func TestDoctorInTmuxExplainsInvalidIdentityToken(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	signer := tokentest.NewSigner(t)
	raw := signer.Sign(tokentest.GitLabClaims(map[string]any{"aud": "https://gitlab.com"}))
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tok := write("token.jwt", []byte(raw+"\n"))
	keys := write("keys.json", signer.JWKSJSON())
	errText := "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: Incorrect token audience"
	command := bin + " doctor --offline --token-file " + tok + " --jwks-file " + keys +
		" --provider-url https://gitlab.com --client-id sts.amazonaws.com --now " + tokentest.Now.Add(time.Minute).Format(time.RFC3339) +
		" --error '" + errText + "'"
	env := []string{"TERM=xterm-256color", "HOME=" + t.TempDir()}
	s := startTmux(t, 100, 30, env, dir, command)

	screen := s.waitFor("signature verified", 20*time.Second)
	if !strings.Contains(screen, "not probed (--offline)") && !strings.Contains(screen, "client IDs sts.amazonaws.com") {
		t.Errorf("Evidence does not show the provider from the flags:\n%s", screen)
	}
	if strings.Contains(screen, raw[strings.LastIndex(raw, ".")+1:]) {
		t.Fatalf("the token's signature is on the screen")
	}
	s.keys("Enter")
	screen = s.waitFor("▸ ✗ aud-not-in-client-ids", 5*time.Second)
	if !strings.Contains(screen, "InvalidIdentityToken") {
		t.Errorf("Diagnosis does not name the STS error:\n%s", screen)
	}
	s.keys("Enter")
	screen = s.waitFor("enter fix", 5*time.Second)
	if !strings.Contains(screen, "sts.amazonaws.com") || !strings.Contains(screen, "https://gitlab.com") {
		t.Errorf("Detail lacks the token's aud and the client IDs:\n%s", screen)
	}
	s.keys("Enter")
	s.waitFor("c copies it", 5*time.Second)
	s.keys("q")
	screen = s.waitFor("EXIT=", 10*time.Second)
	if !strings.Contains(screen, "EXIT=1") {
		t.Fatalf("doctor should exit 1 for an error finding:\n%s", screen)
	}
}
