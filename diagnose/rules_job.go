package diagnose

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gitlab-oidc/internal/cifile"
	"gitlab-oidc/internal/gitlabapi"
)

// roleRules report a role that does not exist.
func roleRules(ev *Evidence) []Finding {
	r := ev.Role
	if r == nil || !r.NotFound {
		return nil
	}
	return []Finding{{
		ID: "role-not-found", Severity: SeverityError,
		Title: "the role does not exist in account " + orNone(r.AccountID) + " (STS says AccessDenied, not NotFound)",
		Evidence: []string{
			"role ARN   " + r.ARN,
			"GetRole    NoSuchEntity" + ifSet(" — "+r.Err, r.Err != ""),
			"account    " + orNone(r.AccountID) + " (from the ARN; check it is the account you created the role in)",
		},
		Fix: fmt.Sprintf("Check the ARN (spelling, path, account) with: aws iam get-role --role-name %s\n"+
			"and set the CI/CD variable to the exact ARN, or create the role (gitlab-oidc setup).", orNone(r.Name)),
	}}
}

// jobRules are section E (and role-arn-empty): the job, its variables and
// its pipeline file.
func jobRules(ev *Evidence) []Finding {
	var out []Finding
	if f, ok := roleARNEmpty(ev); ok {
		out = append(out, f)
	}
	var job *cifile.Job
	if ev.Pipeline != nil {
		job = ev.Pipeline.Job
	}
	out = append(out, idTokensMissing(ev, job)...)
	if f, ok := legacyJWT(ev, job); ok {
		out = append(out, f)
	}
	if f, ok := providerIDSet(ev, job); ok {
		out = append(out, f)
	}
	out = append(out, durationFindings(ev, job)...)
	out = append(out, sessionNameFindings(ev, job)...)
	if f, ok := regionMissing(ev, job); ok {
		out = append(out, f)
	}
	if f, ok := staticKeys(ev, job); ok {
		out = append(out, f)
	}
	return out
}

var varRefRe = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)

// roleVarName is the variable that carries the role ARN into the job.
func roleVarName(job *cifile.Job) string {
	if job != nil {
		for _, c := range job.STSCalls {
			if m := varRefRe.FindStringSubmatch(strings.Trim(c.RoleARNExpr, `"'`)); m != nil {
				return m[1]
			}
		}
	}
	return "AWS_ROLE_ARN"
}

// roleARNEmpty finds an empty role ARN from the log, or predicts it from the
// variable's settings: protected on an unprotected ref, scoped to another
// environment, or not defined.
func roleARNEmpty(ev *Evidence) (Finding, bool) {
	f := Finding{ID: "role-arn-empty", Severity: SeverityError, Title: "the job passed an empty role ARN"}
	var job *cifile.Job
	if ev.Pipeline != nil {
		job = ev.Pipeline.Job
	}
	name := roleVarName(job)
	if ev.Log != nil && ev.Log.RoleARNEmpty {
		f.Evidence = append(f.Evidence, "log        "+ev.Log.RoleARNLine)
	}
	if job != nil {
		if v, ok := job.Variables[name]; ok && v != "" && !strings.Contains(v, "$") {
			// The file sets it literally: the CI/CD variable does not matter.
			if len(f.Evidence) == 0 {
				return Finding{}, false
			}
			f.Evidence = append(f.Evidence, fmt.Sprintf("file       %s sets %s literally", ev.Pipeline.Path, name))
		}
	}
	// "Not defined" needs the file to confirm the job reads that variable
	// (or the log to show the ARN empty): the project may use another name.
	confirmed := len(f.Evidence) > 0
	if job != nil {
		confirmed = confirmed || slices.ContainsFunc(job.STSCalls, func(c cifile.STSCall) bool { return strings.Contains(c.RoleARNExpr, name) })
	}
	why, fix, patch := variableProblem(ev, name, confirmed)
	if why != "" {
		f.Evidence = append(f.Evidence, why)
		f.Fix, f.Patch = fix, patch
	}
	if len(f.Evidence) == 0 {
		return Finding{}, false
	}
	if f.Fix == "" {
		f.Fix = fmt.Sprintf("Define the CI/CD variable %s (Settings > CI/CD > Variables) so that this job gets it: unprotected, or run the job on a protected branch or tag; environment scope * or the job's environment.", name)
	}
	return f, true
}

