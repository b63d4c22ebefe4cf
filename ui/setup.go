package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/steps"
)

// stepID names a wizard screen; the order is the order of the step line.
type stepID int

const (
	stepConnect stepID = iota
	stepAccess
	stepPermissions
	stepReview
	stepApply
	stepDone
	stepCount
)

var stepNames = [stepCount]string{"Connect", "Access", "Permissions", "Review", "Apply", "Done"}

// SetupOptions configure the setup wizard before Connect has returned.
type SetupOptions struct {
	// Simulated marks every frame "SIMULATED (demo)" from the first one; the
	// badge also appears when the connection reports itself simulated.
	Simulated bool
	// InitialChoices are answers given as flags; empty fields get the
	// defaults of steps.DefaultChoices once the connection is known.
	InitialChoices steps.Choices
	// Width and Height are the terminal size until the first WindowSizeMsg
	// (80x24 when zero).
	Width, Height int
}

// screen is one wizard step. The root owns the frame, the window size and
// the global keys; a screen renders its body and moves the wizard by
// returning navigation messages (navigate).
type screen interface {
	init() tea.Cmd
	update(msg tea.Msg) (screen, tea.Cmd)
	view() string
	keys() []key.Binding
}

// typer is implemented by screens that can have a text field focused; then
// printable keys (and ←, ?) belong to the field, not to the root.
type typer interface{ typing() bool }

// focuser is implemented by screens with a cursor, so the body scrolls to
// keep the focused line visible.
type focuser interface{ focusLine() int }

// scroller is implemented by screens without a cursor, where ↑/↓ scroll
// the body (Review).
type scroller interface{ scrolls() bool }

// navMsg asks the root to show another screen.
type navMsg struct{ to stepID }

// navigate returns a command that moves the wizard to a screen.
func navigate(to stepID) tea.Cmd { return func() tea.Msg { return navMsg{to: to} } }

// session is the state the screens share: the connection, the user's
// choices, the resolved plan and the answers to conflicts. The root owns it;
// screens read and write it through a pointer.
type session struct {
	backend   SetupBackend
	st        *styles
	keys      keyMap
	simulated bool
	initial   steps.Choices

	conn      *steps.Connection
	choices   steps.Choices
	plan      steps.Plan
	planErr   error
	decisions steps.Decisions
	preview   steps.Preview
	result    SetupResult
	// width is the body width screens lay out for (set by the root).
	width int
}

// replan resolves the current choices into a plan; the error, if any, is
// kept so screens can show it and refuse to continue.
func (s *session) replan() {
	if s.conn == nil {
		return
	}
	s.plan, s.planErr = s.backend.Plan(s.conn, s.choices)
}

// SetupModel is the root bubbletea model of the setup wizard.
type SetupModel struct {
	// WriteHandout, when set, writes a hand-out of the finished setup and
	// returns where it went; the Done screen offers it on the h key. It may
	// call Result() for the plan and the changes.
	WriteHandout func() (string, error)

	s        *session
	current  stepID
	screens  [stepCount]screen
	width    int
	height   int
	body     viewport.Model
	help     help.Model
	quitting bool
	// lastFocus is the body line of the cursor at the last render.
	lastFocus int
}

// NewSetup returns the setup wizard over a backend.
func NewSetup(backend SetupBackend, opts SetupOptions) *SetupModel {
	w, h := opts.Width, opts.Height
	if w <= 0 {
		w = 80
	}
	if h <= 0 {
		h = 24
	}
	s := &session{
		backend:   backend,
		st:        newStyles(true),
		keys:      newKeyMap(),
		simulated: opts.Simulated,
		initial:   opts.InitialChoices,
	}
	m := &SetupModel{s: s, width: w, height: h, body: viewport.New(), help: newHelp(s.st)}
	m.screens[stepConnect] = newConnectScreen(s)
	m.syncBody()
	return m
}

// Result reports how the wizard ended, for the command to print a summary
// and pick the exit code after the terminal is restored.
func (m *SetupModel) Result() SetupResult { return m.s.result }

// Init starts the Connect screen and asks the terminal for its background
// colour, so the styles suit light terminals too.
func (m *SetupModel) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.screens[m.current].init())
}

// Update routes messages: global keys first, then the active screen.
func (m *SetupModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.syncBody()
	return m, cmd
}

