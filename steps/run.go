package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token"
)

// Env is what a setup run talks to. Every client is behind an interface so
// the same steps run against AWS and GitLab, moto and the fake GitLab, or the
// in-process simulation of --demo.
type Env struct {
	IAM    awsapi.IAM
	STS    awsapi.STS
	GitLab gitlabapi.Client
	// GitLabTokenSource says where the GitLab token came from, for display.
	GitLabTokenSource string
	Region, Profile   string
	// Project is a numeric ID or full path; ProjectSource says where it came
	// from ("--project", "git remote origin").
	Project, ProjectSource string
	// IssuerURL overrides the issuer found through discovery.
	IssuerURL string
	// Probe is the issuer probe; nil skips probing (issuer = GitLab URL).
	Probe IssuerProbe
	// WorkDir is the project checkout the snippet is written to.
	WorkDir   string
	Simulated bool
	// RoleName and VariableKey name what Connect looks for as "already there".
	RoleName, VariableKey string
	// VariableScope ("project" or "group") and VariableGroup say which role
	// Connect checks the user has (Maintainer, or Owner of the group).
	VariableScope, VariableGroup string
}

// Runner implements the setup use cases over an Env.
type Runner struct {
	Env Env
}

// Connect finds out who the user is on both sides, the project, the issuer
// and what already exists, with reads only. AWS, GitLab and the issuer are
// asked concurrently.
func (r *Runner) Connect(ctx context.Context) (*Connection, error) {
	conn := &Connection{Simulated: r.Env.Simulated, ProjectSource: r.Env.ProjectSource}
	var wg sync.WaitGroup
	var awsErr, glErr error
	var issuer IssuerStatus
	var providerARN string
	var clientIDs []string
	// Three independent chains: AWS identity; GitLab project, then the role
	// and variable that may exist; the issuer, then its provider in IAM.
	wg.Go(func() { awsErr = r.connectAWS(ctx, conn) })
	wg.Go(func() {
		if glErr = r.connectGitLab(ctx, conn); glErr == nil {
			r.findRoleAndVariable(ctx, conn)
		}
	})
	wg.Go(func() {
		issuer = r.probeIssuer(ctx)
		inst := Instance{IssuerURL: issuer.URL}
		if arn, ids, err := existingProvider(ctx, r.Env.IAM, inst.KeyPrefix()); err == nil {
			providerARN, clientIDs = arn, ids
		}
	})
	wg.Wait()
	if err := errors.Join(awsErr, glErr); err != nil {
		return nil, err
	}
	conn.Issuer = issuer
	conn.Existing.ProviderARN, conn.Existing.ProviderClientIDs = providerARN, clientIDs
	return conn, nil
}

func (r *Runner) connectAWS(ctx context.Context, conn *Connection) error {
	out, err := r.Env.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return awsapi.Explain(err, "read the AWS caller identity")
	}
	conn.AWS = AWSIdentity{
		Account:   aws.ToString(out.Account),
		ARN:       aws.ToString(out.Arn),
		Partition: arnPartition(aws.ToString(out.Arn)),
		Region:    r.Env.Region,
		Profile:   r.Env.Profile,
	}
	return nil
}

// arnPartition is the partition field of an ARN (aws, aws-cn, aws-us-gov).
func arnPartition(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) >= 2 && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}

func (r *Runner) connectGitLab(ctx context.Context, conn *Connection) error {
	gl := r.Env.GitLab
	if r.Env.Project == "" {
		return errors.New("no GitLab project: pass --project group/name, or run inside a checkout whose origin remote is on GitLab")
	}
	var user gitlabapi.User
	var proj gitlabapi.Project
	var userErr, projErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); user, userErr = gl.CurrentUser(ctx) }()
	go func() { defer wg.Done(); proj, projErr = gl.Project(ctx, r.Env.Project) }()
	wg.Wait()
	if userErr != nil {
		return fmt.Errorf("GitLab %s: %w", gl.BaseURL(), userErr)
	}
	if projErr != nil {
		return fmt.Errorf("GitLab project %s: %w", r.Env.Project, projErr)
	}
	info, err := r.projectInfo(ctx, proj)
	if err != nil {
		return err
	}
	conn.GitLab = GitLabIdentity{URL: gl.BaseURL(), Username: user.Username, AccessLevel: proj.AccessLevel, TokenSource: r.Env.GitLabTokenSource}
	conn.Project = info
	for _, p := range accessProblems(ctx, gl, user, proj, r.Env.VariableScope, r.Env.VariableGroup) {
		if p.Blocking {
			conn.Problems = append(conn.Problems, p.String())
		}
	}
	return nil
}

