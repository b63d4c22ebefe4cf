package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/steps"
)

// stepDoneMsg carries the result of one apply step.
type stepDoneMsg struct {
	index   int
	changes []steps.Change
	err     error
	elapsed time.Duration
}

// runStepCmd runs one step off the UI goroutine with the apply context, so
// ctrl+c reaches the AWS or GitLab call in flight.
func runStepCmd(ctx context.Context, index int, step steps.Step) tea.Cmd {
	return func() tea.Msg {
		start := time.Now()
		changes, err := step.Run(ctx)
		return stepDoneMsg{index: index, changes: changes, err: err, elapsed: time.Since(start)}
	}
}

// applyScreen runs the steps one after another and shows a checklist; on
// failure or ctrl+c it says exactly which steps ran.
type applyScreen struct {
	s        *session
	steps    []steps.Step
	outcomes []StepOutcome
	running  int
	spin     spinner.Model
	cancel   context.CancelFunc
	ctx      context.Context
	// interrupted is set by the first ctrl+c: the in-flight step's context
	// is cancelled and the screen waits for it to return.
	interrupted bool
	failed      bool
	started     time.Time
}

func newApplyScreen(s *session) *applyScreen {
	return &applyScreen{s: s, running: -1, spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
}

func (a *applyScreen) init() tea.Cmd {
	a.steps = a.s.backend.Steps(a.s.plan, a.s.decisions)
	a.outcomes = make([]StepOutcome, len(a.steps))
	for i, st := range a.steps {
		a.outcomes[i] = StepOutcome{ID: st.ID, Title: st.Title, Status: StepPending}
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.started = time.Now()
	a.s.result = SetupResult{Plan: a.s.plan, Preview: a.s.preview}
	a.record()
	if len(a.steps) == 0 {
		return a.complete()
	}
	return tea.Batch(a.spin.Tick, a.startStep(0))
}

func (a *applyScreen) startStep(i int) tea.Cmd {
	a.running = i
	a.outcomes[i].Status = StepRunning
	a.record()
	return runStepCmd(a.ctx, i, a.steps[i])
}

// record copies the checklist into the result, so Result() is right at
// any moment (also when the program is killed mid-step).
func (a *applyScreen) record() {
	a.s.result.Steps = append([]StepOutcome(nil), a.outcomes...)
}

func (a *applyScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return a, tickSpinner(&a.spin, a.running >= 0, msg)
	case stepDoneMsg:
		return a, a.stepDone(msg)
	case tea.KeyPressMsg:
		if a.failed && key.Matches(msg, a.s.keys.Finish) {
			return a, tea.Quit
		}
	}
	return a, nil
}

// stepDone records a step's result and starts the next one, stops on an
// error, or ends the program after ctrl+c.
func (a *applyScreen) stepDone(msg stepDoneMsg) tea.Cmd {
	if msg.index != a.running {
		return nil
	}
	o := &a.outcomes[msg.index]
	o.Elapsed, o.Changes, o.Err = msg.elapsed, msg.changes, msg.err
	a.s.result.Changes = append(a.s.result.Changes, msg.changes...)
	a.running = -1
	switch {
	case msg.err != nil && (a.interrupted || errors.Is(msg.err, context.Canceled)):
		o.Status = StepCancelled
	case msg.err != nil:
		o.Status = StepFailed
	default:
		o.Status = StepDone
	}
	a.record()
	switch {
	case a.interrupted:
		a.s.result.Outcome = OutcomeAborted
		return tea.Quit
	case msg.err != nil:
		a.failed = true
		a.cancel()
		a.s.result.Outcome = OutcomeFailed
		a.s.result.Err = fmt.Errorf("%s: %w", o.Title, msg.err)
		return nil
	case msg.index+1 < len(a.steps):
		return a.startStep(msg.index + 1)
	}
	return a.complete()
}

// complete ends apply successfully and moves on to Done.
func (a *applyScreen) complete() tea.Cmd {
	a.cancel()
	a.s.result.Outcome = OutcomeCompleted
	return navigate(stepDone)
}

// interrupt handles ctrl+c: the first cancels the in-flight step and waits
// for it to return (so the report is exact); a second one, or one with
// nothing running, quits at once.
func (a *applyScreen) interrupt() tea.Cmd {
	if a.running >= 0 && !a.interrupted {
		a.interrupted = true
		a.cancel()
		return nil
	}
	if a.cancel != nil {
		a.cancel()
	}
	if !a.failed {
		a.s.result.Outcome = OutcomeAborted
	}
	a.record()
	return tea.Quit
}

func (a *applyScreen) keys() []key.Binding {
	k := a.s.keys
	if a.failed {
		quit := k.Finish
		quit.SetHelp("enter", "quit")
		return []key.Binding{quit}
	}
	return nil
}

func (a *applyScreen) view() string {
	st := a.s.st
	var b strings.Builder
	switch {
	case a.interrupted:
		b.WriteString(st.warning.Render("Cancelling… waiting for the running call to return (ctrl+c again quits at once)"))
	case a.failed:
		b.WriteString(st.err.Render("✗ Setup stopped at a failed step"))
	default:
		b.WriteString(st.heading.Render("Applying the plan") + st.subtle.Render("  (ctrl+c cancels and reports what exists)"))
	}
	b.WriteString("\n\n")
	titleW := 0
	for _, o := range a.outcomes {
		titleW = max(titleW, len([]rune(o.Title)))
	}
	for _, o := range a.outcomes {
		b.WriteString("  " + a.mark(o) + " " + pad(o.Title, titleW+3))
		switch o.Status {
		case StepDone:
			b.WriteString(st.subtle.Render(formatElapsed(o.Elapsed)))
		case StepFailed:
			b.WriteString(st.subtle.Render(formatElapsed(o.Elapsed)) + "\n" + st.err.Render(indentLines(errText(o.Err), "      ")))
		case StepCancelled:
			b.WriteString(st.warning.Render("cancelled"))
		}
		b.WriteString("\n")
	}
	if a.failed || a.interrupted {
		b.WriteString("\n" + st.heading.Render("AWS and GitLab are in this state:") + "\n")
		for _, o := range a.outcomes {
			text := stepStatusText(o)
			if o.Status == StepFailed {
				text = "failed (the error is above)"
			}
			b.WriteString("  " + statusMark(o.Status) + " " + pad(o.Title, titleW+3) + text + "\n")
		}
		again := "Run setup again to finish"
		if a.failed {
			again = "Fix the cause and run setup again"
		}
		b.WriteString("\n" + again + ": every step checks what exists and changes only the difference.")
	}
	return strings.TrimRight(b.String(), "\n")
}

// mark is a step line's status symbol: spinner while running.
func (a *applyScreen) mark(o StepOutcome) string {
	st := a.s.st
	switch o.Status {
	case StepRunning:
		return spinnerView(a.spin, st)
	case StepDone:
		return st.success.Render("✓")
	case StepFailed, StepCancelled:
		return st.err.Render("✗")
	}
	return st.subtle.Render("·")
}

// indentLines indents every line of a multi-line text.
func indentLines(s, indent string) string {
	return indent + strings.ReplaceAll(s, "\n", "\n"+indent)
}
