package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/steps"
)

// fixPhase is where the Fix screen's apply flow (key a) stands.
type fixPhase int

const (
	// fixPreviewing: Apply(write false) reads the role or variable to
	// compute the exact difference.
	fixPreviewing fixPhase = iota
	// fixConfirming: the difference is shown; y applies, n cancels.
	fixConfirming
	// fixApplying: Apply(write true) runs.
	fixApplying
	// fixDone: applied, or failed (err).
	fixDone
)

// fixApply is one run of the apply flow for the finding at index finding.
type fixApply struct {
	finding int
	phase   fixPhase
	preview []steps.Change
	changes []steps.Change
	err     error
	// recheck says what Diagnose finds once the fix is applied.
	recheck string
}

// fixPreviewMsg and fixAppliedMsg carry what DoctorRun.Apply returned.
type fixPreviewMsg struct {
	finding int
	changes []steps.Change
	err     error
}

type fixAppliedMsg struct {
	finding int
	changes []steps.Change
	err     error
}

// canApply reports whether a offers to apply the finding's fix: it has a
// patch, the command gave an Apply, and it was not applied already.
func (m *DoctorModel) canApply() bool {
	f := m.finding()
	if f == nil || f.Patch == nil || m.run.Apply == nil || m.stage != stageFix {
		return false
	}
	a := m.applyFor()
	return a == nil || (a.phase == fixDone && a.err != nil)
}

// applyFor is the apply flow of the finding under the cursor, or nil.
func (m *DoctorModel) applyFor() *fixApply {
	if m.apply == nil || m.apply.finding != m.cursor {
		return nil
	}
	return m.apply
}

// applyCmd runs DoctorRun.Apply in the background; ctrl+c cancels it.
func (m *DoctorModel) applyCmd(write bool) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	m.applyCancel = cancel
	apply, p, i := m.run.Apply, m.finding().Patch, m.cursor
	return func() tea.Msg {
		defer cancel()
		changes, err := apply(ctx, p, write)
		if write {
			return fixAppliedMsg{finding: i, changes: changes, err: err}
		}
		return fixPreviewMsg{finding: i, changes: changes, err: err}
	}
}

// fixKey handles the apply flow's keys on the Fix screen; handled is false
// for keys it leaves to the screen.
func (m *DoctorModel) fixKey(msg tea.KeyPressMsg) (cmd tea.Cmd, handled bool) {
	k := m.keys
	a := m.applyFor()
	switch {
	case a != nil && a.phase == fixConfirming && key.Matches(msg, k.Confirm):
		a.phase = fixApplying
		return tea.Batch(m.spin.Tick, m.applyCmd(true)), true
	case a != nil && a.phase == fixConfirming && (key.Matches(msg, k.Cancel) || key.Matches(msg, k.Back)):
		m.apply = nil
		m.note = "Not applied: nothing was changed."
		return nil, true
	case key.Matches(msg, k.ApplyFix) && m.canApply():
		m.apply = &fixApply{finding: m.cursor, phase: fixPreviewing}
		m.note = ""
		return tea.Batch(m.spin.Tick, m.applyCmd(false)), true
	}
	return nil, false
}

// applyBusy reports whether Apply is running (the spinner turns).
func (m *DoctorModel) applyBusy() bool {
	return m.apply != nil && (m.apply.phase == fixPreviewing || m.apply.phase == fixApplying)
}

// onPreview shows the difference and asks; a preview with nothing to
// write (already fixed) or an error ends the flow at once.
func (m *DoctorModel) onPreview(msg fixPreviewMsg) {
	a := m.apply
	if a == nil || a.finding != msg.finding || a.phase != fixPreviewing {
		return
	}
	a.preview, a.err = msg.changes, msg.err
	switch {
	case msg.err != nil:
		a.phase = fixDone
	case !hasWrite(msg.changes):
		a.phase, a.changes = fixDone, msg.changes
		m.recheck(a)
	default:
		a.phase = fixConfirming
	}
}

// onApplied records the outcome and judges the evidence again as it
// stands after the fix.
func (m *DoctorModel) onApplied(msg fixAppliedMsg) {
	a := m.apply
	if a == nil || a.finding != msg.finding || a.phase != fixApplying {
		return
	}
	a.phase, a.changes, a.err = fixDone, msg.changes, msg.err
	if msg.err == nil {
		m.recheck(a)
	}
}

