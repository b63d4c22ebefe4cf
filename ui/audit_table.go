package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/diagnose"
)

// progressView shows the audit running: the roles done of those found.
func (m *AuditModel) progressView(width int) string {
	st := m.st
	if m.total == 0 {
		return spinnerView(m.spin, st) + " Listing the account's OIDC providers and roles…"
	}
	barW := min(40, max(10, width-12))
	n := m.done * barW / m.total
	bar := "▕" + st.accent.Render(strings.Repeat("█", n)) + strings.Repeat("·", barW-n) + "▏"
	return spinnerView(m.spin, st) + fmt.Sprintf(" Auditing roles  %d/%d", m.done, m.total) + "\n" +
		bar + fmt.Sprintf(" %d %%", m.done*100/m.total) + "\n\n" +
		st.subtle.Render("Reading each role's trust policy and permission policies, a few at a time.")
}

// severityOrderForSummary lists the severities in the summary line.
var severityOrderForSummary = []diagnose.Severity{
	diagnose.SeverityCritical, diagnose.SeverityHigh, diagnose.SeverityMedium,
	diagnose.SeverityLow, diagnose.SeverityInfo, diagnose.SeverityNone,
}

// tableView is the roles table (role, worst severity, blast radius in
// words), the pointed role's blast radius in full, and what the audit
// looked at. It returns the line of the cursor.
func (m *AuditModel) tableView(width int) (string, int) {
	st := m.st
	rep := m.report
	var b strings.Builder
	head := fmt.Sprintf("%d roles trust GitLab", len(m.roles))
	if len(m.roles) == 1 {
		head = "1 role trusts GitLab"
	}
	b.WriteString(st.heading.Render(head) + st.subtle.Render(fmt.Sprintf(" (of %d scanned) · sorted by %s", rep.Scanned, auditSortNames[m.sort])) + "\n")
	b.WriteString(m.summaryLine() + "\n\n")
	if len(m.roles) == 0 {
		b.WriteString(st.subtle.Render("No role trusts a GitLab provider. Name self-managed instances with --issuer, or try --discover.") + "\n")
		b.WriteString(m.providersView())
		return strings.TrimRight(b.String(), "\n"), -1
	}
	nameW := 4
	for _, r := range m.roles {
		nameW = max(nameW, len([]rune(r.Name)))
	}
	nameW = min(nameW, max(12, width/3))
	const sevW = 11
	b.WriteString(st.subtle.Render("  "+pad("Role", nameW+2)+pad("Worst", sevW)+"Who can assume it") + "\n")
	first := strings.Count(b.String(), "\n")
	for i, r := range m.roles {
		name := pad(shorten(r.Name, nameW), nameW+2)
		line := pointer(st, i == m.cursor) + name + severityLabel(st, r.Worst, sevW)
		room := width - ansi.StringWidth(line)
		line += ansi.Truncate(r.BlastRadius, max(8, room), "…")
		b.WriteString(line + "\n")
	}
	if m.cursor < len(m.roles) {
		r := m.roles[m.cursor]
		b.WriteString("\n" + st.bold.Render(r.Name) + st.subtle.Render(fmt.Sprintf(" · %s · %s", findingCount(r.Findings), r.Source)) + "\n")
		b.WriteString(r.BlastRadius + " can assume it\n")
	}
	b.WriteString(m.providersView())
	return strings.TrimRight(b.String(), "\n"), first + m.cursor
}

// summaryLine counts the roles by their worst severity.
func (m *AuditModel) summaryLine() string {
	st := m.st
	count := map[diagnose.Severity]int{}
	for _, r := range m.roles {
		count[r.Worst]++
	}
	var parts []string
	for _, s := range severityOrderForSummary {
		if n := count[s]; n > 0 {
			name := string(s)
			if s == diagnose.SeverityNone {
				name = "clean"
			}
			parts = append(parts, severityStyle(st, s)(fmt.Sprintf("%s %d %s", severityMark(s), n, name)))
		}
	}
	return strings.Join(parts, st.subtle.Render(" · "))
}

// providersView says which providers counted as GitLab, and what was
// skipped or could not be read, so a short table is not mistaken for a
// complete one.
func (m *AuditModel) providersView() string {
	st := m.st
	rep := m.report
	var b strings.Builder
	var gl []string
	for _, p := range rep.Providers {
		if p.GitLab {
			gl = append(gl, p.URL+" ("+p.Why+")")
		}
	}
	if len(gl) > 0 {
		b.WriteString("\n" + st.subtle.Render("GitLab providers: "+strings.Join(gl, " · ")) + "\n")
	}
	for _, s := range rep.Skipped {
		b.WriteString(st.warning.Render("! skipped "+s.Role+": "+s.Reason) + "\n")
	}
	for _, n := range rep.Notes {
		b.WriteString(st.warning.Render("! "+n) + "\n")
	}
	return b.String()
}