// variableProblem explains why a variable would be empty in this job, and
// gives the settings change that fixes it when one does.
func variableProblem(ev *Evidence, name string, confirmed bool) (why, fix string, patch *Patch) {
	if ev.Job == nil {
		return "", "", nil
	}
	v := findVar(ev.Job.Variables, name)
	if v == nil || v.Err != "" {
		return "", "", nil
	}
	j := ev.Job
	kind := "branch"
	if j.Tag {
		kind = "tag"
	}
	switch {
	case !v.Exists && confirmed:
		return fmt.Sprintf("variable   %s is not defined for project %s (nor its groups, as far as readable)", name, j.ProjectPath),
			fmt.Sprintf("Create it: Settings > CI/CD > Variables > Add variable, key %s, value the role ARN (gitlab-oidc setup does this).", name), nil
	case !v.Exists:
		return "", "", nil
	case v.Protected && j.RefProtected != nil && !*j.RefProtected:
		return fmt.Sprintf("variable   %s is protected (%s level), and the job ran on %s %q, which is not protected", name, v.Level, kind, j.Ref),
			fmt.Sprintf("Protect the %s %q (Settings > Repository > %s), or clear \"Protect variable\" on %s. A role ARN is not a secret; the trust policy decides who may use it.", kind, j.Ref, map[bool]string{false: "Protected branches", true: "Protected tags"}[j.Tag], name),
			variablePatch(v, j, true)
	case v.EnvironmentScope != "" && v.EnvironmentScope != "*" && environmentKnown(ev) && !envScopeMatches(v.EnvironmentScope, j.Environment):
		env := j.Environment
		if env == "" {
			env = "(none)"
		}
		return fmt.Sprintf("variable   %s is scoped to environment %q; the job's environment is %s", name, v.EnvironmentScope, env),
			fmt.Sprintf("Give the job environment: %s, or widen the variable's environment scope to * (or add a copy scoped to the job's environment).", v.EnvironmentScope),
			variablePatch(v, j, false)
	}
	return "", "", nil
}

// environmentKnown reports whether the job's environment is known: GitLab's
// jobs API does not return it, so without the pipeline file an empty
// environment proves nothing.
func environmentKnown(ev *Evidence) bool {
	return ev.Job.Environment != "" || (ev.Pipeline != nil && ev.Pipeline.Job != nil)
}

func findVar(vs []VariableFacts, key string) *VariableFacts {
	for i := range vs {
		if vs[i].Key == key {
			return &vs[i]
		}
	}
	return nil
}

// envScopeMatches applies GitLab's environment scope wildcard (* only).
func envScopeMatches(scope, env string) bool {
	if env == "" {
		return false
	}
	return gitlabapi.WildcardMatch(scope, env)
}

func idTokensMissing(ev *Evidence, job *cifile.Job) []Finding {
	if job == nil {
		return nil
	}
	var out []Finding
	for _, v := range job.TokenVars() {
		if _, ok := job.IDTokens[v]; ok || strings.HasPrefix(v, "CI_JOB_JWT") {
			continue
		}
		have := make([]string, 0, len(job.IDTokens))
		for k := range job.IDTokens {
			have = append(have, k)
		}
		slices.Sort(have)
		out = append(out, Finding{
			ID: "id-tokens-missing", Severity: SeverityError,
			Title: fmt.Sprintf("job %s passes $%s to STS but has no id_tokens entry %s", ev.Pipeline.JobName, v, v),
			Evidence: []string{
				"file       " + ev.Pipeline.Path,
				"id_tokens  " + orNone(strings.Join(have, ", ")),
				"uses       $" + v,
			},
			Fix: fmt.Sprintf("Add to job %s (a job's id_tokens replaces default:id_tokens, it is not merged):\n%s", ev.Pipeline.JobName, idTokensSnippet(v, audFor(ev))),
		})
	}
	return out
}

// audFor is the audience to suggest: the provider's first client ID, else
// sts.amazonaws.com.
func audFor(ev *Evidence) string {
	if p := providerFor(ev); p != nil && len(p.ClientIDs) > 0 {
		return p.ClientIDs[0]
	}
	return "sts.amazonaws.com"
}

func legacyJWT(ev *Evidence, job *cifile.Job) (Finding, bool) {
	var evidence []string
	if job != nil && job.UsesLegacyJWT {
		evidence = append(evidence, fmt.Sprintf("file       job %s uses %s", ev.Pipeline.JobName, strings.Join(job.LegacyJWTVars, ", ")))
	}
	if ev.Log != nil && ev.Log.LegacyJWTLine != "" {
		evidence = append(evidence, "log        "+ev.Log.LegacyJWTLine)
	}
	if len(evidence) == 0 {
		return Finding{}, false
	}
	return Finding{
		ID: "legacy-ci-job-jwt", Severity: SeverityError,
		Title:    "the job uses CI_JOB_JWT, which GitLab removed in 17.0",
		Evidence: evidence,
		Fix:      "Replace CI_JOB_JWT / CI_JOB_JWT_V2 / CI_JOB_JWT_FILE with an ID token:\n" + idTokensSnippet("GITLAB_OIDC_TOKEN", audFor(ev)) + "and pass \"$GITLAB_OIDC_TOKEN\" as --web-identity-token.",
	}, true
}

