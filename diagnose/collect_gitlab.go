package diagnose

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gitlab-oidc/internal/gitlabapi"
)

// jobVariables are the CI/CD variables whose settings matter to the
// exchange; only their metadata is read into the evidence.
var jobVariables = []string{"AWS_ROLE_ARN", "ROLE_ARN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"}

// readGitLab reads the project, then concurrently the job (and its
// pipeline), protected refs, variables and (when no log was given) the log.
func (c *collector) readGitLab(ctx context.Context) {
	gl := c.src.GitLab
	ref := c.ref
	project, err := gl.Project(ctx, ref.ProjectPath)
	if err != nil {
		c.note("GitLab project %s: %v", ref.ProjectPath, err)
		return
	}
	// Only the pipeline needs the job's answer; everything else needs just
	// the project (the job ID is in the URL), so it all starts at once.
	var wg sync.WaitGroup
	var job gitlabapi.Job
	var jobErr error
	var pipelineSource string
	wg.Go(func() {
		job, jobErr = gl.Job(ctx, project.ID, ref.JobID)
		if jobErr != nil || job.PipelineID == 0 {
			return
		}
		p, err := gl.Pipeline(ctx, project.ID, job.PipelineID)
		if err != nil {
			c.note("GitLab pipeline %d: %v", job.PipelineID, err)
			return
		}
		pipelineSource = p.Source
	})
	var branches, tags []gitlabapi.ProtectedRef
	var branchErr, tagErr error
	wg.Go(func() { branches, branchErr = gl.ProtectedBranches(ctx, project.ID) })
	wg.Go(func() { tags, tagErr = gl.ProtectedTags(ctx, project.ID) })
	names := c.variableNames()
	vars := make([]VariableFacts, len(names))
	for i, key := range names {
		wg.Go(func() { vars[i] = readVariable(ctx, gl, project, key) })
	}
	var trace string
	var traceErr error
	if c.opts.JobLog == nil {
		wg.Go(func() { trace, traceErr = gl.JobTrace(ctx, project.ID, ref.JobID, MaxLogBytes) })
	}
	wg.Wait()
	if jobErr != nil {
		c.note("GitLab job %d: %v", ref.JobID, jobErr)
		return
	}
	base := ref.BaseURL
	if base == "" {
		base = gl.BaseURL()
	}
	jf := &JobFacts{
		BaseURL: base, ProjectPath: project.PathWithNamespace, ProjectID: project.ID,
		NamespaceID: project.NamespaceID, JobID: job.ID, Name: job.Name, Ref: job.Ref, Tag: job.Tag,
		Status: job.Status, FailureReason: job.FailureReason, PipelineID: job.PipelineID,
		Environment: job.Environment, FinishedAt: job.FinishedAt,
		SubComponents: project.SubClaimComponents, PipelineSource: pipelineSource,
	}

	jf.Variables = vars
	for _, b := range branches {
		jf.ProtectedBranches = append(jf.ProtectedBranches, b.Name)
	}
	for _, t := range tags {
		jf.ProtectedTags = append(jf.ProtectedTags, t.Name)
	}
	if branchErr == nil && tagErr == nil {
		p := refIsProtected(job.Ref, job.Tag, jf.ProtectedBranches, jf.ProtectedTags)
		jf.RefProtected = &p
	} else {
		c.note("GitLab protected refs: %v", firstErr(branchErr, tagErr))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ev.Job = jf
	if traceErr != nil {
		c.ev.Notes = append(c.ev.Notes, MaskSecrets(fmt.Sprintf("GitLab job log: %v", traceErr)))
	} else if trace != "" {
		s := ScanText(trace)
		c.ev.Log = mergeScans(c.ev.Log, &s)
	}
}

// variableNames are the variables to read: the usual ones and the one the
// pipeline file passes as the role ARN.
func (c *collector) variableNames() []string {
	names := slices.Clone(jobVariables)
	if c.ci != nil {
		for _, j := range c.ci.Jobs {
			if n := roleVarName(j); !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// readVariable reads a variable's metadata at project level, then at each
// ancestor group's level, nearest first (instance variables need an
// administrator and are not read). The value is dropped at once.
func readVariable(ctx context.Context, gl gitlabapi.Client, p gitlabapi.Project, key string) VariableFacts {
	vf := VariableFacts{Key: key}
	targets := []gitlabapi.VariableTarget{{Kind: gitlabapi.TargetProject, ID: strconv.FormatInt(p.ID, 10)}}
	if p.NamespaceKind == "group" {
		for g := p.NamespacePath; g != ""; g, _, _ = cutLast(g, "/") {
			targets = append(targets, gitlabapi.VariableTarget{Kind: gitlabapi.TargetGroup, ID: g})
			if !strings.Contains(g, "/") {
				break
			}
		}
	}
	for _, t := range targets {
		v, err := gl.Variable(ctx, t, key, "")
		if err != nil {
			if vf.Err == "" {
				vf.Err = MaskSecrets(err.Error())
			}
			continue
		}
		if v == nil {
			continue
		}
		return VariableFacts{Key: key, Exists: true, Level: t.Kind, Protected: v.Protected, Masked: v.Masked, EnvironmentScope: v.EnvironmentScope, Target: t}
	}
	if vf.Err != "" && strings.Contains(vf.Err, "multiple variables") {
		vf.Exists = true
	}
	return vf
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
