package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/diagnose"
)

// diagnosisView lists the findings, most likely cause first, one line each
// (the title is cut to fit; Detail shows it whole), and returns the line of
// the cursor.
func (m *DoctorModel) diagnosisView(width int) (string, int) {
	st := m.st
	ev := m.ev
	var b strings.Builder
	head := st.heading.Render("Findings") + st.subtle.Render(", most likely cause first")
	if ev != nil && ev.Log != nil && ev.Log.STS != nil {
		head += st.subtle.Render(" · STS said ") + st.err.Render(ev.Log.STS.Code)
	}
	b.WriteString(head + "\n")
	if ev != nil && ev.Predicted {
		b.WriteString(st.warning.Render("! claims predicted from the job: no token was given") + "\n")
	}
	hint := ""
	if m.run.Hint != nil && ev != nil {
		hint = m.run.Hint(ev, m.findings)
	}
	if hint != "" {
		b.WriteString(st.warning.Render("! "+hint) + "\n")
	}
	b.WriteString("\n")
	if len(m.findings) == 0 {
		if hint != "" {
			// STS failed: "no problem" would be wrong, the evidence is thin.
			b.WriteString(st.subtle.Render("No cause proven from this evidence."))
			return strings.TrimRight(b.String(), "\n"), -1
		}
		b.WriteString(st.success.Render("✓ No problem found.") + "\n")
		if ev == nil || (ev.Token == nil && ev.Role == nil) {
			b.WriteString(st.subtle.Render("Give doctor more to work with: --token-env, --job, --role-arn, --error."))
		}
		return strings.TrimRight(b.String(), "\n"), -1
	}
	idw := 0
	for _, f := range m.findings {
		idw = max(idw, len(f.ID))
	}
	lines := strings.Count(b.String(), "\n")
	for i, f := range m.findings {
		prefix := pointer(st, i == m.cursor) + severityBadge(st, f.Severity) + " " + pad(f.ID, idw) + "  "
		room := width - ansi.StringWidth(prefix)
		title := f.Title
		if room > 8 {
			title = ansi.Truncate(title, room, "…")
		}
		b.WriteString(prefix + title + "\n")
	}
	if f := m.finding(); f != nil {
		b.WriteString("\n" + severityLabel(st, f.Severity, 0) + st.subtle.Render(" · "+f.ID) + "\n" + f.Title)
		if len(f.Evidence) > 0 {
			b.WriteString("\n" + st.subtle.Render(fmt.Sprintf("%d evidence line(s) · enter for the detail", len(f.Evidence))))
		}
	}
	return b.String(), lines + m.cursor
}

// findingHeader is the first lines of Detail and Fix: which finding they
// are about.
func (m *DoctorModel) findingHeader(f *diagnose.Finding) string {
	st := m.st
	return severityLabel(st, f.Severity, 0) + st.subtle.Render(" · ") + st.bold.Render(f.ID) + "\n" + f.Title
}