func (m *SetupModel) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return nil
	case tea.BackgroundColorMsg:
		m.s.st = newStyles(msg.IsDark())
		m.help.Styles = m.s.st.help
		return nil
	case navMsg:
		return m.show(msg.to)
	case tea.KeyPressMsg:
		if cmd, handled := m.globalKey(msg); handled {
			return cmd
		}
	}
	var cmd tea.Cmd
	m.screens[m.current], cmd = m.screens[m.current].update(msg)
	return cmd
}

// globalKey handles the keys every screen shares. Keys a focused text field
// needs (←, ?) go to the field instead.
func (m *SetupModel) globalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.s.keys
	typing := false
	if t, ok := m.screens[m.current].(typer); ok {
		typing = t.typing()
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.interrupt(), true
	case key.Matches(msg, k.Help) && !typing:
		m.help.ShowAll = !m.help.ShowAll
		return nil, true
	case key.Matches(msg, k.PageUp):
		m.body.PageUp()
		return nil, true
	case key.Matches(msg, k.PageDown):
		m.body.PageDown()
		return nil, true
	case key.Matches(msg, k.Up, k.Down) && m.isScroller():
		if key.Matches(msg, k.Up) {
			m.body.ScrollUp(1)
		} else {
			m.body.ScrollDown(1)
		}
		return nil, true
	case key.Matches(msg, k.Back) && (msg.String() == "esc" || !typing):
		if m.canGoBack() {
			return navigate(m.current - 1), true
		}
		return nil, msg.String() == "esc"
	}
	return nil, false
}

func (m *SetupModel) isScroller() bool {
	sc, ok := m.screens[m.current].(scroller)
	return ok && sc.scrolls()
}

// canGoBack reports whether ← returns to the previous screen: not from the
// first one, and never once apply has started (the steps already ran).
func (m *SetupModel) canGoBack() bool {
	return m.current > stepConnect && m.current < stepApply
}

// interrupt handles ctrl+c: during apply it cancels the in-flight step and
// lets the Apply screen report the state; elsewhere it quits at once.
func (m *SetupModel) interrupt() tea.Cmd {
	switch sc := m.screens[m.current].(type) {
	case *applyScreen:
		return sc.interrupt()
	case *connectScreen:
		sc.cancelConnect()
	}
	if m.current != stepDone {
		m.s.result.Outcome = OutcomeAborted
	}
	m.quitting = true
	return tea.Quit
}

// show makes a screen active, building it on first visit. Access and
// Permissions keep their state when revisited (back keeps choices); Review
// is rebuilt each time because the choices behind its preview may differ.
func (m *SetupModel) show(to stepID) tea.Cmd {
	if to < stepConnect || to >= stepCount {
		return nil
	}
	if m.screens[to] == nil || to == stepReview || to == stepApply || to == stepDone {
		m.screens[to] = m.newScreen(to)
	}
	m.current = to
	m.body.GotoTop()
	return m.screens[to].init()
}

func (m *SetupModel) newScreen(id stepID) screen {
	switch id {
	case stepConnect:
		return newConnectScreen(m.s)
	case stepAccess:
		return newAccessScreen(m.s)
	case stepPermissions:
		return newPermissionsScreen(m.s)
	case stepReview:
		return newReviewScreen(m.s)
	case stepApply:
		return newApplyScreen(m.s)
	default:
		return newDoneScreen(m.s, m.WriteHandout)
	}
}

// View renders the frame around the active screen.
func (m *SetupModel) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "gitlab-oidc · setup"
	return v
}

// bodyWidth is the width screens wrap to: the frame indents the body by two
// columns and keeps one free on the right.
func (m *SetupModel) bodyWidth() int { return max(20, m.width-3) }

// syncBody re-renders the active screen into the scrolling body, wrapping
// long lines (ARNs, JSON) instead of cutting them, and keeps the focused
// line in view.
func (m *SetupModel) syncBody() {
	sc := m.screens[m.current]
	if sc == nil {
		return
	}
	width := m.bodyWidth()
	m.s.width = width
	focus := -1
	if f, ok := sc.(focuser); ok {
		focus = f.focusLine()
	}
	fillBody(&m.body, sc.view(), width, m.height-m.chromeHeight(), focus, &m.lastFocus)
}
