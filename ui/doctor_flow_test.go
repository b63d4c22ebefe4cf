package ui

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"gitlab-oidc/diagnose"
)

// doctorProbe keeps the latest frame of a DoctorModel, read on the event
// loop (see viewProbe).
type doctorProbe struct {
	mu   sync.Mutex
	last string
}

func (p *doctorProbe) filter(m tea.Model, msg tea.Msg) tea.Msg {
	if dm, ok := m.(*DoctorModel); ok {
		p.mu.Lock()
		p.last = ansi.Strip(dm.View().Content)
		p.mu.Unlock()
	}
	return msg
}

func (p *doctorProbe) waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tm.Send(probeMsg{})
		time.Sleep(20 * time.Millisecond)
		p.mu.Lock()
		last := p.last
		p.mu.Unlock()
		if strings.Contains(last, text) {
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("the screen never showed %q; last frame:\n%s", text, p.last)
}

// TestDoctorFlow runs the doctor in a real bubbletea program: Collect runs
// in a command while the spinner turns, then Evidence -> Diagnosis ->
// Detail -> Fix by keys, and q ends it with the findings for the exit code.
func TestDoctorFlow(t *testing.T) {
	release := make(chan struct{})
	m := NewDoctor(testDoctorRun(t, release), DoctorOptions{Simulated: true})
	probe := &doctorProbe{}
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.NoTTY), tea.WithFilter(probe.filter)))

	probe.waitFor(t, tm, "Collecting evidence")
	close(release)
	probe.waitFor(t, tm, "signature verified")
	tm.Send(press("enter"))
	probe.waitFor(t, tm, "▸ ✗ sub-ref-type-mismatch")
	tm.Send(press("enter"))
	probe.waitFor(t, tm, "^^^ first difference")
	tm.Send(press("enter"))
	probe.waitFor(t, tm, "c copies it")
	tm.Send(press("c"))
	probe.waitFor(t, tm, "Fix sent to the clipboard")
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
