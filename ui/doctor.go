package ui

import (
	"context"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/steps"
)

// DoctorRun is what the doctor screens get from the command: how to collect
// the evidence (the Evidence screen spins meanwhile) and how to judge it.
// The screens do no I/O of their own.
type DoctorRun struct {
	Collect  func(ctx context.Context) (*diagnose.Evidence, error)
	Diagnose func(*diagnose.Evidence) []diagnose.Finding
	// Hint, when set, says what evidence to add when STS reported an error
	// that no finding explains ("" when there is nothing to say); the
	// Diagnosis screen shows it, as the plain report does.
	Hint func(*diagnose.Evidence, []diagnose.Finding) string
	// Apply, when set, applies a finding's patch (write false only
	// previews it, returning the exact difference) with the command's
	// clients. The Fix screen's a key uses it; nil hides the key.
	Apply func(ctx context.Context, p *diagnose.Patch, write bool) ([]steps.Change, error)
}

// DoctorOptions configure the doctor screens.
type DoctorOptions struct {
	// Simulated marks every frame "SIMULATED (demo)".
	Simulated bool
	// Width and Height are the terminal size until the first WindowSizeMsg
	// (80x24 when zero).
	Width, Height int
}

// doctorStage is one doctor screen; the order is the order of the step line.
type doctorStage int

const (
	stageEvidence doctorStage = iota
	stageDiagnosis
	stageDetail
	stageFix
)

var doctorStageNames = []string{"Evidence", "Diagnosis", "Detail", "Fix"}

const doctorTitle = "gitlab-oidc · doctor"

// collectedMsg carries what DoctorRun.Collect and Diagnose returned.
type collectedMsg struct {
	ev       *diagnose.Evidence
	findings []diagnose.Finding
	err      error
}

// DoctorModel is the root bubbletea model of the doctor: Evidence, then the
// findings (Diagnosis), one finding's deciding condition (Detail) and its
// fix (Fix). Esc or ← goes one screen back.
type DoctorModel struct {
	screens
	run   DoctorRun
	stage doctorStage

	loading  bool
	cancel   context.CancelFunc
	ev       *diagnose.Evidence
	findings []diagnose.Finding
	err      error
	// cursor is the finding the Diagnosis list points at; Detail and Fix
	// show it.
	cursor int
	// note is a one-line confirmation on the Fix screen (clipboard).
	note    string
	aborted bool
	// apply is the Fix screen's apply flow (key a), nil until started;
	// applyCancel stops its Apply call. after holds the findings judged
	// again once a fix was applied.
	apply       *fixApply
	applyCancel context.CancelFunc
	after       []diagnose.Finding
}

// NewDoctor returns the doctor screens over a run.
func NewDoctor(run DoctorRun, opts DoctorOptions) *DoctorModel {
	m := &DoctorModel{screens: newScreens(opts.Width, opts.Height, opts.Simulated), run: run, loading: true}
	m.syncBody()
	return m
}

// Findings returns the findings the doctor showed, most likely first; nil
// before the evidence was judged. Once a fix was applied they are the
// findings judged again with the fix, so that the exit code says what is
// left.
func (m *DoctorModel) Findings() []diagnose.Finding {
	if m.after != nil {
		return m.after
	}
	return m.findings
}

// Err returns why the doctor could not diagnose: Collect's error (unusable
// inputs), or context.Canceled when it was quit while collecting.
func (m *DoctorModel) Err() error {
	if m.aborted && m.ev == nil && m.err == nil {
		return context.Canceled
	}
	return m.err
}

// Init starts collecting and asks the terminal for its background colour.
func (m *DoctorModel) Init() tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	run := m.run
	collect := func() tea.Msg {
		ev, err := run.Collect(ctx)
		if err != nil {
			return collectedMsg{err: err}
		}
		return collectedMsg{ev: ev, findings: run.Diagnose(ev)}
	}
	return tea.Batch(tea.RequestBackgroundColor, m.spin.Tick, collect)
}

// Update routes messages and re-renders the body.
func (m *DoctorModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.syncBody()
	return m, cmd
}

