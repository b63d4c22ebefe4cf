package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/steps"
)

// previewMsg carries a Preview result; gen drops answers to an older
// request (the user allowed a conflict meanwhile).
type previewMsg struct {
	gen     int
	preview steps.Preview
	err     error
}

// previewCmd runs Preview off the UI goroutine. The plan and decisions are
// passed by value, so later edits cannot race with the call.
func previewCmd(ctx context.Context, b SetupBackend, plan steps.Plan, d steps.Decisions, gen int) tea.Cmd {
	return func() tea.Msg {
		p, err := b.Preview(ctx, plan, d)
		return previewMsg{gen: gen, preview: p, err: err}
	}
}

// reviewScreen shows every change and the exact documents before apply,
// and asks for permission where something existing would be changed.
type reviewScreen struct {
	s       *session
	spin    spinner.Model
	loading bool
	err     error
	gen     int
	cancel  context.CancelFunc
	blocked string
}

func newReviewScreen(s *session) *reviewScreen {
	return &reviewScreen{s: s, spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
}

func (r *reviewScreen) init() tea.Cmd { return r.start() }

// start (re-)runs Preview for the current plan and decisions.
func (r *reviewScreen) start() tea.Cmd {
	if r.cancel != nil {
		r.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.gen++
	r.loading, r.err, r.blocked = true, nil, ""
	return tea.Batch(r.spin.Tick, previewCmd(ctx, r.s.backend, r.s.plan, r.s.decisions, r.gen))
}

// scrolls tells the root that ↑/↓ scroll the body on this screen.
func (r *reviewScreen) scrolls() bool { return true }

func (r *reviewScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	k := r.s.keys
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return r, tickSpinner(&r.spin, r.loading, msg)
	case previewMsg:
		if msg.gen != r.gen {
			return r, nil
		}
		r.loading = false
		r.err = msg.err
		if msg.err == nil {
			r.s.preview = msg.preview
		}
		return r, nil
	case tea.KeyPressMsg:
		if r.loading {
			return r, nil
		}
		switch {
		case key.Matches(msg, k.Retry) && r.err != nil:
			return r, r.start()
		case key.Matches(msg, k.Allow) && r.err == nil:
			c := r.firstUnresolved()
			if c == nil {
				return r, nil
			}
			if !allowConflict(&r.s.decisions, c) {
				r.blocked = "the wizard cannot allow this change; " + c.Hint
				return r, nil
			}
			return r, r.start()
		case key.Matches(msg, k.Next):
			if r.err != nil {
				return r, nil
			}
			if c := r.firstUnresolved(); c != nil {
				r.blocked = fmt.Sprintf("%s %s needs your permission first: press y to allow it, or ← to change the plan", c.Resource, c.Name)
				return r, nil
			}
			return r, navigate(stepApply)
		}
	}
	return r, nil
}

// firstUnresolved is the first conflict the user has not allowed yet.
func (r *reviewScreen) firstUnresolved() *steps.ConflictError {
	for _, c := range r.s.preview.Conflicts {
		if !conflictAllowed(r.s.decisions, c) {
			return c
		}
	}
	return nil
}

// decisionField maps a conflict to the Decisions field that allows it, or
// nil when no decision covers it.
func decisionField(d *steps.Decisions, c *steps.ConflictError) *bool {
	switch c.Resource {
	case steps.ResourceRole:
		return &d.AddTrustStatement
	case steps.ResourceProvider:
		return &d.AddClientID
	case steps.ResourceVariable:
		return &d.ReplaceVariable
	case "file":
		return &d.OverwriteFiles
	}
	return nil
}

// allowConflict records the user's permission for a conflict; it reports
// false when the conflict is not one a decision can resolve.
func allowConflict(d *steps.Decisions, c *steps.ConflictError) bool {
	f := decisionField(d, c)
	if f == nil {
		return false
	}
	*f = true
	return true
}

// conflictAllowed reports whether the decisions already allow a conflict.
func conflictAllowed(d steps.Decisions, c *steps.ConflictError) bool {
	f := decisionField(&d, c)
	return f != nil && *f
}

func (r *reviewScreen) keys() []key.Binding {
	k := r.s.keys
	if r.loading {
		return nil
	}
	if r.err != nil {
		return []key.Binding{k.Retry}
	}
	scroll := key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll"))
	if r.firstUnresolved() != nil {
		return []key.Binding{k.Allow, scroll}
	}
	next := k.Next
	next.SetHelp("enter", "apply")
	return []key.Binding{next, scroll}
}

func (r *reviewScreen) view() string {
	st := r.s.st
	if r.loading {
		return spinnerView(r.spin, st) + " Reading what exists and computing every change (nothing is written)…"
	}
	if r.err != nil {
		return st.err.Render("✗ Preview failed: "+r.err.Error()) + "\n\nPress r to try again or ← to change the plan."
	}
	pv := r.s.preview
	var b strings.Builder
	if r.blocked != "" {
		// Right under the title, where the eye is after pressing enter.
		b.WriteString(st.err.Render("✗ "+r.blocked) + "\n\n")
	} else {
		b.WriteString(r.statusLine() + "\n\n")
	}
	b.WriteString(st.heading.Render("Changes") + "\n")
	b.WriteString(changeLines(st, pv.Changes, "  "))
	if w := r.warnings(); len(w) > 0 {
		b.WriteString("\n\n" + st.warning.Render("Warnings"))
		for _, line := range w {
			b.WriteString("\n" + st.warning.Render("  ⚠ "+line))
		}
	}
	for i, c := range pv.Conflicts {
		b.WriteString("\n\n" + r.conflictView(i, len(pv.Conflicts), c))
	}
	b.WriteString("\n\n" + st.heading.Render("Trust policy") + st.subtle.Render("  (role "+r.s.plan.RoleName+")") + "\n")
	b.WriteString(highlightJSON(st, pv.TrustPolicy))
	for _, fd := range pv.FileDiffs {
		b.WriteString("\n\n" + st.heading.Render("File "+fd.Path) + "\n")
		b.WriteString(highlightDiff(st, fd.Diff))
	}
	return strings.TrimRight(b.String(), "\n")
}

// conflictView shows one conflict's diff and whether it is allowed.
func (r *reviewScreen) conflictView(i, n int, c *steps.ConflictError) string {
	st := r.s.st
	head := fmt.Sprintf("Conflict %d of %d: %s %s already exists and differs", i+1, n, c.Resource, c.Name)
	var b strings.Builder
	b.WriteString(st.warning.Render("⚠ "+head) + "\n")
	if c.Diff != "" {
		b.WriteString(highlightDiff(st, c.Diff) + "\n")
	}
	switch {
	case conflictAllowed(r.s.decisions, c):
		b.WriteString(st.success.Render("  ✓ allowed"))
	case decisionField(&steps.Decisions{}, c) == nil:
		b.WriteString(st.err.Render("  ✗ the wizard cannot change this; " + c.Hint))
	default:
		b.WriteString(st.subtle.Render("  "+c.Hint) + "\n" + st.bold.Render("  y to allow"))
	}
	return b.String()
}

// changeSymbol is the one-character mark of an action, readable without
// colour: + adds, ~ changes, = keeps.
func changeSymbol(a steps.Action) string {
	switch a {
	case steps.ActionUpdate, steps.ActionEdit:
		return "~"
	case steps.ActionKeep:
		return "="
	default:
		return "+"
	}
}

// changeLines renders changes as aligned "+ create  IAM role  name" lines.
func changeLines(st *styles, changes []steps.Change, indent string) string {
	if len(changes) == 0 {
		return indent + st.subtle.Render("nothing to change: everything already matches")
	}
	rows := make([][]string, 0, len(changes))
	for _, c := range changes {
		action := changeSymbol(c.Action) + " " + string(c.Action)
		switch changeSymbol(c.Action) {
		case "+":
			action = st.success.Render(action)
		case "~":
			action = st.warning.Render(action)
		default:
			action = st.subtle.Render(action)
		}
		name := c.Name
		if c.Detail != "" {
			name += st.subtle.Render(" (" + c.Detail + ")")
		}
		rows = append(rows, []string{action, c.Resource, name})
	}
	return table(rows, indent)
}

// statusLine says at the top what enter will do, or what blocks it, so the
// answer does not hide below the fold of a long review.
func (r *reviewScreen) statusLine() string {
	st := r.s.st
	open := 0
	for _, c := range r.s.preview.Conflicts {
		if !conflictAllowed(r.s.decisions, c) {
			open++
		}
	}
	if open > 0 {
		return st.warning.Render(fmt.Sprintf("⚠ %d existing resource(s) would change: see Conflict below; y allows, ← changes the plan.", open))
	}
	writes := 0
	for _, c := range r.s.preview.Changes {
		if c.IsWrite() {
			writes++
		}
	}
	return st.success.Render("✓ Ready: ") + st.bold.Render(fmt.Sprintf("press enter to apply %d change(s).", writes)) +
		st.subtle.Render(" Nothing has been written yet.")
}

// warnings are the plan's warnings plus one for AdministratorAccess, which
// the Permissions screen confirmed but Review should still say out loud.
func (r *reviewScreen) warnings() []string {
	w := append([]string(nil), r.s.plan.Warnings...)
	for _, arn := range r.s.plan.PolicyARNs {
		if strings.HasSuffix(arn, adminPolicySuffix) {
			w = append(w, "AdministratorAccess is attached: every job allowed above can do anything in account "+r.s.plan.AccountID)
		}
	}
	return w
}
