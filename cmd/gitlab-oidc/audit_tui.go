package main

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/ui"
)

// The audit's screens are used only when runAudit decided on the TUI (a
// terminal, no --no-tui, ACCESSIBLE or TERM=dumb, text format).
func init() { runAuditTUI = runAuditScreens }

// runAuditScreens shows progress, then the roles table with drill-down,
// and returns the report for --fail-on. After the alternate screen is gone
// it prints the one-line summary the plain mode prints, so the terminal
// keeps a trace of what was audited.
func runAuditScreens(ctx context.Context, cmd *cobra.Command, run auditRun) (diagnose.AuditReport, error) {
	m := ui.NewAudit(ui.AuditRun{Audit: run.Audit}, ui.AuditOptions{Simulated: auditSimulated(cmd)})
	prog := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(cmd.InOrStdin()), tea.WithOutput(cmd.OutOrStdout()))
	if _, err := prog.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		return diagnose.AuditReport{}, fmt.Errorf("terminal UI: %w (use --no-tui for plain output)", err)
	}
	if err := m.Err(); err != nil {
		return diagnose.AuditReport{}, err
	}
	if ctx.Err() != nil {
		return diagnose.AuditReport{}, ctx.Err()
	}
	rep := m.Report()
	printAuditSummary(newPrinter(cmd.ErrOrStderr(), noColor()), rep)
	return rep, nil
}

// auditSimulated reports whether --demo was given, so every frame says the
// account is simulated.
func auditSimulated(cmd *cobra.Command) bool {
	demo, err := cmd.Flags().GetBool("demo")
	return err == nil && demo
}
