package steps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"gitlab-oidc/internal/gitlabapi"
)

// Batch statuses of one project.
const (
	BatchCreated   = "created"   // something was created or changed
	BatchUnchanged = "unchanged" // everything already matched (a resumed run)
	BatchFailed    = "failed"
	BatchSkipped   = "skipped" // not attempted (cancelled)
)

// BatchOptions configures onboarding many projects with the same choices.
type BatchOptions struct {
	Projects []string
	// GroupRole makes one role for all projects, whose trust policy lists
	// each project's sub exactly, with a group-level variable.
	GroupRole bool
	// VariableGroup is the group that holds the variable for GroupRole.
	VariableGroup string
	// Concurrency bounds the projects worked on at once (default 4).
	Concurrency int
	// MaxRateLimitRetries bounds the retries of a project that GitLab
	// answered with 429 (default 5); each waits Retry-After.
	MaxRateLimitRetries int
	// Progress is called once per finished project, from any goroutine.
	Progress func(BatchResult)
}

// BatchResult is the outcome for one project.
type BatchResult struct {
	Project string        `json:"project"`
	RoleARN string        `json:"role_arn,omitempty"`
	Status  string        `json:"status"`
	Writes  int           `json:"writes"`
	Error   string        `json:"error,omitempty"`
	Took    time.Duration `json:"took_ns"`
}

// ReadProjectList reads one project path per line; blank lines and lines
// starting with # are skipped, duplicates are dropped.
func ReadProjectList(r io.Reader) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		p := strings.Trim(strings.TrimSpace(sc.Text()), "/")
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		if strings.ContainsAny(p, " \t") {
			return nil, fmt.Errorf("line %d: %q is not a project path (group/project)", line, p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("the project list is empty: one project path per line, e.g. acme/payments")
	}
	return out, nil
}

// GroupProjectPaths lists a group's projects (optionally with subgroups).
func (r *Runner) GroupProjectPaths(ctx context.Context, group string, subgroups bool) ([]string, error) {
	projects, err := r.Env.GitLab.GroupProjects(ctx, group, subgroups)
	if err != nil {
		return nil, fmt.Errorf("list projects of %s: %w", group, err)
	}
	var out []string
	for _, p := range projects {
		out = append(out, p.PathWithNamespace)
	}
	sort.Strings(out)
	return out, nil
}

// Batch onboards every project with the same choices. base is a connection
// made once (AWS identity, issuer). The provider is ensured once; then the
// projects are worked on with bounded concurrency, each with a constant
// number of calls. Every step is idempotent, so a re-run resumes: done
// projects report unchanged and make no write call. Files are not written
// (there is no checkout); the caller shows the snippet.
func (r *Runner) Batch(ctx context.Context, base *Connection, ch Choices, opts BatchOptions) ([]BatchResult, error) {
	if len(opts.Projects) == 0 {
		return nil, errors.New("no projects to set up")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.MaxRateLimitRetries <= 0 {
		opts.MaxRateLimitRetries = 5
	}
	noFiles := *r
	noFiles.Env.WorkDir = ""
	if opts.GroupRole {
		return noFiles.batchGroupRole(ctx, base, ch, opts)
	}
	// The provider is shared: ensure it once, before any role names it.
	first, err := noFiles.Plan(base, ch)
	if err != nil {
		return nil, err
	}
	for _, s := range noFiles.StepsAll([]Plan{first}, Decisions{}) {
		if s.ID != "provider" {
			continue
		}
		if _, err := s.Run(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Title, err)
		}
	}
	results := make([]BatchResult, len(opts.Projects))
	bounded(ctx, len(opts.Projects), opts.Concurrency, func(i int) {
		results[i] = noFiles.onboardOne(ctx, base, ch, opts.Projects[i], opts.MaxRateLimitRetries)
		if opts.Progress != nil {
			opts.Progress(results[i])
		}
	}, func(i int) {
		results[i] = BatchResult{Project: opts.Projects[i], Status: BatchSkipped, Error: ctx.Err().Error()}
	})
	return results, nil
}

// bounded runs work(i) for i in [0, n) with at most limit at once; an index
// not started when ctx ends gets skip(i) instead.
func bounded(ctx context.Context, n, limit int, work, skip func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			skip(i)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			work(i)
		}()
	}
	wg.Wait()
}

