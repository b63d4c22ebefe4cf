package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Semantic colours, each with a light- and a dark-background variant. Meaning
// never rests on colour alone: every coloured line also carries a symbol
// (✓ ✗ ⚠ + ~ =), so the screens read the same with NO_COLOR.
var (
	colorAccent = lipgloss.Color("#FC6D26") // GitLab orange, legible on both backgrounds
)

// styles is every lipgloss style the UI uses. Nothing outside this file builds
// a style, so a theme change (or a light terminal) is one place.
type styles struct {
	title       lipgloss.Style
	stepCurrent lipgloss.Style
	stepDone    lipgloss.Style
	stepTodo    lipgloss.Style
	rule        lipgloss.Style
	badge       lipgloss.Style

	accent  lipgloss.Style
	success lipgloss.Style
	warning lipgloss.Style
	err     lipgloss.Style
	subtle  lipgloss.Style
	bold    lipgloss.Style
	heading lipgloss.Style
	cursor  lipgloss.Style

	jsonKey    lipgloss.Style
	jsonString lipgloss.Style
	jsonPunct  lipgloss.Style
	diffAdd    lipgloss.Style
	diffDel    lipgloss.Style
	diffHunk   lipgloss.Style

	spinner lipgloss.Style
	input   textinput.Styles
	help    help.Styles
}

// newStyles builds the styles for a dark or a light terminal background.
func newStyles(isDark bool) *styles {
	ld := lipgloss.LightDark(isDark)
	success := ld(lipgloss.Color("#1A7F37"), lipgloss.Color("#3FB950"))
	warning := ld(lipgloss.Color("#9A6700"), lipgloss.Color("#D29922"))
	errc := ld(lipgloss.Color("#CF222E"), lipgloss.Color("#F85149"))
	subtle := ld(lipgloss.Color("#6E7781"), lipgloss.Color("#8B949E"))
	text := ld(lipgloss.Color("#1F2328"), lipgloss.Color("#E6EDF3"))

	s := &styles{
		title:       lipgloss.NewStyle().Bold(true).Foreground(colorAccent),
		stepCurrent: lipgloss.NewStyle().Bold(true).Underline(true).Foreground(text),
		stepDone:    lipgloss.NewStyle().Foreground(subtle),
		stepTodo:    lipgloss.NewStyle().Foreground(subtle),
		rule:        lipgloss.NewStyle().Foreground(subtle),
		badge:       lipgloss.NewStyle().Bold(true).Foreground(warning),

		accent:  lipgloss.NewStyle().Foreground(colorAccent),
		success: lipgloss.NewStyle().Foreground(success),
		warning: lipgloss.NewStyle().Foreground(warning),
		err:     lipgloss.NewStyle().Foreground(errc),
		subtle:  lipgloss.NewStyle().Foreground(subtle),
		bold:    lipgloss.NewStyle().Bold(true),
		heading: lipgloss.NewStyle().Bold(true).Foreground(text),
		cursor:  lipgloss.NewStyle().Bold(true).Foreground(colorAccent),

		jsonKey:    lipgloss.NewStyle().Foreground(colorAccent),
		jsonString: lipgloss.NewStyle().Foreground(success),
		jsonPunct:  lipgloss.NewStyle().Foreground(subtle),
		diffAdd:    lipgloss.NewStyle().Foreground(success),
		diffDel:    lipgloss.NewStyle().Foreground(errc),
		diffHunk:   lipgloss.NewStyle().Foreground(subtle),

		spinner: lipgloss.NewStyle().Foreground(colorAccent),
	}

	s.input = textinput.DefaultStyles(isDark)
	s.input.Focused.Prompt = lipgloss.NewStyle().Foreground(colorAccent)
	s.input.Blurred.Prompt = lipgloss.NewStyle().Foreground(subtle)
	s.input.Focused.Placeholder = lipgloss.NewStyle().Foreground(subtle)
	s.input.Blurred.Placeholder = lipgloss.NewStyle().Foreground(subtle)
	s.input.Cursor.Color = colorAccent
	s.input.Cursor.Shape = tea.CursorBlock
	// A steady cursor: calmer, and views do not change while nothing happens.
	s.input.Cursor.Blink = false

	s.help = help.DefaultStyles(isDark)
	s.help.ShortKey = lipgloss.NewStyle().Bold(true).Foreground(text)
	s.help.FullKey = s.help.ShortKey
	s.help.ShortDesc = lipgloss.NewStyle().Foreground(subtle)
	s.help.FullDesc = s.help.ShortDesc
	return s
}
