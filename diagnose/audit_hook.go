package diagnose

import (
	"strconv"
	"strings"
)

// auditFindings adds the audit of the role (causes.md section F) to the
// doctor's report as warnings: a risky trust policy is not why the exchange
// failed, but the person fixing it is editing that policy right now. The
// audit's own severity is kept in the evidence.
func auditFindings(ev *Evidence) []Finding {
	if ev.Role == nil || ev.Role.Trust == nil {
		return nil
	}
	var opts AuditOptions
	if c := ev.claims(); c != nil && c.Issuer != "" {
		opts.GitLabProviders = []string{KeyPrefix(c.Issuer)}
	}
	found := AuditRole(*ev.Role, opts)
	projectID := ""
	if c := ev.claims(); c != nil {
		projectID = c.ProjectID
	} else if ev.Job != nil && ev.Job.ProjectID != 0 {
		projectID = strconv.FormatInt(ev.Job.ProjectID, 10)
	}
	out := make([]Finding, 0, len(found))
	for _, f := range found {
		if projectID != "" {
			// The audit alone cannot know the project; the doctor does.
			f.Fix = strings.ReplaceAll(f.Fix, "PROJECT_ID", projectID)
		}
		f.Evidence = append([]string{"audit      severity " + string(f.Severity) + " (gitlab-oidc audit)"}, f.Evidence...)
		f.Severity = SeverityWarning
		if f.ID == "trust-stringlike-without-wildcard" || f.ID == "role-long-session" {
			f.Severity = SeverityInfo
		}
		out = append(out, f)
	}
	return out
}