// projectInfo reads the project's protected branches and tags concurrently.
func (r *Runner) projectInfo(ctx context.Context, proj gitlabapi.Project) (ProjectInfo, error) {
	var branches, tags []gitlabapi.ProtectedRef
	var bErr, tErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); branches, bErr = r.Env.GitLab.ProtectedBranches(ctx, proj.ID) }()
	go func() { defer wg.Done(); tags, tErr = r.Env.GitLab.ProtectedTags(ctx, proj.ID) }()
	wg.Wait()
	if err := errors.Join(bErr, tErr); err != nil {
		return ProjectInfo{}, fmt.Errorf("read protected refs of %s: %w", proj.PathWithNamespace, err)
	}
	info := ProjectInfo{
		ID:                proj.ID,
		Path:              proj.PathWithNamespace,
		DefaultBranch:     proj.DefaultBranch,
		SubComponents:     proj.SubClaimComponents,
		ProtectedBranches: refNames(branches),
		ProtectedTags:     refNames(tags),
	}
	if len(info.SubComponents) == 0 {
		info.SubComponents = token.DefaultSubComponents
	}
	return info, nil
}

func refNames(refs []gitlabapi.ProtectedRef) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

// probeIssuer decides the issuer URL: --issuer-url, else the instance's
// discovery document, else the GitLab URL itself.
func (r *Runner) probeIssuer(ctx context.Context) IssuerStatus {
	base := strings.TrimSuffix(r.Env.GitLab.BaseURL(), "/")
	base = strings.TrimSuffix(base, "/api/v4")
	target, source := base, "GitLab URL"
	if r.Env.IssuerURL != "" {
		target, source = strings.TrimSuffix(r.Env.IssuerURL, "/"), "--issuer-url"
	}
	if r.Env.Probe == nil {
		return IssuerStatus{URL: target, Source: source, OK: true, PubliclyTrusted: true, Warning: "issuer not probed"}
	}
	st := r.Env.Probe(ctx, target)
	if st.URL == "" {
		st.URL = target
	}
	if st.Source == "" {
		st.Source = source
	}
	return st
}

// findRoleAndVariable looks up the default role and the variable. Errors
// here are not fatal: the review computes the exact changes later.
func (r *Runner) findRoleAndVariable(ctx context.Context, conn *Connection) {
	var wg sync.WaitGroup
	wg.Go(func() {
		name := r.Env.RoleName
		if name == "" {
			branch := conn.Project.DefaultBranch
			if branch == "" {
				branch = "main"
			}
			name = DefaultRoleName(conn.Project.Path, []Allow{{Kind: AllowBranch, Pattern: branch}})
		}
		out, err := r.Env.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err == nil && out.Role != nil {
			conn.Existing.RoleARN = aws.ToString(out.Role.Arn)
		}
	})
	wg.Go(func() {
		key := r.Env.VariableKey
		if key == "" {
			key = "AWS_ROLE_ARN"
		}
		target := gitlabapi.VariableTarget{Kind: "project", ID: strconv.FormatInt(conn.Project.ID, 10)}
		v, err := r.Env.GitLab.Variable(ctx, target, key, "*")
		if err == nil && v != nil {
			meta := *v
			conn.Existing.Variable = &meta
		}
	})
	wg.Wait()
}

// existingProvider returns the ARN and client IDs of the provider for the issuer.
func existingProvider(ctx context.Context, c awsapi.IAM, keyPrefix string) (string, []string, error) {
	list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return "", nil, err
	}
	for _, p := range list.OpenIDConnectProviderList {
		arn := aws.ToString(p.Arn)
		if !strings.HasSuffix(arn, ":oidc-provider/"+keyPrefix) {
			continue
		}
		out, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: p.Arn})
		if err != nil {
			return arn, nil, err
		}
		return arn, out.ClientIDList, nil
	}
	return "", nil, nil
}

