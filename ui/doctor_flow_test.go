package ui

import (
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"gitlab-oidc/diagnose"
)

// TestDoctorFlow runs the doctor in a real bubbletea program: Collect runs
// in a command while the spinner turns, then Evidence -> Diagnosis ->
// Detail -> Fix by keys, and q ends it with the findings for the exit code.
func TestDoctorFlow(t *testing.T) {
	release := make(chan struct{})
	m := NewDoctor(testDoctorRun(t, release), DoctorOptions{Simulated: true})
	probe := &viewProbe{}
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.NoTTY), tea.WithFilter(probe.filter)))

	probe.waitForView(t, tm, "Collecting evidence")
	close(release)
	probe.waitForView(t, tm, "signature verified")
	tm.Send(press("enter"))
	probe.waitForView(t, tm, "▸ ✗ sub-ref-type-mismatch")
	tm.Send(press("enter"))
	probe.waitForView(t, tm, "^^^ first difference")
	tm.Send(press("enter"))
	probe.waitForView(t, tm, "c copies it")
	tm.Send(press("c"))
	probe.waitForView(t, tm, "Fix sent to the clipboard")
	tm.Send(press("q"))

	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*DoctorModel)
	if final.Err() != nil || !diagnose.HasError(final.Findings()) || final.Findings()[0].ID != "sub-ref-type-mismatch" {
		t.Fatalf("err=%v findings=%v, want sub-ref-type-mismatch first and no error", final.Err(), final.Findings())
	}
	out, _ := io.ReadAll(tm.FinalOutput(t))
	if !strings.Contains(string(out), badgeText) {
		t.Errorf("the simulated badge never appeared")
	}
}
