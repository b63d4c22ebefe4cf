package e2e

import (
	"strings"
	"testing"
	"time"
)

// doctor --demo in a real terminal applies its fix to the simulated
// account: a on Fix shows the difference and asks, y updates the role, and
// doctor judges again and exits 0 since nothing is left.
func TestDoctorDemoInTmuxAppliesTheFix(t *testing.T) {
	bin := binary(t)
	env := []string{"TERM=xterm-256color", "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	s := startTmux(t, 100, 30, env, t.TempDir(), bin+" doctor --demo")

	s.waitFor("signature verified", 20*time.Second)
	s.keys("Enter")
	s.waitFor("▸ ✗ sub-ref-type-mismatch", 5*time.Second)
	s.keys("Enter")
	s.waitFor("first difference", 5*time.Second)
	s.keys("Enter")
	s.waitFor("a applies this fix", 5*time.Second)
	s.keys("a")
	screen := s.waitFor("y to apply, n to cancel", 10*time.Second)
	if !strings.Contains(screen, `+             "project_path:acme/payments:ref_type:tag:ref:v2.3.0"`) {
		t.Errorf("the difference lacks the added sub:\n%s", screen)
	}
	s.keys("y")
	screen = s.waitFor("✓ updated trust policy acme-payments-main", 10*time.Second)
	if !strings.Contains(screen, "sub-ref-type-mismatch is gone") {
		t.Errorf("doctor does not say the finding is gone:\n%s", screen)
	}
	s.keys("q")
	screen = s.waitFor("EXIT=", 10*time.Second)
	if !strings.Contains(screen, "EXIT=0") {
		t.Fatalf("doctor --demo should exit 0 once the fix is applied:\n%s", screen)
	}
}
