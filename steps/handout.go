package steps

import (
	"fmt"
	"strings"

	"gitlab-oidc/internal/policy"
)

// RenderHandout renders the Markdown page a platform team hands to the
// project team: what exists (from changes, or "planned" from the plan when
// changes is empty), who may assume the role, the exact trust policy, the
// pipeline snippet, how to check the first run and what to do when it fails.
// It is a pure function of its arguments, so the page is reproducible.
func RenderHandout(p Plan, snippet string, changes []Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# AWS access from GitLab CI for %s\n\n", p.Project.Path)
	fmt.Fprintf(&b, "Set up by gitlab-oidc. Jobs of this project get short-lived AWS credentials for the IAM role `%s` by exchanging their GitLab ID token; no AWS keys are stored in GitLab.\n\n", p.RoleName)
	handoutCreated(&b, p, changes)
	handoutAccess(&b, p)
	handoutTrust(&b, p)
	handoutSnippet(&b, p, snippet)
	handoutVerify(&b, p)
	handoutFailure(&b, p)
	handoutErrors(&b, p)
	return b.String()
}

// handoutCreated lists the resources: the plan's facts first, then each
// change as setup reported it.
func handoutCreated(b *strings.Builder, p Plan, changes []Change) {
	status := "planned: nothing has been created yet"
	switch {
	case anyApplied(changes):
		status = "applied"
	case len(changes) > 0:
		status = "planned (a preview): nothing has been created yet"
	}
	fmt.Fprintf(b, "## What was set up\n\nStatus: %s.\n\n", status)
	fmt.Fprintf(b, "- IAM OIDC provider: `%s`\n", p.ProviderARN())
	fmt.Fprintf(b, "- IAM role: `%s` (sessions of up to %s)\n", p.RoleARN(), formatDuration(p.MaxSessionSeconds))
	for _, arn := range p.PolicyARNs {
		fmt.Fprintf(b, "  - managed policy `%s`\n", arn)
	}
	for _, ip := range p.InlinePolicies {
		fmt.Fprintf(b, "  - inline policy `%s`\n", ip.Name)
	}
	fmt.Fprintf(b, "- CI/CD variable: `%s` = the role ARN, on %s, %s, %s\n", p.Variable.Key, variableOwner(p), protection(p.Variable.Protected), envScope(p.Variable.EnvironmentScope))
	fmt.Fprintf(b, "- Files: `%s` (the pipeline snippet below), included from `%s`\n\n", p.SnippetPath, p.CIFile)
	if len(changes) == 0 {
		return
	}
	b.WriteString("| | Resource | Name | Detail |\n|---|---|---|---|\n")
	for _, c := range changes {
		fmt.Fprintf(b, "| %s | %s | `%s` | %s |\n", changeVerb(c), mdCell(c.Resource), mdCell(c.Name), mdCell(c.Detail))
	}
	b.WriteString("\n")
}

func anyApplied(changes []Change) bool {
	for _, c := range changes {
		if c.Applied {
			return true
		}
	}
	return false
}

// changeVerb says what happened to a resource, or will, when not applied.
func changeVerb(c Change) string {
	if c.Action == ActionKeep {
		return "already in place"
	}
	if !c.Applied {
		return "planned: " + string(c.Action)
	}
	past := map[Action]string{
		ActionCreate: "created", ActionUpdate: "updated", ActionAttach: "attached",
		ActionWrite: "written", ActionEdit: "edited",
	}
	if v, ok := past[c.Action]; ok {
		return v
	}
	return string(c.Action)
}

func variableOwner(p Plan) string {
	if p.Variable.Scope == "group" {
		return "group " + p.Variable.Group
	}
	return "project " + p.Project.Path
}

func protection(protected bool) string {
	if protected {
		return "protected (only jobs on protected branches and tags see it)"
	}
	return "not protected (jobs on every ref see it)"
}