// recheck runs Diagnose on the evidence with the fix applied; Findings
// then returns those findings, so the exit code says what is left.
func (m *DoctorModel) recheck(a *fixApply) {
	f := m.findings[a.finding]
	after := m.run.Diagnose(diagnose.AfterPatch(m.ev, f.Patch))
	gone := true
	var left []string
	for _, x := range after {
		gone = gone && x.ID != f.ID
		if x.Severity == diagnose.SeverityError {
			left = append(left, x.ID)
		}
	}
	switch {
	case !gone:
		a.recheck = fmt.Sprintf("✗ Judged again with the fix: %s is still there.", f.ID)
	case len(left) > 0:
		a.recheck = fmt.Sprintf("✓ Judged again with the fix: %s is gone; still to fix: %s.", f.ID, strings.Join(left, ", "))
	default:
		a.recheck = fmt.Sprintf("✓ Judged again with the fix: %s is gone and no error is left. Run the job again.", f.ID)
	}
	m.after = after
}

func hasWrite(changes []steps.Change) bool {
	for _, c := range changes {
		if c.IsWrite() {
			return true
		}
	}
	return false
}

// applyView is the apply flow's block near the top of the Fix screen, or
// the hint that a applies the fix; "" when there is nothing to say.
func (m *DoctorModel) applyView(f *diagnose.Finding) string {
	st := m.st
	a := m.applyFor()
	if a == nil {
		if !m.canApply() {
			return ""
		}
		return st.accent.Render("a") + st.subtle.Render(" applies this fix: "+f.Patch.Summary+" (shows the difference first)")
	}
	var b strings.Builder
	b.WriteString(st.heading.Render("Apply the fix") + "\n")
	switch a.phase {
	case fixPreviewing:
		b.WriteString("  " + spinnerView(m.spin, st) + " Reading the current state to compute the exact change…")
		return b.String()
	case fixConfirming:
		b.WriteString("  " + st.bold.Render(f.Patch.Summary) + "\n")
		b.WriteString("  " + st.accent.Render("y") + " to apply, " + st.accent.Render("n") + " to cancel\n")
	case fixApplying:
		b.WriteString("  " + spinnerView(m.spin, st) + " Applying: " + f.Patch.Summary + "\n")
	case fixDone:
		b.WriteString(m.applyOutcome(a))
	}
	for _, c := range a.preview {
		if c.Diff != "" && a.phase != fixDone {
			b.WriteString("\n  " + st.subtle.Render(fmt.Sprintf("%s %s %s", c.Action, c.Resource, c.Name)) + "\n")
			b.WriteString(indentLines(highlightDiff(st, diffContext(c.Diff, 2)), "    ") + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// diffContext keeps the changed lines of a diff and n unchanged lines
// around each, putting "…" where it leaves lines out: the question shows
// what changes without a scroll through the whole policy.
func diffContext(diff string, n int) string {
	lines := strings.Split(strings.TrimRight(diff, "\n"), "\n")
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") || strings.HasPrefix(l, "@@") {
			for j := max(0, i-n); j <= min(len(lines)-1, i+n); j++ {
				keep[j] = true
			}
		}
	}
	var out []string
	for i, l := range lines {
		switch {
		case keep[i]:
			out = append(out, l)
		case i == 0 || keep[i-1]:
			out = append(out, "  …")
		}
	}
	return strings.Join(out, "\n")
}

// applyOutcome says what was changed, or why not.
func (m *DoctorModel) applyOutcome(a *fixApply) string {
	st := m.st
	var b strings.Builder
	if a.err != nil {
		var conflict *steps.ConflictError
		if !errors.As(a.err, &conflict) {
			b.WriteString("  " + st.err.Render("✗ "+a.err.Error()) + "\n")
		} else {
			// Not "differs from the plan": doctor's fix is not setup's plan.
			b.WriteString("  " + st.err.Render(fmt.Sprintf("✗ %s %s: %s", conflict.Resource, conflict.Name, conflict.Hint)) + "\n")
			if conflict.Diff != "" {
				b.WriteString("  " + st.subtle.Render("as doctor read it → as it is now:") + "\n")
				b.WriteString(indentLines(highlightDiff(st, diffContext(conflict.Diff, 2)), "    ") + "\n")
			}
		}
		b.WriteString("  " + st.subtle.Render("a tries again"))
		return b.String()
	}
	for _, c := range a.changes {
		if c.Applied {
			b.WriteString("  " + st.success.Render(fmt.Sprintf("✓ %sd %s %s", c.Action, c.Resource, c.Name)) + "\n")
		} else if !c.IsWrite() {
			b.WriteString("  " + st.success.Render(fmt.Sprintf("✓ %s %s: %s (nothing written)", c.Resource, c.Name, c.Detail)) + "\n")
		}
	}
	b.WriteString("  " + a.recheck)
	return b.String()
}
