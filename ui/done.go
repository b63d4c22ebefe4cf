package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/steps"
)

// handoutMsg carries the result of writing the hand-out.
type handoutMsg struct {
	path string
	err  error
}

// doneScreen says what was created, shows the snippet, how to check the
// first pipeline and what to run if it fails.
type doneScreen struct {
	s            *session
	writeHandout func() (string, error)
	note         string
	noteErr      bool
}

func newDoneScreen(s *session, writeHandout func() (string, error)) *doneScreen {
	return &doneScreen{s: s, writeHandout: writeHandout}
}

func (d *doneScreen) init() tea.Cmd { return nil }

func (d *doneScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	k := d.s.keys
	switch msg := msg.(type) {
	case handoutMsg:
		if msg.err != nil {
			d.note, d.noteErr = "✗ Could not write the hand-out: "+msg.err.Error(), true
		} else {
			d.note, d.noteErr = "✓ Hand-out written to "+msg.path, false
		}
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Copy):
			d.note, d.noteErr = "✓ Snippet sent to the clipboard (OSC 52). If your terminal ignores OSC 52, it is also in "+d.s.plan.SnippetPath+".", false
			return d, tea.SetClipboard(d.s.result.Preview.Snippet)
		case key.Matches(msg, k.Handout) && d.writeHandout != nil:
			f := d.writeHandout
			return d, func() tea.Msg {
				path, err := f()
				return handoutMsg{path: path, err: err}
			}
		case key.Matches(msg, k.Finish):
			return d, tea.Quit
		}
	}
	return d, nil
}

func (d *doneScreen) keys() []key.Binding {
	k := d.s.keys
	out := []key.Binding{k.Copy}
	if d.writeHandout != nil {
		out = append(out, k.Handout)
	}
	return append(out, k.Finish)
}

func (d *doneScreen) view() string {
	st := d.s.st
	r := d.s.result
	var left strings.Builder
	left.WriteString(st.success.Render(fmt.Sprintf("✓ Setup complete: %d steps", len(r.Steps))) + "\n")
	if d.note != "" {
		// Feedback for c and h goes at the top, where it is always visible.
		style := st.success
		if d.noteErr {
			style = st.err
		}
		left.WriteString(style.Render(d.note) + "\n")
	}
	left.WriteString("\n")
	left.WriteString(st.heading.Render("What exists now") + "\n")
	left.WriteString(changeLines(st, r.Changes, "  ") + "\n\n")
	left.WriteString(st.heading.Render("Check the first run") + "\n")
	left.WriteString("  1. Commit the files and " + verifyAction(r.Plan) + ".\n")
	left.WriteString("  2. Open the pipeline's aws-oidc-check job: it prints the\n     assumed role from aws sts get-caller-identity.")
	var below strings.Builder
	below.WriteString(st.heading.Render("If it fails") + "\n")
	below.WriteString("  gitlab-oidc doctor --role-arn " + r.Plan.RoleARN() + " --job <job URL>")
	snippet := st.heading.Render("Snippet") + st.subtle.Render("  ("+r.Plan.SnippetPath+")") + "\n" + strings.TrimRight(r.Preview.Snippet, "\n")
	return columns(d.s.width, left.String(), snippet) + "\n\n" + below.String()
}

// verifyAction says which push starts a pipeline the role trusts.
func verifyAction(p steps.Plan) string {
	for _, a := range p.Allow {
		if a.Kind == steps.AllowBranch && !a.Wildcard() {
			return "push to " + a.Pattern
		}
		if a.Kind == steps.AllowTag && !a.Wildcard() {
			return "push the tag " + a.Pattern
		}
	}
	return "run a pipeline on a ref the role allows"
}