func providerIDSet(ev *Evidence, job *cifile.Job) (Finding, bool) {
	var evidence []string
	if job != nil {
		for _, c := range job.STSCalls {
			if c.ProviderIDSet {
				evidence = append(evidence, "file       "+MaskSecrets(c.Line))
			}
		}
	}
	if ev.Log != nil && ev.Log.ProviderIDLine != "" {
		evidence = append(evidence, "log        "+ev.Log.ProviderIDLine)
	}
	if len(evidence) == 0 {
		return Finding{}, false
	}
	return Finding{
		ID: "provider-id-set", Severity: SeverityError,
		Title:    "the call passes --provider-id, which must not be set for OpenID Connect tokens",
		Evidence: evidence,
		Fix:      "Remove --provider-id (ProviderId) from the assume-role-with-web-identity call: it is only for OAuth 2.0 tokens from www.amazon.com and graph.facebook.com.",
	}, true
}

// durationFindings compares the requested session length with the role's
// MaxSessionDuration. A duration taken from CI_JOB_TIMEOUT is a warning even
// when it fits today: raising the job timeout breaks the exchange.
func durationFindings(ev *Evidence, job *cifile.Job) []Finding {
	if job == nil {
		return nil
	}
	var max int64
	if ev.Role != nil {
		max = int64(ev.Role.MaxSessionDuration)
	}
	var out []Finding
	for _, c := range job.STSCalls {
		expr := strings.Trim(c.DurationExpr, `"'`)
		line := "file       " + MaskSecrets(c.Line)
		if strings.Contains(expr, "CI_JOB_TIMEOUT") {
			out = append(out, durationFinding(ev, SeverityWarning, expr+" (the job timeout in seconds: 3600 by default, up to a month)", line))
			continue
		}
		n, err := strconv.ParseInt(expr, 10, 64)
		if err != nil || max == 0 || n <= max {
			continue
		}
		out = append(out, durationFinding(ev, SeverityError, fmt.Sprintf("%d s", n), line))
	}
	return out
}

func durationFinding(ev *Evidence, sev Severity, requested, line string) Finding {
	max := "unknown"
	name := "ROLE_NAME"
	if ev.Role != nil {
		if ev.Role.MaxSessionDuration > 0 {
			max = fmt.Sprintf("%d s", ev.Role.MaxSessionDuration)
		}
		if ev.Role.Name != "" {
			name = ev.Role.Name
		}
	}
	return Finding{
		ID: "duration-exceeds-max", Severity: sev,
		Title:    "the requested session duration exceeds the role's MaxSessionDuration",
		Evidence: []string{"requested  " + requested, "role max   " + max, line},
		Fix: fmt.Sprintf("Request at most the role's maximum (--duration-seconds 3600), or raise it: aws iam update-role --role-name %s --max-session-duration 7200 (up to 43200).\n"+
			"Do not pass CI_JOB_TIMEOUT as the duration: it can exceed the role's maximum when the job timeout is raised.", name),
	}
}

// sessionNameFindings judges the role session name of each call.
func sessionNameFindings(ev *Evidence, job *cifile.Job) []Finding {
	if job == nil {
		return nil
	}
	var out []Finding
	for _, c := range job.STSCalls {
		if c.SessionNameExpr == "" {
			continue
		}
		reason, risky := cifile.SessionNameRisk(c.SessionNameExpr)
		if !risky {
			continue
		}
		sev := SeverityWarning
		if actual, ok := expandSessionName(c.SessionNameExpr, ev); ok && !validSessionName(actual) {
			sev = SeverityError
			reason += fmt.Sprintf("; for this job it is %q", actual)
		}
		out = append(out, Finding{
			ID: "session-name-invalid", Severity: sev,
			Title:    "the role session name can break STS's rule (2-64 characters of [\\w+=,.@-])",
			Evidence: []string{"expr       " + c.SessionNameExpr, "why        " + reason},
			Fix:      `Build it from numeric IDs: --role-session-name "gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}" (or CI_COMMIT_REF_SLUG, which GitLab limits to [a-z0-9-], 63 chars).`,
		})
	}
	return out
}