func envScope(scope string) string {
	if scope == "*" || scope == "" {
		return "all environments"
	}
	return "environment scope `" + scope + "`"
}

// handoutAccess says who may assume the role, in words and as sub values.
func handoutAccess(b *strings.Builder, p Plan) {
	b.WriteString("## Who may assume the role\n\n")
	summary := AccessSummary(p)
	fmt.Fprintf(b, "%s may assume it, with an ID token whose `aud` is `%s`.\n",
		strings.ToUpper(summary[:1])+summary[1:], p.Audience)
	if p.Instance.IsGitLabCom() && p.PinProjectID && p.Project.ID != 0 {
		fmt.Fprintf(b, "The trust policy also pins the project ID %d, so a project that later takes over the path %s gets no access.\n", p.Project.ID, p.Project.Path)
	}
	if exact, like, err := p.SubValues(); err == nil {
		b.WriteString("\nThe job token's `sub` claim must be")
		for i, s := range append(exact, like...) {
			if i > 0 {
				b.WriteString(" or")
			}
			fmt.Fprintf(b, " `%s`", s)
		}
		b.WriteString(" (`*` and `?` are wildcards only in StringLike statements).\n")
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(b, "\n> **Warning:** %s\n", w)
	}
	b.WriteString("\n")
}

// handoutTrust shows the trust policy exactly as setup creates it.
func handoutTrust(b *strings.Builder, p Plan) {
	b.WriteString("## Trust policy\n\n")
	doc, err := p.TrustPolicy()
	var js []byte
	if err == nil {
		js, err = policy.Marshal(doc)
	}
	if err != nil {
		fmt.Fprintf(b, "The plan cannot build a trust policy: %v\n\n", err)
		return
	}
	fmt.Fprintf(b, "```json\n%s\n```\n\n", js)
}

func handoutSnippet(b *strings.Builder, p Plan, snippet string) {
	b.WriteString("## Pipeline snippet\n\n")
	if strings.TrimSpace(snippet) == "" {
		fmt.Fprintf(b, "No snippet was generated; run `gitlab-oidc setup --print-snippet` to get the one for this role.\n\n")
		return
	}
	fence := codeFence(snippet)
	fmt.Fprintf(b, "`%s`, included from `%s`. Use it in a job with `extends: .aws-oidc`.\n\n%syaml\n%s\n%s\n\n",
		p.SnippetPath, p.CIFile, fence, strings.TrimRight(snippet, "\n"), fence)
}

// codeFence is a backtick fence longer than any backtick run in s, so a
// snippet that quotes Markdown cannot close its block early.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// handoutVerify explains how to check the first run, with the assumed-role
// ARN the check job must print.
func handoutVerify(b *strings.Builder, p Plan) {
	project := "${CI_PROJECT_ID}"
	if p.Project.ID != 0 {
		project = fmt.Sprint(p.Project.ID)
	}
	assumed := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/gitlab-%s-<job ID>", p.partition(), p.AccountID, p.RoleName, project)
	b.WriteString("## Verify the first run\n\n")
	fmt.Fprintf(b, "1. Merge `%s` and the include in `%s`, then %s.\n", p.SnippetPath, p.CIFile, firstRunRef(p))
	b.WriteString("2. Open the pipeline: the `aws-oidc-check` job (stage `.pre`) runs `aws sts get-caller-identity`.\n")
	fmt.Fprintf(b, "3. Its output must show\n\n   ```\n   \"Arn\": \"%s\"\n   ```\n\n", assumed)
	b.WriteString("   The session name is `gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}`, so CloudTrail shows which job used the role.\n")
	b.WriteString("4. Then let your deploy jobs `extends: .aws-oidc` and delete the `aws-oidc-check` job.\n\n")
}