func (m *DoctorModel) update(msg tea.Msg) tea.Cmd {
	if m.frameMsg(msg) {
		return nil
	}
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return tickSpinner(&m.spin, m.loading || m.applyBusy(), msg)
	case collectedMsg:
		m.loading = false
		m.stop()
		m.ev, m.findings, m.err = msg.ev, msg.findings, msg.err
	case fixPreviewMsg:
		m.onPreview(msg)
	case fixAppliedMsg:
		m.onApplied(msg)
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

// key handles a key press on the current screen.
func (m *DoctorModel) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit), key.Matches(msg, k.Exit):
		if m.loading {
			m.stop()
			m.aborted = true
		}
		if m.applyCancel != nil {
			m.applyCancel()
		}
		return tea.Quit
	}
	if m.stage == stageFix {
		if cmd, ok := m.fixKey(msg); ok {
			return cmd
		}
	}
	switch {
	case m.scrollKey(msg):
	case key.Matches(msg, k.Back):
		if m.stage > stageEvidence {
			m.show(m.stage - 1)
		}
	case key.Matches(msg, k.Up):
		if m.stage == stageDiagnosis {
			m.cursor = max(0, m.cursor-1)
		} else {
			m.body.ScrollUp(1)
		}
	case key.Matches(msg, k.Down):
		if m.stage == stageDiagnosis {
			m.cursor = min(len(m.findings)-1, m.cursor+1)
			m.cursor = max(0, m.cursor)
		} else {
			m.body.ScrollDown(1)
		}
	case key.Matches(msg, k.Copy) && m.stage == stageFix:
		if f := m.finding(); f != nil && f.Fix != "" {
			m.note = "✓ Fix sent to the clipboard (OSC 52). If your terminal ignores OSC 52, select it above."
			return tea.SetClipboard(f.Fix)
		}
	case key.Matches(msg, k.Open):
		m.next()
	}
	return nil
}

// stop cancels Collect's context (a no-op once it returned).
func (m *DoctorModel) stop() {
	if m.cancel != nil {
		m.cancel()
	}
}

// next moves one screen on: Evidence to Diagnosis once judged, Diagnosis
// to the pointed finding's Detail, Detail to its Fix.
func (m *DoctorModel) next() {
	switch m.stage {
	case stageEvidence:
		if !m.loading && m.err == nil {
			m.show(stageDiagnosis)
		}
	case stageDiagnosis:
		if m.finding() != nil {
			m.show(stageDetail)
		}
	case stageDetail:
		m.show(stageFix)
	}
}

func (m *DoctorModel) show(s doctorStage) {
	m.stage = s
	m.note = ""
	m.body.GotoTop()
	m.lastFocus = -1
}

// finding is the finding under the cursor, nil when there is none.
func (m *DoctorModel) finding() *diagnose.Finding {
	if m.cursor < 0 || m.cursor >= len(m.findings) {
		return nil
	}
	return &m.findings[m.cursor]
}

// View renders the frame around the current screen.
func (m *DoctorModel) View() tea.View { return m.view(m.chrome(), m.helpKeys()) }

func (m *DoctorModel) chrome() chrome {
	return chrome{st: m.st, title: doctorTitle, steps: doctorStageNames, current: int(m.stage), width: m.width, simulated: m.simulated}
}

// helpKeys lists the keys that do something on the current screen.
func (m *DoctorModel) helpKeys() helpKeys {
	k := m.keys
	var own []key.Binding
	open := k.Open
	switch m.stage {
	case stageEvidence:
		if !m.loading && m.err == nil {
			open.SetHelp("enter", "diagnosis")
			own = append(own, open)
		}
	case stageDiagnosis:
		if len(m.findings) > 0 {
			open.SetHelp("enter", "detail")
			own = append(own, k.Up, k.Down, open)
		}
	case stageDetail:
		open.SetHelp("enter", "fix")
		own = append(own, open)
	case stageFix:
		cp := k.Copy
		cp.SetHelp("c", "copy fix")
		own = append(own, cp)
		if a := m.applyFor(); a != nil && a.phase == fixConfirming {
			ok := k.Confirm
			ok.SetHelp("y", "apply")
			own = []key.Binding{ok, k.Cancel}
		} else if m.canApply() {
			own = append(own, k.ApplyFix)
		}
	}
	global := []key.Binding{}
	if m.stage > stageEvidence {
		global = append(global, k.Back)
	}
	global = append(global, k.Help, k.Exit)
	short := append(append([]key.Binding{}, own...), global...)
	full := [][]key.Binding{own, {k.Back, k.PageUp, k.PageDown}, {k.Help, k.Exit, k.Quit}}
	return helpKeys{short: short, full: full}
}

// syncBody renders the current screen into the scrolling body.
func (m *DoctorModel) syncBody() {
	view, focus := m.screenView(m.bodyWidth())
	m.fill(m.chrome(), m.helpKeys(), view, focus)
}

// screenView is the body of the current screen and its cursor line (-1
// for none).
func (m *DoctorModel) screenView(width int) (string, int) {
	switch m.stage {
	case stageDiagnosis:
		return m.diagnosisView(width)
	case stageDetail:
		return m.detailView(width), -1
	case stageFix:
		return m.fixView(width), -1
	}
	return m.evidenceView(width), -1
}
