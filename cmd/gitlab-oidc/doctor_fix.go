package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/steps"
)

// usedSources remembers the clients Collect used, so that a fix is applied
// to the same account and GitLab that the diagnosis read (in --demo, the
// simulated ones).
type usedSources struct {
	mu  sync.Mutex
	src diagnose.Sources
}

func (u *usedSources) set(src diagnose.Sources) diagnose.Sources {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.src = src
	return src
}

// apply previews (write false) or applies a patch with those clients.
func (u *usedSources) apply(ctx context.Context, p *diagnose.Patch, write bool) ([]steps.Change, error) {
	u.mu.Lock()
	src := u.src
	u.mu.Unlock()
	return steps.ApplyPatch(ctx, src.IAM, src.GitLab, p, write)
}

// firstPatched is the first error finding whose fix can be applied.
func firstPatched(fs []diagnose.Finding) *diagnose.Finding {
	for i := range fs {
		if fs[i].Severity == diagnose.SeverityError && fs[i].Patch != nil {
			return &fs[i]
		}
	}
	return nil
}

// applyFirstFix is --apply-fix: it shows the first applicable fix's
// difference, applies it once confirmed (--yes, or y on a terminal), says
// what changed and judges the evidence again as it stands after the fix.
// It returns the findings that decide the exit code: those after the fix
// once applied, else the ones given. With --format json the report on
// stdout stays JSON and all of this goes to stderr.
func (f *doctorFlags) applyFirstFix(ctx context.Context, cmd *cobra.Command, ev *diagnose.Evidence, fs []diagnose.Finding, used *usedSources) ([]diagnose.Finding, error) {
	w := cmd.OutOrStdout()
	if f.format == "json" {
		w = cmd.ErrOrStderr()
	}
	fd := firstPatched(fs)
	if fd == nil {
		if diagnose.HasError(fs) {
			fmt.Fprintln(cmd.ErrOrStderr(), "note: --apply-fix: no error here has a fix doctor can apply (it applies trust-policy fixes to a role read from IAM with --role-arn, and role ARN variable settings read with --job); apply the fix shown by hand")
		}
		return fs, nil
	}
	p := fd.Patch
	preview, err := used.apply(ctx, p, false)
	if err != nil {
		return fs, notApplied(w, fd, err)
	}
	fmt.Fprintf(w, "\nFix for %s: %s\n", fd.ID, p.Summary)
	writeChanges(w, preview)
	if !steps.HasWrites(preview) {
		fmt.Fprintln(w, "Nothing to change: it is already fixed (no write made).")
		return recheck(w, ev, fd, p), nil
	}
	if !f.yes && !confirm(cmd.InOrStdin(), cmd.ErrOrStderr(), "Apply this change?") {
		return fs, usageError("the fix above was not applied: pass --yes to apply it (or answer y in a terminal)")
	}
	changes, err := used.apply(ctx, p, true)
	if err != nil {
		return fs, notApplied(w, fd, err)
	}
	for _, c := range changes {
		if c.Applied {
			fmt.Fprintf(w, "✓ %sd %s %s\n", c.Action, c.Resource, c.Name)
		}
	}
	return recheck(w, ev, fd, p), nil
}

// notApplied explains why a fix was not applied. A role that changed
// since doctor read it is shown as the difference between the two.
func notApplied(w io.Writer, fd *diagnose.Finding, err error) error {
	var conflict *steps.ConflictError
	if !errors.As(err, &conflict) {
		return fmt.Errorf("fix for %s not applied: %w", fd.ID, err)
	}
	if conflict.Diff != "" {
		fmt.Fprintf(w, "\n%s %s as doctor read it → as it is now:\n", conflict.Resource, conflict.Name)
		writeChanges(w, []steps.Change{{Diff: conflict.Diff}})
	}
	return fmt.Errorf("fix for %s not applied: %s %s: %s", fd.ID, conflict.Resource, conflict.Name, conflict.Hint)
}

// writeChanges prints each change with its difference, indented.
func writeChanges(w io.Writer, changes []steps.Change) {
	for _, c := range changes {
		if c.Action != "" {
			fmt.Fprintf(w, "  %s %s %s", c.Action, c.Resource, c.Name)
			if c.Detail != "" {
				fmt.Fprintf(w, ": %s", c.Detail)
			}
			fmt.Fprintln(w)
		}
		if c.Diff != "" {
			for _, l := range strings.Split(strings.TrimRight(c.Diff, "\n"), "\n") {
				fmt.Fprintln(w, "    "+l)
			}
		}
	}
}

// recheck judges the evidence as it stands once p is applied and says
// whether the finding is gone and what is left.
func recheck(w io.Writer, ev *diagnose.Evidence, fd *diagnose.Finding, p *diagnose.Patch) []diagnose.Finding {
	after := diagnose.Diagnose(diagnose.AfterPatch(ev, p))
	gone := true
	var left []string
	for _, a := range after {
		if a.ID == fd.ID {
			gone = false
		}
		if a.Severity == diagnose.SeverityError {
			left = append(left, a.ID)
		}
	}
	if gone {
		fmt.Fprintf(w, "✓ Judged again with the fix: %s is gone.\n", fd.ID)
	} else {
		fmt.Fprintf(w, "✗ Judged again with the fix: %s is still there; see the report above.\n", fd.ID)
	}
	if len(left) > 0 {
		fmt.Fprintf(w, "  Still to fix: %s\n", strings.Join(left, ", "))
	} else {
		fmt.Fprintln(w, "  No error is left: run the job again.")
	}
	return after
}
