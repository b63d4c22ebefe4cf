package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"gitlab-oidc/diagnose"
)

// writeAuditReport writes the report to stdout in the chosen format.
func writeAuditReport(w io.Writer, format string, rep diagnose.AuditReport) error {
	var err error
	switch format {
	case "json":
		err = writeAuditJSON(w, rep)
	case "markdown":
		err = writeAuditMarkdown(w, rep)
	default:
		err = writeAuditText(w, rep)
	}
	if err != nil {
		return fmt.Errorf("write the audit report: %w", err)
	}
	return nil
}

// auditJSON is the stable --format json shape. It is spelled out here
// rather than taken from diagnose's structs so that scripts do not break
// when those grow fields for the screens.
type auditJSON struct {
	Roles   []auditRoleJSON        `json:"roles"`
	Skipped []diagnose.SkippedRole `json:"skipped"`
	Notes   []string               `json:"notes"`
	Scanned int                    `json:"scanned"`
}

type auditRoleJSON struct {
	ARN         string             `json:"arn"`
	Name        string             `json:"name"`
	Source      string             `json:"source"`
	Worst       diagnose.Severity  `json:"worst"`
	BlastRadius string             `json:"blast_radius"`
	Findings    []auditFindingJSON `json:"findings"`
	Notes       []string           `json:"notes"`
}

type auditFindingJSON struct {
	ID       string            `json:"id"`
	Severity diagnose.Severity `json:"severity"`
	Title    string            `json:"title"`
	Evidence []string          `json:"evidence"`
	Fix      string            `json:"fix"`
}

func writeAuditJSON(w io.Writer, rep diagnose.AuditReport) error {
	out := auditJSON{Roles: []auditRoleJSON{}, Skipped: nonNil(rep.Skipped), Notes: nonNil(rep.Notes), Scanned: rep.Scanned}
	for _, r := range rep.Roles {
		jr := auditRoleJSON{ARN: r.ARN, Name: r.Name, Source: r.Source, Worst: r.Worst, BlastRadius: r.BlastRadius,
			Findings: []auditFindingJSON{}, Notes: nonNil(r.Notes)}
		for _, f := range r.Findings {
			jr.Findings = append(jr.Findings, auditFindingJSON{ID: f.ID, Severity: f.Severity, Title: f.Title, Evidence: nonNil(f.Evidence), Fix: f.Fix})
		}
		out.Roles = append(out.Roles, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeAuditText writes the summary table, then each role's findings with
// evidence and fix.
func writeAuditText(w io.Writer, rep diagnose.AuditReport) error {
	if len(rep.Roles) == 0 {
		_, err := fmt.Fprintf(w, "No role trusts a GitLab OIDC provider (%d roles looked at).\n", rep.Scanned)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tWORST\tWHO CAN ASSUME")
	for _, r := range rep.Roles {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.Worst, r.BlastRadius)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, r := range withDetails(rep.Roles) {
		fmt.Fprintf(&b, "\n%s", r.Name)
		if r.ARN != "" {
			fmt.Fprintf(&b, "  %s", r.ARN)
		}
		b.WriteString("\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "  %-8s %s\n", strings.ToUpper(string(f.Severity)), f.ID)
			fmt.Fprintf(&b, "           %s\n", f.Title)
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "           evidence: %s\n", e)
			}
			fmt.Fprintf(&b, "           fix: %s\n", f.Fix)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeAuditMarkdown writes a report that can be pasted into a ticket: a
// summary table, then a section per role with findings, evidence and fix.
func writeAuditMarkdown(w io.Writer, rep diagnose.AuditReport) error {
	var b strings.Builder
	b.WriteString("# GitLab OIDC trust audit\n\n")
	fmt.Fprintf(&b, "%d of %d roles trust a GitLab OIDC provider.\n\n", len(rep.Roles), rep.Scanned)
	if len(rep.Roles) > 0 {
		b.WriteString("| Role | Worst | Who can assume | Findings |\n|---|---|---|---|\n")
		for _, r := range rep.Roles {
			ids := make([]string, len(r.Findings))
			for i, f := range r.Findings {
				ids[i] = "`" + f.ID + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.Name, mdSeverity(r.Worst), mdCell(r.BlastRadius), strings.Join(ids, ", "))
		}
	}
	for _, r := range withDetails(rep.Roles) {
		fmt.Fprintf(&b, "\n## %s\n\n", r.Name)
		if r.ARN != "" {
			fmt.Fprintf(&b, "`%s`\n\n", r.ARN)
		}
		fmt.Fprintf(&b, "Who can assume it: %s.\n\n", r.BlastRadius)
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- [ ] %s `%s`: %s\n", mdSeverity(f.Severity), f.ID, f.Title)
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "  - Evidence: `%s`\n", mdCode(e))
			}
			fmt.Fprintf(&b, "  - Fix: %s\n", f.Fix)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- Note: %s\n", n)
		}
	}
	if len(rep.Skipped) > 0 {
		b.WriteString("\n## Not audited\n\n")
		for _, s := range rep.Skipped {
			fmt.Fprintf(&b, "- `%s`: %s\n", s.Role, s.Reason)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdSeverity(s diagnose.Severity) string {
	if s == diagnose.SeverityCritical || s == diagnose.SeverityHigh {
		return "**" + string(s) + "**"
	}
	return string(s)
}

// mdCell keeps a value inside its table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// mdCode keeps a value inside single backticks.
func mdCode(s string) string {
	return strings.ReplaceAll(s, "`", "'")
}

// withDetails are the roles that get a section after the summary table:
// those with findings or notes.
func withDetails(roles []diagnose.RoleAudit) []diagnose.RoleAudit {
	var out []diagnose.RoleAudit
	for _, r := range roles {
		if len(r.Findings) > 0 || len(r.Notes) > 0 {
			out = append(out, r)
		}
	}
	return out
}