var sessionNameOK = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func validSessionName(s string) bool { return sessionNameOK.MatchString(s) }

var exprVarRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expandSessionName fills in the predefined variables known from the job;
// ok is false when some variable is unknown.
func expandSessionName(expr string, ev *Evidence) (string, bool) {
	if ev.Job == nil {
		return "", false
	}
	j := ev.Job
	known := map[string]string{
		"CI_COMMIT_REF_NAME": j.Ref, "CI_PROJECT_PATH": j.ProjectPath,
		"CI_PROJECT_ID": fmt.Sprint(j.ProjectID), "CI_JOB_ID": fmt.Sprint(j.JobID),
		"CI_PIPELINE_ID": fmt.Sprint(j.PipelineID), "CI_JOB_NAME": j.Name,
		"CI_ENVIRONMENT_NAME": j.Environment,
	}
	if j.Tag {
		known["CI_COMMIT_TAG"] = j.Ref
	} else {
		known["CI_COMMIT_BRANCH"] = j.Ref
	}
	ok := true
	out := exprVarRe.ReplaceAllStringFunc(expr, func(m string) string {
		sm := exprVarRe.FindStringSubmatch(m)
		v, has := known[sm[1]+sm[2]]
		if !has || v == "" {
			ok = false
		}
		return v
	})
	return strings.Trim(out, `"'`), ok
}

func regionMissing(ev *Evidence, job *cifile.Job) (Finding, bool) {
	if ev.Log != nil && ev.Log.RegionMissing != "" {
		return Finding{
			ID: "region-missing", Severity: SeverityError,
			Title:    "no AWS region is set for the job",
			Evidence: []string{"log        " + ev.Log.RegionMissing},
			Fix:      regionFix,
		}, true
	}
	if job == nil || len(job.STSCalls)+len(job.TokenFileWrites) == 0 {
		return Finding{}, false
	}
	if strings.Contains(strings.Join(job.Scripts, "\n"), "--region") {
		return Finding{}, false
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if _, ok := job.Var(k); ok {
			return Finding{}, false
		}
		if ev.Job != nil {
			if v := findVar(ev.Job.Variables, k); v != nil && (v.Exists || v.Err != "") {
				return Finding{}, false
			}
		}
	}
	where := "unless the runner or the image sets it"
	if ev.Job != nil && findVar(ev.Job.Variables, "AWS_REGION") != nil {
		where = "neither in the file nor as a CI/CD variable; unless the runner or the image sets it"
	}
	return Finding{
		ID: "region-missing", Severity: SeverityWarning,
		Title:    "the job sets no AWS_REGION or AWS_DEFAULT_REGION",
		Evidence: []string{fmt.Sprintf("file       job %s of %s: no region %s", ev.Pipeline.JobName, ev.Pipeline.Path, where)},
		Fix:      regionFix,
	}, true
}

const regionFix = "Set the region for the job in .gitlab-ci.yml:\n  variables:\n    AWS_REGION: us-east-1\n    AWS_DEFAULT_REGION: us-east-1"

// staticKeys reports static AWS keys that take precedence over (or hide the
// failures of) the web identity credentials.
func staticKeys(ev *Evidence, job *cifile.Job) (Finding, bool) {
	var evidence []string
	if job != nil {
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
			if _, ok := job.Variables[k]; ok {
				evidence = append(evidence, fmt.Sprintf("file       %s defines %s in variables:", ev.Pipeline.Path, k))
			}
		}
	}
	if ev.Job != nil {
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
			if v := findVar(ev.Job.Variables, k); v != nil && v.Exists {
				evidence = append(evidence, fmt.Sprintf("variable   %s is a CI/CD variable (%s level, protected=%t, scope %s)", k, v.Level, v.Protected, orNone(v.EnvironmentScope)))
			}
		}
	}
	if len(evidence) == 0 {
		return Finding{}, false
	}
	return Finding{
		ID: "static-keys-override", Severity: SeverityWarning,
		Title:    "static AWS keys are defined for the job and take precedence over the web identity credentials",
		Evidence: evidence,
		Fix:      "Delete AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Settings > CI/CD > Variables and the file's variables:) and deactivate the key in IAM (aws iam update-access-key --status Inactive ...): the SDKs use them before AWS_WEB_IDENTITY_TOKEN_FILE, so a failing exchange goes unnoticed.",
	}, true
}

func ifSet(s string, ok bool) string {
	if ok {
		return s
	}
	return ""
}
