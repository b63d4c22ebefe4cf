package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

const (
	titleText = "gitlab-oidc · setup"
	badgeText = "SIMULATED (demo)"
)

// chrome is the frame every command's screens share: the title with the
// step line, a rule, the scrolling body, a rule (saying when more is
// below), and the help footer with the SIMULATED badge on the right. The
// setup wizard, doctor and audit each fill one in per render.
type chrome struct {
	st    *styles
	title string
	// steps is the step line; current is the step shown, and the ones
	// before it count as done. A nil steps draws no step line.
	steps     []string
	current   int
	width     int
	simulated bool
}

// render draws the frame around body.
func (c chrome) render(body viewport.Model, h help.Model, keys help.KeyMap) string {
	var b strings.Builder
	b.WriteString(c.header())
	b.WriteString("\n")
	b.WriteString(c.st.rule.Render(strings.Repeat("─", c.width)))
	b.WriteString("\n")
	b.WriteString(body.View())
	b.WriteString("\n")
	b.WriteString(c.bottomRule(body))
	b.WriteString("\n")
	b.WriteString(c.footer(h, keys))
	return b.String()
}

// height is how many lines the frame takes besides the body.
func (c chrome) height(h help.Model, keys help.KeyMap) int {
	return lipgloss.Height(c.header()) + lipgloss.Height(c.footer(h, keys)) + 2
}

// header is the title with the step line on the right, or below it when the
// terminal is too narrow for both on one line.
func (c chrome) header() string {
	st := c.st
	title := " " + st.title.Render(c.title)
	if len(c.steps) == 0 {
		return title
	}
	parts := make([]string, 0, len(c.steps))
	for i, name := range c.steps {
		switch {
		case i == c.current:
			parts = append(parts, st.stepCurrent.Render(name))
		case i < c.current:
			parts = append(parts, st.stepDone.Render("✓ "+name))
		default:
			parts = append(parts, st.stepTodo.Render(name))
		}
	}
	line := strings.Join(parts, st.subtle.Render(" › "))
	// Decide on the widest step line (every step but the last done), so
	// the frame does not jump between screens.
	widest := 0
	for _, n := range c.steps {
		widest += len([]rune(n)) + 2 + 3
	}
	widest -= 2 + 3
	gap := c.width - lipgloss.Width(title) - lipgloss.Width(line) - 1
	if c.width-lipgloss.Width(title)-widest-1 >= 2 {
		return title + strings.Repeat(" ", gap) + line
	}
	return title + "\n " + line
}

// footer is the help for the active screen plus the global keys, with the
// SIMULATED badge right-aligned when the run is a demo.
func (c chrome) footer(h help.Model, keys help.KeyMap) string {
	st := c.st
	badge := ""
	if c.simulated {
		badge = st.badge.Render(badgeText)
	}
	h.SetWidth(max(10, c.width-lipgloss.Width(badge)-3))
	text := indentLines(h.View(keys), " ")
	if badge == "" {
		return text
	}
	lines := strings.Split(text, "\n")
	last := lines[len(lines)-1]
	gap := c.width - lipgloss.Width(last) - lipgloss.Width(badge) - 1
	if gap < 1 {
		return text + "\n" + strings.Repeat(" ", max(0, c.width-lipgloss.Width(badge)-1)) + badge
	}
	lines[len(lines)-1] = last + strings.Repeat(" ", gap) + badge
	return strings.Join(lines, "\n")
}

// bottomRule is the rule above the footer; when the body has more below,
// it says so, because nothing else would show that the text goes on.
func (c chrome) bottomRule(body viewport.Model) string {
	st := c.st
	if body.AtBottom() {
		return st.rule.Render(strings.Repeat("─", c.width))
	}
	below := body.TotalLineCount() - body.YOffset() - body.Height()
	label := fmt.Sprintf(" ↓ %d more · pgdn ", below)
	n := max(0, c.width-lipgloss.Width(label)-2)
	return st.rule.Render(strings.Repeat("─", n)) + st.subtle.Render(label) + st.rule.Render("──")
}

