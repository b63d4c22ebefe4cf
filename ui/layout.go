package ui

import (
	"strings"

	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/internal/gitlabapi"
)

// twoColumnWidth is the body width from which screens put related blocks
// side by side instead of one under the other.
const twoColumnWidth = 110

// pad right-pads s with spaces to the visible width w (styled text counts
// by its printed width).
func pad(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// minColumn is the narrowest a column may get before two columns stop
// helping and the blocks are stacked instead.
const minColumn = 56

// columns lays two blocks side by side when the body is wide enough, else
// one under the other with a blank line between. The right block keeps its
// natural width; the left one wraps (with hanging indents) into the rest.
func columns(width int, left, right string) string {
	stacked := left + "\n\n" + right
	if width < twoColumnWidth {
		return stacked
	}
	leftW := width - widestLine(right) - 4
	if leftW < minColumn {
		return stacked
	}
	var l []string
	for _, line := range strings.Split(left, "\n") {
		l = append(l, wrapHanging(line, leftW)...)
	}
	return joinColumns(l, strings.Split(right, "\n"), leftW)
}

// joinColumns puts line blocks side by side, the left padded to leftW.
func joinColumns(l, r []string, leftW int) string {
	out := make([]string, max(len(l), len(r)))
	for i := range out {
		var a, b string
		if i < len(l) {
			a = l[i]
		}
		if i < len(r) {
			b = r[i]
		}
		out[i] = strings.TrimRight(pad(a, leftW)+"    "+b, " ")
	}
	return strings.Join(out, "\n")
}

// widestLine is the display width of a block's widest line.
func widestLine(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}

// table aligns rows of cells into columns by the widest cell in each.
func table(rows [][]string, indent string) string {
	widths := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], lipgloss.Width(c))
		}
	}
	lines := make([]string, len(rows))
	for j, r := range rows {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(pad(c, widths[i]+3))
		}
		lines[j] = strings.TrimRight(b.String(), " ")
	}
	return strings.Join(lines, "\n")
}

// accessLevelName says a GitLab access level the way GitLab's UI does.
func accessLevelName(l gitlabapi.AccessLevel) string {
	switch {
	case l >= gitlabapi.Owner:
		return "Owner"
	case l >= gitlabapi.Maintainer:
		return "Maintainer"
	case l >= gitlabapi.Developer:
		return "Developer"
	case l >= gitlabapi.Reporter:
		return "Reporter"
	case l >= gitlabapi.Guest:
		return "Guest"
	default:
		return "no access"
	}
}

// hostOf strips the scheme from a URL for compact display.
func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return strings.TrimSuffix(u, "/")
}

// newInput returns a text field with the wizard's prompt.
func newInput(st *styles, placeholder string) textinput.Model {
	ti := textinput.New()
	ti.SetStyles(st.input)
	ti.Prompt = "> "
	ti.Placeholder = placeholder
	ti.SetWidth(48)
	return ti
}

// inputView renders a text field with the current styles (they change when
// the terminal reports a light background).
func inputView(ti textinput.Model, st *styles) string {
	ti.SetStyles(st.input)
	return ti.View()
}

// pointer marks the row the cursor is on.
func pointer(st *styles, on bool) string {
	if on {
		return st.cursor.Render("▸ ")
	}
	return "  "
}

// radio renders a selection mark; ◉/○ read without colour too.
func radio(st *styles, on bool) string {
	if on {
		return st.accent.Render("◉")
	}
	return "○"
}

// wrapHanging wraps one line to width, indenting continuation lines under
// the text rather than at the margin: under the first word after a leading
// mark (✗ ⚠ ✓ + ~ =), else under the line's own indentation.
func wrapHanging(line string, width int) []string {
	if ansi.StringWidth(line) <= width {
		return []string{line}
	}
	plain := ansi.Strip(line)
	trimmed := strings.TrimLeft(plain, " ")
	indent := len(plain) - len(trimmed)
	for _, mark := range []string{"✗ ", "⚠ ", "✓ ", "+ ", "~ ", "= ", "- "} {
		if strings.HasPrefix(trimmed, mark) {
			indent += 2
			break
		}
	}
	if indent > width/2 {
		indent = 0
	}
	// Wrapping everything to the narrower width keeps styles intact (the
	// first line gives up a few columns, which is fine).
	lines := strings.Split(ansi.Wrap(line, width-indent, "/:"), "\n")
	pre := strings.Repeat(" ", indent)
	for i := 1; i < len(lines); i++ {
		lines[i] = pre + strings.TrimLeft(lines[i], " ")
	}
	return lines
}

// tickSpinner advances a spinner while its work runs; once the work is done
// it asks for no further tick, so the spinner stops.
func tickSpinner(sp *spinner.Model, active bool, msg spinner.TickMsg) tea.Cmd {
	if !active {
		return nil
	}
	var cmd tea.Cmd
	*sp, cmd = sp.Update(msg)
	return cmd
}

// spinnerView renders a spinner in the current accent style.
func spinnerView(sp spinner.Model, st *styles) string {
	sp.Style = st.spinner
	return sp.View()
}

// fill sets *dst to def when it holds the zero value.
func fill[T comparable](dst *T, def T) {
	var zero T
	if *dst == zero {
		*dst = def
	}
}

// sideBySide puts two blocks next to each other when both fit at their
// natural widths, else one under the other. Unlike columns it never wraps
// the left block: claims and ARNs read badly when broken.
func sideBySide(width int, left, right string) string {
	leftW := widestLine(left)
	if width < twoColumnWidth || leftW+4+widestLine(right) > width {
		return left + "\n\n" + right
	}
	return joinColumns(strings.Split(left, "\n"), strings.Split(right, "\n"), leftW)
}
