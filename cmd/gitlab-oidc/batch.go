package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"gitlab-oidc/steps"
)

// runBatch onboards many projects with the same choices (--projects FILE or
// --group PATH): a progress bar on stderr, then a table of what was created,
// left unchanged and what failed. A re-run resumes.
func runBatch(ctx context.Context, r *steps.Runner, conn *steps.Connection, ch steps.Choices, f *setupFlags, stdout io.Writer, p *printer) error {
	// preflight has read the --projects file.
	projects := f.listed
	var err error
	if f.projectsFile == "" {
		projects, err = r.GroupProjectPaths(ctx, f.batchGroup, f.subgroups)
		if err != nil {
			return err
		}
		if len(projects) == 0 {
			return fmt.Errorf("group %s has no projects you can see", f.batchGroup)
		}
	}
	if ch.RoleName != "" && !f.groupRole {
		return usageError("--role-name names one role; with several projects each gets its own name (or pass --group-role)")
	}
	if f.groupRole {
		p.warn(fmt.Sprintf("one role for %s: its trust policy lists each project's sub exactly; any of them can use it", plural(len(projects), "project")))
	}
	if f.dryRun || !f.yes {
		p.line(fmt.Sprintf("Would set up %s: %s", plural(len(projects), "project"), strings.Join(firstN(projects, 10), ", ")))
		if !f.yes {
			return usageError("onboarding %s writes to AWS and GitLab; pass --yes to go ahead", plural(len(projects), "project"))
		}
		return nil
	}
	bar := newProgressBar(p, len(projects))
	start := time.Now()
	results, err := r.Batch(ctx, conn, ch, steps.BatchOptions{
		Projects: projects, GroupRole: f.groupRole, VariableGroup: f.group,
		Concurrency: f.concurrency, Progress: bar.done,
	})
	bar.finish()
	if err != nil {
		return err
	}
	failed := 0
	for _, res := range results {
		if res.Status == steps.BatchFailed || res.Status == steps.BatchSkipped {
			failed++
		}
	}
	if f.conn.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"projects": results, "failed": failed, "took_ns": time.Since(start)}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "PROJECT\tSTATUS\tWRITES\tROLE\tERROR")
		for _, res := range results {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", res.Project, res.Status, res.Writes, res.RoleARN, res.Error)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "\n%s in %s: %d failed. The snippet for their pipelines: gitlab-oidc setup --print-snippet --project <path>\n",
			plural(len(results), "project"), time.Since(start).Round(time.Millisecond), failed)
	}
	if failed > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d of %d projects failed; run the same command again to retry them (done ones are skipped)", failed, len(results))}
	}
	return nil
}

func firstN(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(append([]string(nil), list[:n]...), fmt.Sprintf("… %d more", len(list)-n))
}

// progressBar draws "[####......] 12/50" on stderr as projects finish.
type progressBar struct {
	mu    sync.Mutex
	p     *printer
	total int
	n     int
}

func newProgressBar(p *printer, total int) *progressBar {
	b := &progressBar{p: p, total: total}
	b.draw()
	return b
}

func (b *progressBar) done(res steps.BatchResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	if res.Status == steps.BatchFailed {
		fmt.Fprintf(b.p.w, "\r\x1b[K")
		b.p.fail(res.Project + ": " + res.Error)
	}
	b.draw()
}

func (b *progressBar) draw() {
	const width = 30
	filled := width * b.n / max(b.total, 1)
	fmt.Fprintf(b.p.w, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), b.n, b.total)
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintln(b.p.w)
}
