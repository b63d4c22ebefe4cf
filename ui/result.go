package ui

import (
	"fmt"
	"strings"
	"time"

	"gitlab-oidc/steps"
)

// Outcome is how the wizard ended.
type Outcome string

// Outcomes of a setup run. The zero value means the wizard was left before
// anything happened (it is reported like an abort).
const (
	OutcomeCompleted Outcome = "completed"
	OutcomeFailed    Outcome = "failed"
	OutcomeAborted   Outcome = "aborted"
)

// StepStatus is what happened to one apply step.
type StepStatus string

// Step statuses, as the Apply screen and the summary show them.
const (
	StepPending   StepStatus = "not run"
	StepRunning   StepStatus = "running"
	StepDone      StepStatus = "done"
	StepFailed    StepStatus = "failed"
	StepCancelled StepStatus = "cancelled"
)

// StepOutcome is one apply step's result.
type StepOutcome struct {
	ID      string
	Title   string
	Status  StepStatus
	Elapsed time.Duration
	Err     error
	Changes []steps.Change
}

// SetupResult is what the wizard did, for the command to report after the
// terminal is restored (the alternate screen is gone by then).
type SetupResult struct {
	Outcome Outcome
	// Steps are the apply steps with their status; empty when the wizard
	// ended before Apply.
	Steps []StepOutcome
	// Changes are the changes the steps reported, in order.
	Changes []steps.Change
	Plan    steps.Plan
	Preview steps.Preview
	// Err is the first step error when Outcome is OutcomeFailed.
	Err error
}

// ExitCode maps the outcome to the documented exit codes: 0 ok, 1 failure,
// 130 aborted.
func (r SetupResult) ExitCode() int {
	switch r.Outcome {
	case OutcomeCompleted:
		return 0
	case OutcomeFailed:
		return 1
	default:
		return 130
	}
}

// Summary says in plain text what exists now, so a person who pressed
// ctrl+c (or hit an error) knows exactly which steps ran.
func (r SetupResult) Summary() string {
	var b strings.Builder
	switch r.Outcome {
	case OutcomeCompleted:
		fmt.Fprintf(&b, "Setup completed: role %s\n", r.Plan.RoleARN())
		fmt.Fprintf(&b, "Check the first run: push to an allowed ref and open the aws-oidc-check job.\n")
		fmt.Fprintf(&b, "If it fails: gitlab-oidc doctor --role-arn %s --job <job URL>\n", r.Plan.RoleARN())
	case OutcomeFailed:
		fmt.Fprintf(&b, "Setup failed: %v\n", r.Err)
	default:
		if len(r.Steps) == 0 {
			return "Setup aborted before anything was changed in AWS or GitLab.\n"
		}
		b.WriteString("Setup was interrupted.\n")
	}
	if len(r.Steps) == 0 {
		return b.String()
	}
	b.WriteString("AWS and GitLab are in this state:\n")
	w := 0
	for _, s := range r.Steps {
		w = max(w, len([]rune(s.Title)))
	}
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "  %s %-*s  %s\n", statusMark(s.Status), w, s.Title, stepStatusText(s))
	}
	if r.Outcome != OutcomeCompleted {
		b.WriteString("Run setup again to finish: every step checks what exists and changes only the difference.\n")
	}
	return b.String()
}

// statusMark is the plain symbol of a step status.
func statusMark(s StepStatus) string {
	switch s {
	case StepDone:
		return "✓"
	case StepFailed, StepCancelled:
		return "✗"
	case StepRunning:
		return "…"
	default:
		return "·"
	}
}

// stepStatusText says what a step's status means for the resources it
// touches.
func stepStatusText(s StepOutcome) string {
	switch s.Status {
	case StepDone:
		return "done (" + formatElapsed(s.Elapsed) + ")"
	case StepFailed:
		return "failed: " + errText(s.Err)
	case StepCancelled:
		return "cancelled while running: the call may or may not have taken effect"
	case StepRunning:
		return "still running when the wizard quit: it may or may not have taken effect"
	default:
		return "not run"
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// formatElapsed renders a step time the way the checklist shows it.
func formatElapsed(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}
