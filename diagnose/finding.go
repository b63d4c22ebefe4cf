// Package diagnose collects evidence about a failing GitLab-to-AWS OIDC
// exchange (token, trust policy, provider, issuer probes, job, pipeline file)
// and audits trust policies, returning ordered findings whose IDs come from
// docs/causes.md. It does no rendering.
package diagnose

import "gitlab-oidc/internal/fix"

// Severity of a finding. Doctor uses error/warning/info; audit uses
// critical/high/medium/low/info.
type Severity string

// Severities, from worst to mildest within each scale.
const (
	SeverityError    Severity = "error"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Finding is one cause, with the evidence that proves it and the fix.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Evidence []string `json:"evidence"`
	Fix      string   `json:"fix"`
	// Detail carries the side-by-side comparison for the Detail screen when
	// the finding is about a condition; nil otherwise.
	Detail *ConditionDetail `json:"detail,omitempty"`
	// Patch is the fix as a change that can be applied (a corrected trust
	// policy read from IAM, or a variable's settings); nil when the fix can
	// only be described. It is not part of the JSON report.
	Patch *Patch `json:"-"`
}

// Patch is a fix that can be applied (see internal/fix, shared with the
// steps package that applies it).
type Patch = fix.Patch

// VariablePatch is the variable part of a Patch.
type VariablePatch = fix.VariablePatch

// ConditionDetail shows the deciding condition beside the token's claim.
type ConditionDetail struct {
	Statement   string   `json:"statement"` // Sid or "statement #N"
	Operator    string   `json:"operator"`
	Key         string   `json:"key"`
	PolicyValue []string `json:"policy_values"`
	TokenValue  string   `json:"token_value"`
	// DiffAt is the byte offset of the first difference between TokenValue and
	// the closest policy value, -1 when not applicable.
	DiffAt int    `json:"diff_at"`
	Why    string `json:"why"`
}
