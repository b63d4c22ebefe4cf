package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"gitlab-oidc/steps"
	"gitlab-oidc/ui"
)

func init() { runSetupTUI = runSetupWizard }

// runSetupWizard runs the guided screens, then prints what happened on the
// normal screen (the wizard uses the alternate screen) and picks the exit code.
func runSetupWizard(ctx context.Context, cmd *cobra.Command, r *steps.Runner, ch steps.Choices, f *setupFlags) error {
	m := ui.NewSetup(r, ui.SetupOptions{Simulated: r.Env.Simulated, InitialChoices: ch})
	handoutPath := f.handout
	if handoutPath == "" {
		handoutPath = filepath.Join(r.Env.WorkDir, "aws-oidc-handout.md")
	}
	m.WriteHandout = func() (string, error) {
		res := m.Result()
		if err := writeHandoutFile(handoutPath, res.Plan, res.Preview.Snippet, res.Changes); err != nil {
			return "", err
		}
		return handoutPath, nil
	}
	prog := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(cmd.InOrStdin()), tea.WithOutput(cmd.OutOrStdout()))
	if _, err := prog.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("terminal UI: %w (use --no-tui for plain output)", err)
	}
	res := m.Result()
	fmt.Fprint(cmd.ErrOrStderr(), res.Summary())
	if code := res.ExitCode(); code != exitOK {
		return &exitError{code: code, err: res.Err}
	}
	return nil
}