// Plan resolves the user's choices into a plan, rendering permission templates.
func (r *Runner) Plan(conn *Connection, ch Choices) (Plan, error) {
	p, err := NewPlan(conn, ch)
	if err != nil {
		return Plan{}, err
	}
	for _, t := range ch.Templates {
		inline, err := RenderTemplate(t.ID, t.Params, conn.AWS.Account, conn.AWS.Region)
		if err != nil {
			return Plan{}, err
		}
		p.InlinePolicies = append(p.InlinePolicies, inline)
	}
	if conn.Issuer.Thumbprint != "" && !conn.Issuer.PubliclyTrusted {
		p.Thumbprints = []string{conn.Issuer.Thumbprint}
	}
	return p, nil
}

// Templates lists the permissions templates.
func (r *Runner) Templates() []TemplateInfo {
	return TemplateInfos()
}

// specs derives each step's input from the plan.
func (r *Runner) specs(p Plan) (ProviderSpec, RoleSpec, VariableSpec, SnippetSpec, error) {
	trust, err := p.TrustPolicy()
	if err != nil {
		return ProviderSpec{}, RoleSpec{}, VariableSpec{}, SnippetSpec{}, err
	}
	prov := ProviderSpec{
		URL:         p.Instance.IssuerURL,
		ClientIDs:   []string{p.Audience},
		Thumbprints: p.Thumbprints,
		Tags:        map[string]string{"managed-by": "gitlab-oidc"},
	}
	role := RoleSpec{
		Name:              p.RoleName,
		TrustPolicy:       trust,
		MaxSessionSeconds: p.MaxSessionSeconds,
		PolicyARNs:        p.PolicyARNs,
		InlinePolicies:    p.InlinePolicies,
		Tags:              p.Tags,
		Description:       "GitLab CI OIDC role for " + p.Project.Path + " (managed by gitlab-oidc)",
	}
	target := gitlabapi.VariableTarget{Kind: "project", ID: strconv.FormatInt(p.Project.ID, 10)}
	if p.Variable.Scope == "group" {
		target = gitlabapi.VariableTarget{Kind: "group", ID: p.Variable.Group}
	}
	variable := VariableSpec{
		Target:           target,
		Key:              p.Variable.Key,
		Value:            p.RoleARN(),
		Protected:        p.Variable.Protected,
		EnvironmentScope: p.Variable.EnvironmentScope,
		Description:      "IAM role assumed with GitLab OIDC (managed by gitlab-oidc)",
	}
	snippet := p.SnippetSpec()
	return prov, role, variable, snippet, nil
}

// SnippetSpec is the snippet the plan asks for.
func (p Plan) SnippetSpec() SnippetSpec {
	duration := int32(3600)
	if p.MaxSessionSeconds < duration {
		duration = p.MaxSessionSeconds
	}
	spec := SnippetSpec{
		Style:           p.SnippetStyle,
		Audience:        p.Audience,
		Region:          p.Region,
		DurationSeconds: duration,
		RoleARNVariable: p.Variable.Key,
		ExampleJob:      true,
	}
	for _, a := range p.Allow {
		spec.Rules = append(spec.Rules, RefRule(a))
	}
	return spec
}

// Preview computes every change with reads only.
func (r *Runner) Preview(ctx context.Context, p Plan, d Decisions) (Preview, error) {
	return r.PreviewAll(ctx, []Plan{p}, d)
}

// PreviewAll previews several plans that share one provider and one snippet
// file: the roles of several environments of a project.
func (r *Runner) PreviewAll(ctx context.Context, plans []Plan, d Decisions) (Preview, error) {
	var pv Preview
	collect := func(changes []Change, err error) error {
		pv.Changes = append(pv.Changes, changes...)
		var conflict *ConflictError
		if errors.As(err, &conflict) {
			pv.Conflicts = append(pv.Conflicts, conflict)
			return nil
		}
		return err
	}
	for _, res := range runConcurrently(ctx, r.plannedSteps(plans, d, false)) {
		if err := collect(res.changes, res.err); err != nil {
			return Preview{}, err
		}
	}
	var trusts []string
	for _, p := range plans {
		doc, err := p.TrustPolicy()
		if err != nil {
			return Preview{}, err
		}
		b, err := policy.Marshal(doc)
		if err != nil {
			return Preview{}, err
		}
		if len(plans) > 1 {
			trusts = append(trusts, "// "+p.RoleName)
		}
		trusts = append(trusts, string(b))
	}
	pv.TrustPolicy = strings.Join(trusts, "\n")
	snippet, err := RenderSnippet(CombinedSnippetSpec(plans))
	if err != nil {
		return Preview{}, err
	}
	pv.Snippet = snippet
	for _, c := range pv.Changes {
		if c.Resource == "file" && c.Diff != "" {
			pv.FileDiffs = append(pv.FileDiffs, FileDiff{Path: c.Name, Diff: c.Diff})
		}
	}
	return pv, nil
}

