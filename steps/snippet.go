package steps

import (
	"fmt"
	"regexp"
	"strings"
)

// Snippet styles: how the generated template hands credentials to the job.
const (
	// SnippetExplicit calls aws sts assume-role-with-web-identity and exports
	// the temporary keys; it works with any tool that reads AWS_ACCESS_KEY_ID.
	SnippetExplicit = "explicit"
	// SnippetNative writes the token to a file and sets the web identity
	// variables that every AWS SDK, the CLI and Terraform read themselves.
	SnippetNative = "native"
)

// Defaults of a SnippetSpec.
const (
	DefaultRoleARNVariable = "AWS_ROLE_ARN"
	DefaultTokenVariable   = "GITLAB_OIDC_TOKEN"
	DefaultSnippetPath     = ".gitlab/ci/aws-oidc.yml"
	DefaultCIFile          = ".gitlab-ci.yml"
	defaultDuration        = 3600
	exampleJobName         = "aws-oidc-check"
	templateName           = ".aws-oidc"
)

// SessionNameExpr is the role session name the snippet passes. Both IDs are
// numeric, so the name always fits STS's [\w+=,.@-]{2,64}, unlike names built
// from branch names or project paths.
const SessionNameExpr = "gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}"

// RefRule is one ref the role admits, mirrored as a rules: entry so that jobs
// on other refs do not start and fail with AccessDenied. Kind is "branch",
// "tag" or "protected" (AllowBranch, AllowTag, AllowProtected); Pattern may
// use * and ? and is empty for "protected". It converts to and from Allow.
type RefRule struct {
	Kind    string
	Pattern string
}

// EnvJob asks for a template per deployment environment. Name is the GitLab
// environment; RoleARNVariable, when set, names the variable that holds that
// environment's role ARN (otherwise the spec's variable is used, typically
// scoped to the environment in the project's CI/CD settings).
type EnvJob struct {
	Name            string
	RoleARNVariable string
	// Rules, when set, replace the template's rules for this environment:
	// each environment's role admits its own refs.
	Rules []RefRule
}

// SnippetSpec is everything the pipeline snippet depends on.
type SnippetSpec struct {
	Style           string // SnippetExplicit (default) or SnippetNative
	Audience        string // the aud the role's trust policy pins
	Region          string
	DurationSeconds int32  // explicit style only; 0 means 3600
	RoleARNVariable string // default AWS_ROLE_ARN
	TokenVariable   string // default GITLAB_OIDC_TOKEN
	Rules           []RefRule
	Environments    []EnvJob
	ExampleJob      bool
	Image           string // image for the example job; empty keeps the runner's default
}

var (
	variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	envName      = regexp.MustCompile(`^[A-Za-z0-9 _./${}-]+$`)
	envUnsafe    = regexp.MustCompile(`[^A-Za-z0-9_-]+`)
)

// withDefaults fills the defaults and checks what would make a broken file.
func (s SnippetSpec) withDefaults() (SnippetSpec, error) {
	if s.Style == "" {
		s.Style = SnippetExplicit
	}
	if s.RoleARNVariable == "" {
		s.RoleARNVariable = DefaultRoleARNVariable
	}
	if s.TokenVariable == "" {
		s.TokenVariable = DefaultTokenVariable
	}
	if s.DurationSeconds == 0 {
		s.DurationSeconds = defaultDuration
	}
	switch {
	case s.Style != SnippetExplicit && s.Style != SnippetNative:
		return s, fmt.Errorf("snippet style %q: use %s or %s", s.Style, SnippetExplicit, SnippetNative)
	case s.Audience == "":
		return s, fmt.Errorf("snippet: the audience is empty; it must equal the aud the role's trust policy pins (e.g. sts.amazonaws.com)")
	case s.Region == "":
		return s, fmt.Errorf("snippet: the AWS region is empty; pass --region")
	case s.DurationSeconds < 900 || s.DurationSeconds > 43200:
		return s, fmt.Errorf("snippet: duration %d s is outside STS's 900..43200; it must also be at most the role's MaxSessionDuration", s.DurationSeconds)
	case !variableName.MatchString(s.RoleARNVariable):
		return s, fmt.Errorf("snippet: role ARN variable %q is not a valid variable name", s.RoleARNVariable)
	case !variableName.MatchString(s.TokenVariable):
		return s, fmt.Errorf("snippet: token variable %q is not a valid variable name", s.TokenVariable)
	}
	for _, e := range s.Environments {
		if !envName.MatchString(e.Name) {
			return s, fmt.Errorf("snippet: environment name %q has characters GitLab does not allow", e.Name)
		}
		if e.RoleARNVariable != "" && !variableName.MatchString(e.RoleARNVariable) {
			return s, fmt.Errorf("snippet: environment %q: role ARN variable %q is not a valid variable name", e.Name, e.RoleARNVariable)
		}
	}
	return s, nil
}

