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

// The doctor's screens are used only when runDoctor decided on the TUI (a
// terminal, no --no-tui, ACCESSIBLE or TERM=dumb, text format).
func init() { runDoctorTUI = runDoctorScreens }

// runDoctorScreens shows Evidence, Diagnosis, Detail and Fix, and returns
// the findings for the exit code. Unusable inputs (Collect's error) exit 2
// like in plain mode; quitting while the evidence is collected is an abort.
func runDoctorScreens(ctx context.Context, cmd *cobra.Command, run doctorRun) ([]diagnose.Finding, error) {
	m := ui.NewDoctor(ui.DoctorRun{Collect: run.Collect, Diagnose: run.Diagnose, Hint: unexplained, Apply: run.Apply}, ui.DoctorOptions{Simulated: run.Simulated})
	prog := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(cmd.InOrStdin()), tea.WithOutput(cmd.OutOrStdout()))
	if _, err := prog.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("terminal UI: %w (use --no-tui for plain output)", err)
	}
	switch err := m.Err(); {
	case err == nil && m.Findings() == nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, context.Canceled):
		return nil, err
	case err != nil:
		return nil, usageError("%v", err)
	}
	return m.Findings(), nil
}