func subComponentsChange(p Plan, applied bool) Change {
	return Change{
		Action:   ActionUpdate,
		Resource: "GitLab project setting",
		Name:     p.Project.Path + " ci_id_token_sub_claim_components",
		Detail:   strings.Join(p.Project.SubComponents, ",") + " -> " + strings.Join(p.NewSubComponents, ","),
		Applied:  applied,
	}
}

func sameStrings(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

// Steps returns the apply steps in order. Each step is idempotent, so a run
// interrupted anywhere completes on the next run without duplicating anything.
func (r *Runner) Steps(p Plan, d Decisions) []Step {
	return r.plannedSteps([]Plan{p}, d, true)
}

// StepsAll is Steps for several plans sharing a provider and a snippet.
func (r *Runner) StepsAll(plans []Plan, d Decisions) []Step {
	return r.plannedSteps(plans, d, true)
}

// plannedSteps builds the steps; with apply false they only read and report
// what they would change (the preview runs exactly the code that applies).
func (r *Runner) plannedSteps(plans []Plan, d Decisions, apply bool) []Step {
	if len(plans) == 0 {
		return nil
	}
	type specSet struct {
		role     RoleSpec
		variable VariableSpec
	}
	var sets []specSet
	prov := ProviderSpec{}
	for _, p := range plans {
		pv, role, variable, _, err := r.specs(p)
		if err != nil {
			return []Step{{ID: "plan", Title: "Check the plan", Run: func(context.Context) ([]Change, error) { return nil, err }}}
		}
		if prov.URL == "" {
			prov = pv
		} else {
			prov.ClientIDs = appendMissing(prov.ClientIDs, pv.ClientIDs...)
		}
		sets = append(sets, specSet{role, variable})
	}
	first := plans[0]
	steps := []Step{{ID: "provider", Title: "IAM OIDC provider " + first.Instance.KeyPrefix(), Run: func(ctx context.Context) ([]Change, error) {
		_, ch, err := EnsureProvider(ctx, r.Env.IAM, prov, d, apply)
		return ch, err
	}}}
	if len(first.NewSubComponents) > 0 && !sameStrings(first.NewSubComponents, first.Project.SubComponents) {
		// Before the roles: the new shape must be in place when they are used.
		steps = append(steps, Step{ID: "sub-components", Title: "Sub claim components of " + first.Project.Path, Run: func(ctx context.Context) ([]Change, error) {
			if !apply {
				return []Change{subComponentsChange(first, false)}, nil
			}
			if err := r.Env.GitLab.SetSubClaimComponents(ctx, first.Project.ID, first.NewSubComponents); err != nil {
				return nil, fmt.Errorf("set ci_id_token_sub_claim_components: %w", err)
			}
			return []Change{subComponentsChange(first, true)}, nil
		}})
	}
	for _, set := range sets {
		set := set
		steps = append(steps, Step{ID: "role", Title: "IAM role " + set.role.Name, Run: func(ctx context.Context) ([]Change, error) {
			_, ch, err := EnsureRole(ctx, r.Env.IAM, set.role, d, apply)
			return ch, err
		}})
	}
	for _, set := range sets {
		set := set
		title := "CI/CD variable " + set.variable.Key
		if set.variable.EnvironmentScope != "" && set.variable.EnvironmentScope != "*" {
			title += " (" + set.variable.EnvironmentScope + ")"
		}
		steps = append(steps, Step{ID: "variable", Title: title, Run: func(ctx context.Context) ([]Change, error) {
			_, ch, err := EnsureVariable(ctx, r.Env.GitLab, set.variable, d, apply)
			return ch, err
		}})
	}
	if r.Env.WorkDir != "" {
		steps = append(steps, Step{ID: "files", Title: "Pipeline snippet " + first.SnippetPath, Run: func(ctx context.Context) ([]Change, error) {
			snippet, err := RenderSnippet(CombinedSnippetSpec(plans))
			if err != nil {
				return nil, err
			}
			edits, err := PlanCIFiles(r.Env.WorkDir, first.SnippetPath, first.CIFile, snippet)
			if err != nil {
				return nil, err
			}
			return ApplyCIFiles(r.Env.WorkDir, edits, d, apply)
		}})
	}
	return steps
}

func appendMissing(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// CombinedSnippetSpec is the one snippet for several plans: the refs of all
// of them, and a template job per environment.
func CombinedSnippetSpec(plans []Plan) SnippetSpec {
	spec := plans[0].SnippetSpec()
	seen := map[RefRule]bool{}
	for _, r := range spec.Rules {
		seen[r] = true
	}
	for _, p := range plans {
		for _, a := range p.Allow {
			rule := RefRule(a)
			if !seen[rule] {
				seen[rule] = true
				spec.Rules = append(spec.Rules, rule)
			}
		}
		if p.Environment != "" {
			env := EnvJob{Name: p.Environment}
			for _, a := range p.Allow {
				env.Rules = append(env.Rules, RefRule(a))
			}
			spec.Environments = append(spec.Environments, env)
		}
	}
	return spec
}

// Apply runs every step in order and stops at the first failure, returning
// the changes made so far (so the caller can say what exists now).
func (r *Runner) Apply(ctx context.Context, p Plan, d Decisions, progress func(step Step, changes []Change, err error, took time.Duration)) ([]Change, error) {
	return r.ApplyAll(ctx, []Plan{p}, d, progress)
}

// ApplyAll is Apply for several plans sharing a provider and a snippet.
//
// It first runs every step read-only and at once (the reads of AWS and
// GitLab are independent), so nothing is written when any step has a
// conflict, and a re-run that finds everything in place costs one round of
// concurrent reads. Then the steps that have something to do run in order:
// the provider before the roles that name it, and the variable only once
// the role it points at exists.
func (r *Runner) ApplyAll(ctx context.Context, plans []Plan, d Decisions, progress func(step Step, changes []Change, err error, took time.Duration)) ([]Change, error) {
	rec, rep := r.recordingAndReplaying()
	return applySteps(ctx, rec.plannedSteps(plans, d, false), rep.StepsAll(plans, d), progress)
}

// applySteps checks every step read-only at once, then applies in order the
// steps that have something to do. checkSteps and applySteps are the same
// steps built with apply false and true.
func applySteps(ctx context.Context, checkSteps, steps []Step, progress func(step Step, changes []Change, err error, took time.Duration)) ([]Change, error) {
	start := time.Now()
	checks := runConcurrently(ctx, checkSteps)
	for _, c := range checks {
		if c.err != nil {
			if progress != nil {
				progress(c.step, c.changes, c.err, time.Since(start))
			}
			return nil, fmt.Errorf("%s: %w", c.step.Title, c.err)
		}
	}
	var all []Change
	for i, s := range steps {
		if !HasWrites(checks[i].changes) {
			all = append(all, checks[i].changes...)
			if progress != nil {
				progress(s, checks[i].changes, nil, checks[i].took)
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return all, err
		}
		began := time.Now()
		ch, err := s.Run(ctx)
		all = append(all, ch...)
		if progress != nil {
			progress(s, ch, err, time.Since(began))
		}
		if err != nil {
			return all, fmt.Errorf("%s: %w", s.Title, err)
		}
	}
	return all, nil
}

// HasWrites reports whether any change writes something.
func HasWrites(changes []Change) bool {
	for _, c := range changes {
		if c.IsWrite() {
			return true
		}
	}
	return false
}

// stepResult is one step's outcome when steps run concurrently.
type stepResult struct {
	step    Step
	changes []Change
	err     error
	took    time.Duration
}

// runConcurrently runs steps at once and returns their results in order.
func runConcurrently(ctx context.Context, steps []Step) []stepResult {
	out := make([]stepResult, len(steps))
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Add(1)
		go func(i int, s Step) {
			defer wg.Done()
			began := time.Now()
			ch, err := s.Run(ctx)
			out[i] = stepResult{step: s, changes: ch, err: err, took: time.Since(began)}
		}(i, s)
	}
	wg.Wait()
	return out
}

// InstanceFromURL normalises a GitLab base URL (scheme and host, optional
// relative root, no trailing slash).
func InstanceFromURL(raw string) (string, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("GitLab URL %q is not a URL: pass --gitlab-url https://gitlab.example.com", raw)
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}
