package ui

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// viewProbe keeps the latest full frame the program would draw. It is
// filled by a program filter on the event loop, so reading the model never
// races with Update; waiting on the frame (not on the renderer's diffed
// output stream) makes the waits exact.
type viewProbe struct {
	mu   sync.Mutex
	last string
}

// probeMsg makes the event loop run the filter once more.
type probeMsg struct{}

func (p *viewProbe) filter(m tea.Model, msg tea.Msg) tea.Msg {
	if v, ok := m.(interface{ View() tea.View }); ok {
		p.mu.Lock()
		p.last = ansi.Strip(v.View().Content)
		p.mu.Unlock()
	}
	return msg
}

// waitForView waits until the frame contains text.
func (p *viewProbe) waitForView(t *testing.T, tm *teatest.TestModel, text string) {
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

// TestSetupFlow runs the whole wizard in a real bubbletea program with the
// fake backend: keys in, screens out, the steps really run in commands.
func TestSetupFlow(t *testing.T) {
	fb := newFakeBackend()
	fb.conflictRole = true
	m := NewSetup(fb, SetupOptions{Simulated: true})
	probe := &viewProbe{}
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.NoTTY), tea.WithFilter(probe.filter)))

	probe.waitForView(t, tm, "Already there")
	tm.Send(press("enter"))
	probe.waitForView(t, tm, "Which jobs may use this role?")
	tm.Send(press("enter"))
	probe.waitForView(t, tm, "Managed policies")
	tm.Send(press("enter"))
	probe.waitForView(t, tm, "y to allow")
	tm.Send(press("y"))
	probe.waitForView(t, tm, "Ready: press enter to apply")
	tm.Send(press("enter"))
	probe.waitForView(t, tm, "Setup complete")
	tm.Send(press("enter"))

	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*SetupModel)
	res := final.Result()
	if res.Outcome != OutcomeCompleted || res.ExitCode() != 0 {
		t.Fatalf("outcome = %q (exit %d), want completed (exit 0)\n%s", res.Outcome, res.ExitCode(), res.Summary())
	}
	if want := []string{"provider", "role", "variable", "snippet"}; !slices.Equal(fb.ran, want) {
		t.Errorf("steps ran %v, want %v in order", fb.ran, want)
	}
	if len(res.Changes) != 4 || res.Changes[1].Name != "arn:aws:iam::123456789012:role/gitlab-acme-payments-main" {
		t.Errorf("changes = %+v, want the four step changes with the role ARN second", res.Changes)
	}
	if !fb.previewCalls[len(fb.previewCalls)-1].AddTrustStatement {
		t.Errorf("the last preview ran without the allowed trust statement: %+v", fb.previewCalls)
	}
	out, _ := io.ReadAll(tm.FinalOutput(t))
	if !bytes.Contains(out, []byte(badgeText)) {
		t.Errorf("the simulated badge never appeared")
	}
}
