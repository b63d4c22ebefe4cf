// Package steps holds the setup use cases without any UI: building the plan,
// and the idempotent steps that ensure the IAM OIDC provider, the role, the
// CI/CD variable and the pipeline snippet. Each step reads the current state,
// computes the difference and (only when asked to apply) writes just that.
package steps

import "fmt"

// Action is what a step does (or would do) to one resource.
type Action string

// Actions a change can carry. Keep means the resource already matches.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionAttach Action = "attach"
	ActionWrite  Action = "write"
	ActionEdit   Action = "edit"
	ActionKeep   Action = "keep"
)

// Change is one resource a step created, changed or left alone.
type Change struct {
	Action   Action `json:"action"`
	Resource string `json:"resource"` // "IAM OIDC provider", "IAM role", "CI/CD variable", "file", ...
	Name     string `json:"name"`     // ARN, variable key, file path
	Detail   string `json:"detail,omitempty"`
	// Diff is a unified diff (or JSON diff) shown before an update; empty for creates.
	Diff string `json:"diff,omitempty"`
	// Applied is true once the write happened (false in a preview or dry run).
	Applied bool `json:"applied"`
}

// IsWrite reports whether the change writes anything.
func (c Change) IsWrite() bool { return c.Action != ActionKeep }

// ConflictError says an existing resource differs from what setup wants and
// setup will not touch it without the user's explicit permission.
type ConflictError struct {
	Resource string
	Name     string
	Diff     string
	// Hint names the flag or key that gives permission.
	Hint string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s already exists and differs from the plan; %s", e.Resource, e.Name, e.Hint)
}

// Decisions are the user's answers to questions setup asks before changing
// something that already exists.
type Decisions struct {
	// AddTrustStatement allows appending our statement to an existing role's
	// different trust policy (the rest is left intact).
	AddTrustStatement bool
	// AddClientID allows adding the audience to an existing provider.
	AddClientID bool
	// ReplaceVariable allows replacing an existing variable's value/settings.
	ReplaceVariable bool
	// OverwriteFiles allows writing a snippet file that exists with other content.
	OverwriteFiles bool
}

// InlinePolicy is a named inline permissions policy document (JSON).
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}