// fillBody puts a screen's view into the scrolling body: every line wrapped
// to width (ARNs and JSON wrap instead of being cut) and indented by two
// columns. focus is the view line of the cursor (-1 for none); when it moved
// since *lastFocus the body scrolls to keep it visible, and only then, so
// pgup/pgdn still work.
func fillBody(body *viewport.Model, view string, width, height, focus int, lastFocus *int) {
	var out []string
	at := -1
	for i, line := range strings.Split(view, "\n") {
		if i == focus {
			at = len(out)
		}
		out = append(out, wrapHanging(line, width)...)
	}
	body.SetWidth(width + 2)
	body.SetHeight(max(1, height))
	indented := make([]string, len(out))
	for i, l := range out {
		indented[i] = "  " + l
	}
	body.SetContentLines(indented)
	if at >= 0 && at != *lastFocus {
		h := body.Height()
		switch {
		case at < body.YOffset():
			body.SetYOffset(max(0, at-1))
		case at >= body.YOffset()+h:
			body.SetYOffset(at - h + 2)
		}
	}
	*lastFocus = at
}

// newHelp returns the footer's help with the shared styles.
func newHelp(st *styles) help.Model {
	h := help.New()
	h.Styles = st.help
	h.ShortSeparator = " · "
	return h
}

// chrome is the setup wizard's frame for the current screen.
func (m *SetupModel) chrome() chrome {
	return chrome{st: m.s.st, title: titleText, steps: stepNames[:], current: int(m.current), width: m.width, simulated: m.simulated()}
}

// render draws the frame around the active screen.
func (m *SetupModel) render() string {
	return m.chrome().render(m.body, m.help, m.helpKeys())
}

// chromeHeight is how many lines the frame takes besides the body.
func (m *SetupModel) chromeHeight() int {
	return m.chrome().height(m.help, m.helpKeys())
}

// simulated reports whether frames carry the demo badge.
func (m *SetupModel) simulated() bool {
	return m.s.simulated || (m.s.conn != nil && m.s.conn.Simulated)
}

// helpKeys lists the active screen's keys first, then the global ones that
// apply here (no back on the first screen or once apply started).
func (m *SetupModel) helpKeys() helpKeys {
	k := m.s.keys
	screenKeys := m.screens[m.current].keys()
	global := []key.Binding{}
	if m.canGoBack() {
		global = append(global, k.Back)
	}
	global = append(global, k.Help, k.Quit)
	short := append(append([]key.Binding{}, screenKeys...), global...)
	// The expanded help lists the screen's own keys first, without the
	// shared ones that have their own columns.
	var own []key.Binding
	for _, b := range screenKeys {
		if b.Help() != k.Field.Help() {
			own = append(own, b)
		}
	}
	full := [][]key.Binding{own, {k.Back, k.Field, k.PrevField}, {k.PageUp, k.PageDown, k.Help, k.Quit}}
	return helpKeys{short: short, full: full}
}

// screens is what the doctor and audit models share: the terminal size,
// the styles and keys, the scrolling body, the help footer and the spinner.
// Each model embeds it and renders its own body and chrome into it.
type screens struct {
	st        *styles
	keys      keyMap
	simulated bool

	width, height int
	body          viewport.Model
	help          help.Model
	spin          spinner.Model
	lastFocus     int
}

// newScreens sizes the shell (80x24 until the terminal says otherwise).
func newScreens(width, height int, simulated bool) screens {
	if width <= 0 {
		width = 80
	}
	if height <= 0 {
		height = 24
	}
	st := newStyles(true)
	return screens{
		st: st, keys: newKeyMap(), simulated: simulated,
		width: width, height: height, body: viewport.New(), help: newHelp(st),
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot)),
	}
}

// frameMsg handles the terminal's size and background colour; it reports
// whether msg was one of them.
func (s *screens) frameMsg(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		s.width, s.height = msg.Width, msg.Height
	case tea.BackgroundColorMsg:
		s.st = newStyles(msg.IsDark())
		s.help.Styles = s.st.help
	default:
		return false
	}
	return true
}

// scrollKey handles the keys every screen has: help and paging.
func (s *screens) scrollKey(msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, s.keys.Help):
		s.help.ShowAll = !s.help.ShowAll
	case key.Matches(msg, s.keys.PageUp):
		s.body.PageUp()
	case key.Matches(msg, s.keys.PageDown):
		s.body.PageDown()
	default:
		return false
	}
	return true
}

// fill puts a screen's view into the body between the chrome's lines.
func (s *screens) fill(c chrome, keys helpKeys, view string, focus int) {
	fillBody(&s.body, view, s.bodyWidth(), s.height-c.height(s.help, keys), focus, &s.lastFocus)
}

// bodyWidth is the width views are laid out for.
func (s *screens) bodyWidth() int { return max(20, s.width-3) }

// view draws the frame on the alternate screen.
func (s *screens) view(c chrome, keys helpKeys) tea.View {
	v := tea.NewView(c.render(s.body, s.help, keys))
	v.AltScreen = true
	v.WindowTitle = c.title
	return v
}