// firstRunRef says where to push so that the first pipeline may assume the role.
func firstRunRef(p Plan) string {
	if len(p.Allow) == 0 {
		return "run a pipeline on a ref the role allows"
	}
	switch a := p.Allow[0]; {
	case a.Kind == AllowProtected:
		return "run a pipeline on a protected branch"
	case a.Wildcard():
		return fmt.Sprintf("push a %s matching `%s`", a.Kind, a.Pattern)
	case a.Kind == AllowTag:
		return fmt.Sprintf("push the tag `%s`", a.Pattern)
	default:
		return fmt.Sprintf("push to the branch `%s` (or run a pipeline on it)", a.Pattern)
	}
}

func handoutFailure(b *strings.Builder, p Plan) {
	b.WriteString("## When it fails\n\n")
	b.WriteString("Run doctor with the failing job's URL; it reads the job log and the role, compares the token's claims with the trust policy and names the claim or condition at fault (it never prints the whole token):\n\n")
	fmt.Fprintf(b, "```sh\ngitlab-oidc doctor --role-arn %s --job <job URL>\n```\n\n", p.RoleARN())
	fmt.Fprintf(b, "If the job log is not enough, run doctor inside a failing job, where the token is (the job image needs the gitlab-oidc binary):\n\n")
	fmt.Fprintf(b, "```yaml\naws-oidc-debug:\n  extends: .aws-oidc\n  before_script: []\n  script:\n    - gitlab-oidc doctor --role-arn \"$%s\" --token-env GITLAB_OIDC_TOKEN\n```\n\n", p.Variable.Key)
}

// handoutErrors is the table of the errors a first run usually meets.
func handoutErrors(b *strings.Builder, p Plan) {
	b.WriteString("## Common errors\n\n| Error in the job log | Usual cause | Fix |\n|---|---|---|\n")
	rows := [][3]string{
		{"`AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`",
			"the token's `sub` does not match the trust policy: the job ran on another branch or tag, in a merge request pipeline, in another project, or the project's sub claim format changed",
			"run the job on " + joinOr(allowDescriptions(p)) + "; doctor shows the job's sub beside the policy's"},
		{"`InvalidIdentityToken: Incorrect token audience`",
			"the job's `id_tokens` `aud` is not `" + p.Audience + "`",
			"set `aud: " + p.Audience + "` under `id_tokens` (the snippet does)"},
		{"`InvalidIdentityToken: No OpenIDConnect provider found in your account`",
			"the token's issuer (`iss`) is not `" + p.Instance.IssuerURL + "`, or the role is in another account",
			"check the role ARN in `" + p.Variable.Key + "` and that the provider exists"},
		{"`InvalidIdentityToken: Couldn't retrieve verification key from your identity provider`",
			"STS could not fetch `" + p.Instance.IssuerURL + "/.well-known/openid-configuration` and its keys from the internet within about 5 seconds",
			"the GitLab instance's discovery and JWKS endpoints must be publicly reachable; retry if it was a one-off"},
		{"`" + p.Variable.Key + " is empty`",
			"the variable is protected and the job ran on an unprotected ref, or its environment scope excludes the job",
			"run on a protected ref, or change the variable's protection or scope"},
		{"`GITLAB_OIDC_TOKEN is empty`",
			"the job does not extend `.aws-oidc`, so it requested no ID token",
			"add `extends: .aws-oidc` to the job"},
	}
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s |\n", mdCell(r[0]), mdCell(r[1]), mdCell(r[2]))
	}
}

func allowDescriptions(p Plan) []string {
	out := make([]string, 0, len(p.Allow))
	for _, a := range p.Allow {
		out = append(out, a.Describe())
	}
	return out
}

// formatDuration writes seconds as hours, or minutes when not whole hours.
func formatDuration(seconds int32) string {
	if seconds%3600 == 0 {
		return fmt.Sprintf("%d h", seconds/3600)
	}
	return fmt.Sprintf("%d min", seconds/60)
}

// mdCell keeps a value from breaking a Markdown table row.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
