// Package ui holds the bubbletea models of gitlab-oidc's terminal screens:
// the setup wizard (Connect, Access, Permissions, Review, Apply, Done), the
// doctor (Evidence, Diagnosis, Detail, Fix), the audit (progress, roles,
// one role) and the frame they share. It makes no AWS or GitLab calls of its
// own; everything it learns or changes goes through the SetupBackend
// interface or the DoctorRun and AuditRun functions, so the screens can be
// tested with fakes and the same steps serve the plain (no TTY) mode.
package ui

import (
	"context"

	"gitlab-oidc/steps"
)

// SetupBackend is what the setup wizard needs from the steps layer. The wizard
// calls Connect and Preview inside tea.Cmds (they do I/O and honour ctx), Plan
// and Templates synchronously (they are pure), and runs the returned Steps one
// after another on the Apply screen.
type SetupBackend interface {
	// Connect finds the AWS and GitLab identities, the project, the issuer and
	// what already exists, before the user is asked anything.
	Connect(ctx context.Context) (*steps.Connection, error)
	// Plan resolves the user's choices against the connection.
	Plan(conn *steps.Connection, ch steps.Choices) (steps.Plan, error)
	// Preview computes every change with reads only, including conflicts
	// that need a decision before apply.
	Preview(ctx context.Context, plan steps.Plan, d steps.Decisions) (steps.Preview, error)
	// Steps returns the apply steps in the order they must run.
	Steps(plan steps.Plan, d steps.Decisions) []steps.Step
	// Templates lists the permissions templates the Permissions screen offers.
	Templates() []steps.TemplateInfo
}
