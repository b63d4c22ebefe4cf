package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"gitlab-oidc/diagnose"
)

// roleView is one role's drill-down: who can assume it, its findings, and
// its trust policy with the offending parts highlighted and named.
func (m *AuditModel) roleView(width int) string {
	st := m.st
	if m.cursor >= len(m.roles) {
		return ""
	}
	r := m.roles[m.cursor]
	b := &strings.Builder{}
	b.WriteString(st.bold.Render(r.Name) + "  " + severityLabel(st, r.Worst, 0) + "\n")
	if r.ARN != "" {
		b.WriteString(st.subtle.Render(r.ARN) + "\n")
	}
	b.WriteString("Who can assume it: " + r.BlastRadius + "\n")
	if len(r.Findings) == 0 {
		b.WriteString("\n" + st.success.Render("✓ No findings.") + "\n")
	}
	for _, f := range r.Findings {
		b.WriteString("\n" + severityLabel(st, f.Severity, 11) + st.bold.Render(f.ID) + "\n")
		b.WriteString("  " + f.Title + "\n")
		for _, e := range f.Evidence {
			b.WriteString("  " + st.subtle.Render(e) + "\n")
		}
		if f.Fix != "" {
			b.WriteString("  " + st.success.Render("fix") + " " + f.Fix + "\n")
		}
	}
	for _, n := range r.Notes {
		b.WriteString("\n" + st.warning.Render("! "+n) + "\n")
	}
	if r.TrustPolicy == "" {
		return strings.TrimRight(b.String(), "\n")
	}
	pol := st.heading.Render("Trust policy") + st.subtle.Render("  (↑ marks what the findings are about)") + "\n" + m.markedPolicy(r)
	// Wide terminals show the findings beside the policy they are about.
	return columns(width, strings.TrimRight(b.String(), "\n"), strings.TrimRight(pol, "\n"))
}

// markedPolicy indents the trust policy, colours it like the Review
// screen, and marks each line a finding is about: the line is shown in the
// error colour with "↑ finding-id" under it, so the spot reads without
// colour too.
func (m *AuditModel) markedPolicy(r diagnose.RoleAudit) string {
	st := m.st
	doc := r.TrustPolicy
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(doc), "", "  ") == nil {
		doc = buf.String()
	}
	lines := strings.Split(strings.TrimRight(doc, "\n"), "\n")
	marks := offendingLines(lines, r.Findings)
	var b strings.Builder
	for i, l := range lines {
		if ids, ok := marks[i]; ok {
			ind := len(l) - len(strings.TrimLeft(l, " "))
			b.WriteString("  " + st.err.Render(l) + "\n")
			b.WriteString("  " + strings.Repeat(" ", ind) + st.err.Render("↑ "+strings.Join(ids, ", ")) + "\n")
			continue
		}
		b.WriteString("  " + highlightJSONLine(st, l) + "\n")
	}
	return b.String()
}

// offendingLines maps policy lines to the IDs of the findings about them:
// the condition key and values a finding's Detail names; for a missing
// sub or aud condition, the Condition block (or the Principal, when the
// statement has none); for a path-only pin, the sub condition.
func offendingLines(lines []string, fs []diagnose.Finding) map[int][]string {
	out := map[int][]string{}
	mark := func(i int, id string) {
		for _, have := range out[i] {
			if have == id {
				return
			}
		}
		out[i] = append(out[i], id)
	}
	for _, f := range fs {
		var needles []string
		switch {
		case f.Detail != nil:
			needles = append(needles, fmt.Sprintf("%q", f.Detail.Key))
			for _, v := range f.Detail.PolicyValue {
				needles = append(needles, fmt.Sprintf("%q", v))
			}
		case f.ID == "trust-no-sub-condition" || f.ID == "trust-no-aud-condition":
			needles = []string{`"Condition"`}
			if !strings.Contains(strings.Join(lines, "\n"), `"Condition"`) {
				needles = []string{`"Principal"`}
			}
		case f.ID == "trust-path-reuse-risk":
			needles = []string{`:sub"`}
		}
		for i, l := range lines {
			for _, n := range needles {
				if strings.Contains(l, n) {
					mark(i, f.ID)
				}
			}
		}
	}
	return out
}
