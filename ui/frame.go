package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

const (
	titleText = "gitlab-oidc · setup"
	badgeText = "SIMULATED (demo)"
)

// render draws the frame: title and step line, a rule, the scrolling body,
// a rule, and the help footer with the simulated badge on the right.
func (m *SetupModel) render() string {
	var b strings.Builder
	b.WriteString(m.header())
	b.WriteString("\n")
	b.WriteString(m.s.st.rule.Render(strings.Repeat("─", m.width)))
	b.WriteString("\n")
	b.WriteString(m.body.View())
	b.WriteString("\n")
	b.WriteString(m.bottomRule())
	b.WriteString("\n")
	b.WriteString(m.footer())
	return b.String()
}

// chromeHeight is how many lines the frame takes besides the body.
func (m *SetupModel) chromeHeight() int {
	return lipgloss.Height(m.header()) + lipgloss.Height(m.footer()) + 2
}

// header is the title with the step line on the right, or below it when the
// terminal is too narrow for both on one line.
func (m *SetupModel) header() string {
	st := m.s.st
	title := " " + st.title.Render(titleText)
	parts := make([]string, 0, stepCount)
	for i := stepConnect; i < stepCount; i++ {
		switch {
		case i == m.current:
			parts = append(parts, st.stepCurrent.Render(stepNames[i]))
		case i < m.current:
			parts = append(parts, st.stepDone.Render("✓ "+stepNames[i]))
		default:
			parts = append(parts, st.stepTodo.Render(stepNames[i]))
		}
	}
	line := strings.Join(parts, st.subtle.Render(" › "))
	// Decide on the widest step line (every step but the last done), so
	// the frame does not jump between screens.
	widest := 0
	for _, n := range stepNames {
		widest += len([]rune(n)) + 2 + 3
	}
	widest -= 2 + 3
	gap := m.width - lipgloss.Width(title) - lipgloss.Width(line) - 1
	if m.width-lipgloss.Width(title)-widest-1 >= 2 {
		return title + strings.Repeat(" ", gap) + line
	}
	return title + "\n " + line
}

// footer is the help for the active screen plus the global keys, with the
// SIMULATED badge right-aligned when the run is a demo.
func (m *SetupModel) footer() string {
	st := m.s.st
	badge := ""
	if m.simulated() {
		badge = st.badge.Render(badgeText)
	}
	keys := m.helpKeys()
	h := m.help
	h.SetWidth(max(10, m.width-lipgloss.Width(badge)-3))
	text := indentLines(h.View(keys), " ")
	if badge == "" {
		return text
	}
	lines := strings.Split(text, "\n")
	last := lines[len(lines)-1]
	gap := m.width - lipgloss.Width(last) - lipgloss.Width(badge) - 1
	if gap < 1 {
		return text + "\n" + strings.Repeat(" ", max(0, m.width-lipgloss.Width(badge)-1)) + badge
	}
	lines[len(lines)-1] = last + strings.Repeat(" ", gap) + badge
	return strings.Join(lines, "\n")
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

// bottomRule is the rule above the footer; when the body has more below,
// it says so, because nothing else would show that the text goes on.
func (m *SetupModel) bottomRule() string {
	st := m.s.st
	if m.body.AtBottom() {
		return st.rule.Render(strings.Repeat("─", m.width))
	}
	below := m.body.TotalLineCount() - m.body.YOffset() - m.body.Height()
	label := fmt.Sprintf(" ↓ %d more · pgdn ", below)
	n := max(0, m.width-lipgloss.Width(label)-2)
	return st.rule.Render(strings.Repeat("─", n)) + st.subtle.Render(label) + st.rule.Render("──")
}