// RenderSnippet renders the pipeline snippet: a hidden template job .aws-oidc
// that requests the ID token and exchanges it for AWS credentials in
// before_script, optional per-environment templates and an example job. The
// output is deterministic, so re-running setup with the same answers changes
// nothing.
func RenderSnippet(spec SnippetSpec) (string, error) {
	s, err := spec.withDefaults()
	if err != nil {
		return "", err
	}
	rules, err := renderRules(s.Rules)
	if err != nil {
		return "", err
	}
	w := &yamlWriter{}
	writeHeader(w, s)
	w.line(0, templateName+":")
	w.line(1, "id_tokens:")
	w.line(2, s.TokenVariable+":")
	w.kv(3, "aud", s.Audience)
	w.line(1, "variables:")
	w.kv(2, "AWS_REGION", s.Region)
	w.kv(2, "AWS_DEFAULT_REGION", s.Region)
	if len(rules) > 0 {
		w.comment(1, "Only the refs the role's trust policy admits; other refs would get AccessDenied.")
		w.line(1, "rules:")
		for _, r := range rules {
			w.kv(2, "- if", r)
		}
	}
	w.line(1, "before_script:")
	w.list(2, exchangeScript(s, s.RoleARNVariable))
	for _, e := range s.Environments {
		w.blank()
		w.line(0, templateName+"-"+envSuffix(e.Name)+":")
		w.kv(1, "extends", templateName)
		w.line(1, "environment:")
		w.kv(2, "name", e.Name)
		if len(e.Rules) > 0 {
			envRules, err := renderRules(e.Rules)
			if err != nil {
				return "", err
			}
			w.comment(1, "Only the refs the "+e.Name+" role's trust policy admits.")
			w.line(1, "rules:")
			for _, r := range envRules {
				w.kv(2, "- if", r)
			}
		}
		if e.RoleARNVariable != "" && e.RoleARNVariable != s.RoleARNVariable {
			w.line(1, "before_script:")
			w.list(2, exchangeScript(s, e.RoleARNVariable))
		}
	}
	if s.ExampleJob {
		w.blank()
		w.comment(0, "Proves the exchange works: prints the assumed role. Delete it once your jobs use .aws-oidc.")
		w.line(0, exampleJobName+":")
		if len(s.Environments) > 0 {
			// Environment-scoped role variables reach only jobs with that
			// environment; "prepare" gets them without recording a deployment.
			first := s.Environments[0]
			w.kv(1, "extends", templateName+"-"+envSuffix(first.Name))
			w.line(1, "environment:")
			w.kv(2, "name", first.Name)
			w.kv(2, "action", "prepare")
		} else {
			w.kv(1, "extends", templateName)
		}
		w.comment(1, ".pre always exists, whatever stages the pipeline declares.")
		w.kv(1, "stage", ".pre")
		if s.Image != "" {
			w.line(1, "image:")
			w.kv(2, "name", s.Image)
			w.comment(2, "Images such as amazon/aws-cli set aws as entrypoint; the runner needs a shell.")
			w.kv(2, "entrypoint", `[""]`)
		}
		w.line(1, "script:")
		w.list(2, []string{"aws sts get-caller-identity"})
	}
	return w.String(), nil
}

// writeHeader explains where the file came from and how to use it.
func writeHeader(w *yamlWriter, s SnippetSpec) {
	w.comment(0, "Generated by gitlab-oidc: exchanges the job's GitLab ID token for AWS credentials.")
	w.comment(0, "Re-run `gitlab-oidc setup` to change it; it shows a diff before replacing this file.")
	w.comment(0, "")
	w.comment(0, "Use it in a job (the job's own before_script would replace this one):")
	w.comment(0, "  deploy:")
	w.comment(0, "    extends: "+templateName)
	w.comment(0, "    script:")
	w.comment(0, "      - aws sts get-caller-identity")
	w.comment(0, "")
	w.comment(0, fmt.Sprintf("%s must hold the role ARN (a CI/CD variable); the role session is", s.RoleARNVariable))
	w.comment(0, SessionNameExpr+": numeric IDs only, always a valid session name.")
	if s.Style == SnippetNative {
		w.comment(0, "Native style: the SDKs, the CLI and Terraform assume the role themselves from")
		w.comment(0, "AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_SESSION_NAME (1 h sessions).")
		w.comment(0, "Static AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY would take precedence, so they are unset.")
	}
	w.blank()
}

// exchangeScript is the before_script for one role ARN variable.
func exchangeScript(s SnippetSpec, roleVar string) []string {
	lines := []string{
		fmt.Sprintf(`test -n "$%s" || { echo "%s is empty: is the variable protected while this ref is not?" >&2; exit 1; }`, roleVar, roleVar),
		fmt.Sprintf(`test -n "$%s" || { echo "%s is empty: the job needs id_tokens (extends: %s)" >&2; exit 1; }`, s.TokenVariable, s.TokenVariable, templateName),
	}
	if s.Style == SnippetNative {
		if roleVar != "AWS_ROLE_ARN" {
			lines = append(lines, fmt.Sprintf(`export AWS_ROLE_ARN="$%s"`, roleVar))
		}
		return append(lines,
			"unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN",
			`export AWS_WEB_IDENTITY_TOKEN_FILE="$(mktemp)"`,
			fmt.Sprintf(`printf '%%s' "$%s" > "$AWS_WEB_IDENTITY_TOKEN_FILE"`, s.TokenVariable),
			`export AWS_ROLE_SESSION_NAME="`+SessionNameExpr+`"`,
		)
	}
	call := strings.Join([]string{
		"aws_sts_output=$(aws sts assume-role-with-web-identity",
		fmt.Sprintf(`--role-arn "$%s"`, roleVar),
		`--role-session-name "` + SessionNameExpr + `"`,
		fmt.Sprintf(`--web-identity-token "$%s"`, s.TokenVariable),
		fmt.Sprintf("--duration-seconds %d", s.DurationSeconds),
		`--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]'`,
		"--output text)",
	}, " ")
	return append(lines, call,
		`export $(printf "AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s" $aws_sts_output)`,
	)
}

// envSuffix turns an environment name into a job-name suffix.
func envSuffix(name string) string {
	return strings.Trim(envUnsafe.ReplaceAllString(strings.ToLower(name), "-"), "-")
}