// onboardOne sets up one project, retrying the whole (idempotent) project
// when GitLab rate-limits it.
func (r *Runner) onboardOne(ctx context.Context, base *Connection, ch Choices, project string, maxRetries int) BatchResult {
	start := time.Now()
	res := BatchResult{Project: project}
	for attempt := 0; ; attempt++ {
		changes, roleARN, err := r.onboardAttempt(ctx, base, ch, project)
		res.RoleARN = roleARN
		for _, c := range changes {
			if c.Applied && c.IsWrite() {
				res.Writes++
			}
		}
		var glErr *gitlabapi.Error
		if err != nil && errors.As(err, &glErr) && glErr.Status == 429 && attempt < maxRetries {
			wait := glErr.RetryAfter
			if wait <= 0 {
				wait = time.Duration(attempt+1) * time.Second
			}
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(wait):
				continue
			}
		}
		res.Took = time.Since(start)
		switch {
		case err != nil:
			res.Status, res.Error = BatchFailed, err.Error()
		case res.Writes > 0:
			res.Status = BatchCreated
		default:
			res.Status = BatchUnchanged
		}
		return res
	}
}

func (r *Runner) onboardAttempt(ctx context.Context, base *Connection, ch Choices, project string) ([]Change, string, error) {
	proj, err := r.Env.GitLab.Project(ctx, project)
	if err != nil {
		return nil, "", fmt.Errorf("project %s: %w", project, err)
	}
	info, err := r.projectInfo(ctx, proj)
	if err != nil {
		return nil, "", err
	}
	conn := *base
	conn.Project = info
	if proj.AccessLevel < gitlabapi.Maintainer && base.GitLab.AccessLevel < gitlabapi.Owner {
		return nil, "", fmt.Errorf("you are %s of %s; setting its CI/CD variables needs Maintainer", proj.AccessLevel, project)
	}
	choice := ch
	choice.RoleName = "" // one role per project: derive each name
	if len(choice.Allow) == 0 && info.DefaultBranch != "" {
		choice.Allow = []Allow{{Kind: AllowBranch, Pattern: info.DefaultBranch}}
	}
	p, err := r.Plan(&conn, choice)
	if err != nil {
		return nil, "", err
	}
	// Skip the provider step: Batch ensured it once for everyone.
	rec, rep := r.recordingAndReplaying()
	changes, err := applySteps(ctx, withoutProvider(rec.plannedSteps([]Plan{p}, Decisions{}, false)), withoutProvider(rep.StepsAll([]Plan{p}, Decisions{})), nil)
	return changes, p.RoleARN(), err
}

func withoutProvider(steps []Step) []Step {
	var out []Step
	for _, s := range steps {
		if s.ID != "provider" {
			out = append(out, s)
		}
	}
	return out
}

// batchGroupRole makes one role for every project, listing each project's
// sub exactly (never group/*), and a group-level variable.
func (r *Runner) batchGroupRole(ctx context.Context, base *Connection, ch Choices, opts BatchOptions) ([]BatchResult, error) {
	infos := make([]ProjectInfo, len(opts.Projects))
	errs := make([]error, len(opts.Projects))
	bounded(ctx, len(opts.Projects), opts.Concurrency, func(i int) {
		proj, err := r.Env.GitLab.Project(ctx, opts.Projects[i])
		if err != nil {
			errs[i] = fmt.Errorf("project %s: %w", opts.Projects[i], err)
			return
		}
		infos[i], errs[i] = r.projectInfo(ctx, proj)
	}, func(i int) { errs[i] = ctx.Err() })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	conn := *base
	conn.Project = infos[0]
	choice := ch
	choice.VariableScope = "group"
	choice.Group = opts.VariableGroup
	if choice.Group == "" {
		choice.Group = parentPath(infos[0].Path)
	}
	if choice.RoleName == "" {
		choice.RoleName = DefaultRoleName(choice.Group, choice.Allow)
	}
	p, err := r.Plan(&conn, choice)
	if err != nil {
		return nil, err
	}
	p.MoreProjects = infos[1:]
	p.Tags["gitlab-project"] = choice.Group + " (" + fmt.Sprint(len(infos)) + " projects)"
	start := time.Now()
	changes, err := r.ApplyAll(ctx, []Plan{p}, Decisions{}, nil)
	writes := 0
	for _, c := range changes {
		if c.Applied && c.IsWrite() {
			writes++
		}
	}
	results := make([]BatchResult, len(infos))
	for i, info := range infos {
		res := BatchResult{Project: info.Path, RoleARN: p.RoleARN(), Writes: writes, Took: time.Since(start)}
		switch {
		case err != nil:
			res.Status, res.Error = BatchFailed, err.Error()
		case writes > 0:
			res.Status = BatchCreated
		default:
			res.Status = BatchUnchanged
		}
		results[i] = res
		if opts.Progress != nil {
			opts.Progress(res)
		}
	}
	return results, nil
}
