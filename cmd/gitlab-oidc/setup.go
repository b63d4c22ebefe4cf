package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gitlab-oidc/steps"
)

// setupFlags are the setup command's flags; every wizard choice has one.
type setupFlags struct {
	conn connectFlags

	allow            []string
	audience         string
	roleName         string
	policyARNs       []string
	templates        []string
	maxSession       int32
	variableKey      string
	variableScope    string
	group            string
	environmentScope string
	protectedVar     string
	subComponents    string
	pinProjectID     bool
	snippetStyle     string
	snippetPath      string
	gitlabCIFile     string
	printSnippet     bool
	dryRun           bool
	yes              bool
	allowAdmin       bool
	handout          string
	export           string
	output           string
	environments     []string
	envPolicyARNs    []string
	projectsFile     string
	batchGroup       string
	subgroups        bool
	groupRole        bool
	concurrency      int

	// listed is the --projects file's content, read before connecting.
	listed []string
}

func newSetupCmd() *cobra.Command {
	var f setupFlags
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create the OIDC provider, role, AWS_ROLE_ARN variable and pipeline snippet",
		Long: `setup walks you through connecting a GitLab project to AWS with OIDC:

  1. the IAM OIDC identity provider for your GitLab instance (created or reused)
  2. an IAM role whose trust policy pins the token's aud and sub
  3. the AWS_ROLE_ARN CI/CD variable, set through the GitLab API
  4. .gitlab/ci/aws-oidc.yml with id_tokens and the STS exchange, included
     from .gitlab-ci.yml

Nothing is changed before you have seen the plan. In a terminal it is a
wizard; with --no-tui (or without a terminal) every choice comes from flags.
Try it without any account: gitlab-oidc setup --demo`,
		Example: `  gitlab-oidc setup --demo
  gitlab-oidc setup --project acme/payments --allow branch:main --dry-run --no-tui
  gitlab-oidc setup --allow branch:main --allow tag:v* --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess --yes --no-tui --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSetup(cmd.Context(), cmd, &f)
		},
	}
	fl := cmd.Flags()
	f.conn.register(cmd)
	fl.StringArrayVar(&f.allow, "allow", nil, "who may assume the role: branch:NAME, tag:PATTERN, branch:* or protected (repeatable; default: the default branch)")
	fl.StringVar(&f.audience, "audience", "", "the id_tokens aud and provider client ID (default: the issuer URL; sts.amazonaws.com is common)")
	fl.StringVar(&f.roleName, "role-name", "", "IAM role name (default: gitlab-<project path>-<ref>)")
	fl.StringArrayVar(&f.policyARNs, "policy-arn", nil, "managed policy to attach (repeatable)")
	fl.StringArrayVar(&f.templates, "template", nil, "inline policy template: s3-deploy:bucket=NAME, ecr-push:repository=NAME or ecs-deploy:cluster=C,service=S[,pass_role_arns=ARN,...] (repeatable)")
	fl.Int32Var(&f.maxSession, "max-session", 3600, "role MaxSessionDuration in seconds (3600-43200)")
	fl.StringVar(&f.variableKey, "variable", "AWS_ROLE_ARN", "name of the CI/CD variable that holds the role ARN")
	fl.StringVar(&f.variableScope, "variable-scope", "project", "where the variable lives: project or group")
	fl.StringVar(&f.group, "variable-group", "", "group for --variable-scope group (default: the project's parent group)")
	fl.StringVar(&f.environmentScope, "environment-scope", "*", "environment scope of the variable")
	fl.StringVar(&f.protectedVar, "protected-variable", "auto", "protect the variable: auto (when every allowed ref is protected), true or false")
	fl.StringVar(&f.subComponents, "sub-components", "", "set the project's ci_id_token_sub_claim_components first, e.g. project_id,ref_type,ref")
	fl.BoolVar(&f.pinProjectID, "pin-project-id", true, "on gitlab.com also pin gitlab.com:project_id (a renamed project's path can be taken over)")
	fl.StringVar(&f.snippetStyle, "snippet-style", "explicit", "explicit (aws sts assume-role-with-web-identity) or native (AWS_WEB_IDENTITY_TOKEN_FILE)")
	fl.StringVar(&f.snippetPath, "ci-file", steps.DefaultSnippetPath, "where to write the snippet, relative to the checkout")
	fl.StringVar(&f.gitlabCIFile, "gitlab-ci", steps.DefaultCIFile, "the pipeline file that includes the snippet")
	fl.BoolVar(&f.printSnippet, "print-snippet", false, "print the snippet to stdout instead of writing files")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan and the exact trust policy; make no write call")
	fl.BoolVar(&f.yes, "yes", false, "apply without asking, including replacing what differs (plain mode)")
	fl.BoolVar(&f.allowAdmin, "allow-admin", false, "confirm attaching AdministratorAccess (plain mode)")
	fl.StringVar(&f.handout, "handout", "", "also write a Markdown hand-out for the project team to FILE")
	fl.StringVar(&f.export, "export", "", "write terraform or cloudformation instead of calling the APIs")
	fl.StringVarP(&f.output, "output", "o", "", "file for --export (default: stdout)")
	fl.StringArrayVar(&f.environments, "environment", nil, "a role per environment: NAME=ALLOW[+ALLOW...], e.g. production=branch:main (repeatable)")
	fl.StringArrayVar(&f.envPolicyARNs, "env-policy-arn", nil, "managed policy for one environment's role: NAME=ARN (repeatable)")
	fl.StringVar(&f.projectsFile, "projects", "", "onboard every project listed in FILE (one path per line) with the same choices")
	fl.StringVar(&f.batchGroup, "group", "", "onboard every project of the group PATH with the same choices")
	fl.BoolVar(&f.subgroups, "include-subgroups", false, "with --group: also the projects of subgroups")
	fl.BoolVar(&f.groupRole, "group-role", false, "with --projects/--group: one role for all projects (each sub listed exactly) and a group variable")
	fl.IntVar(&f.concurrency, "concurrency", 4, "projects worked on at once with --projects/--group")
	fl.BoolVar(&f.conn.noProbe, "no-probe", false, "do not probe the issuer's discovery document, JWKS and TLS (air-gapped runs)")
	return cmd
}

// environmentChoices parses --environment and --env-policy-arn.
func (f *setupFlags) environmentChoices() ([]steps.EnvChoice, error) {
	var envs []steps.EnvChoice
	index := map[string]int{}
	for _, spec := range f.environments {
		env, err := steps.ParseEnvironment(spec)
		if err != nil {
			return nil, usageError("%v", err)
		}
		index[env.Name] = len(envs)
		envs = append(envs, env)
	}
	for _, spec := range f.envPolicyARNs {
		name, arn, ok := strings.Cut(spec, "=")
		i, known := index[name]
		if !ok || !known || !strings.HasPrefix(arn, "arn:") {
			return nil, usageError("--env-policy-arn %q: expected NAME=ARN for an environment given with --environment", spec)
		}
		envs[i].PolicyARNs = append(envs[i].PolicyARNs, arn)
	}
	return envs, nil
}

// choices turns the flags into wizard choices.
func (f *setupFlags) choices() (steps.Choices, error) {
	ch := steps.Choices{
		Audience:          f.audience,
		RoleName:          f.roleName,
		PolicyARNs:        f.policyARNs,
		MaxSessionSeconds: f.maxSession,
		VariableKey:       f.variableKey,
		VariableScope:     f.variableScope,
		Group:             f.group,
		EnvironmentScope:  f.environmentScope,
		SnippetStyle:      f.snippetStyle,
		SnippetPath:       f.snippetPath,
		CIFile:            f.gitlabCIFile,
	}
	pin := f.pinProjectID
	ch.PinProjectID = &pin
	for _, s := range f.allow {
		a, err := steps.ParseAllow(s)
		if err != nil {
			return ch, usageError("%v", err)
		}
		ch.Allow = append(ch.Allow, a)
	}
	switch f.protectedVar {
	case "auto":
	case "true", "false":
		v := f.protectedVar == "true"
		ch.Protected = &v
	default:
		return ch, usageError("--protected-variable %q: use auto, true or false", f.protectedVar)
	}
	if f.subComponents != "" {
		for _, c := range strings.Split(f.subComponents, ",") {
			ch.SubComponents = append(ch.SubComponents, strings.TrimSpace(c))
		}
	}
	for _, t := range f.templates {
		tc, err := parseTemplateFlag(t)
		if err != nil {
			return ch, err
		}
		ch.Templates = append(ch.Templates, tc)
	}
	return ch, nil
}

// parseTemplateFlag parses "s3-deploy:bucket=my-bucket,prefix=site/".
func parseTemplateFlag(s string) (steps.TemplateChoice, error) {
	id, rest, _ := strings.Cut(s, ":")
	tc := steps.TemplateChoice{ID: id, Params: map[string]string{}}
	if id == "" {
		return tc, usageError("--template %q: expected ID:param=value,...", s)
	}
	if rest == "" {
		return tc, nil
	}
	last := ""
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case ok && k != "":
			tc.Params[k] = v
			last = k
		case !ok && last != "":
			// A list value (pass_role_arns=arn1,arn2) goes on after a comma.
			tc.Params[last] += "," + kv
		default:
			return tc, usageError("--template %q: %q is not param=value", s, kv)
		}
	}
	return tc, nil
}

func runSetup(ctx context.Context, cmd *cobra.Command, f *setupFlags) error {
	if f.conn.format != "text" && f.conn.format != "json" {
		return usageError("--format %q: use text or json", f.conn.format)
	}
	if f.export != "" && f.export != "terraform" && f.export != "cloudformation" {
		return usageError("--export %q: use terraform or cloudformation", f.export)
	}
	// --format json promises nothing but JSON on stdout; the snippet and an
	// export to stdout are YAML, HCL or JSON of another shape.
	if f.conn.format == "json" && f.printSnippet {
		return usageError("--print-snippet prints the YAML snippet, not JSON: drop --format json")
	}
	if f.conn.format == "json" && f.export != "" && (f.output == "" || f.output == "-") {
		return usageError("--export %s prints %s, not the JSON report: drop --format json, or write it to a file with -o FILE", f.export, f.export)
	}
	if f.output != "" && f.export == "" {
		return usageError("-o/--output is the file for --export: pass --export terraform|cloudformation too")
	}
	ch, err := f.choices()
	if err != nil {
		return err
	}
	if err := f.preflight(); err != nil {
		return err
	}
	runner, err := f.conn.runner(ctx, cmd)
	if err != nil {
		return err
	}
	runner.Env.RoleName, runner.Env.VariableKey = f.roleName, f.variableKey
	runner.Env.VariableScope, runner.Env.VariableGroup = f.variableScope, f.group
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	// The wizard sets up one role for one project; several environments or
	// projects, exports and dry runs are the plain twin's.
	scripted := f.printSnippet || f.dryRun || f.export != "" || len(f.environments) > 0 || f.projectsFile != "" || f.batchGroup != ""
	if !f.conn.plain(cmd) && !scripted {
		return runSetupTUI(ctx, cmd, runner, ch, f)
	}
	return runSetupPlain(ctx, runner, ch, f, cmd.InOrStdin(), stdout, stderr)
}

// preflight checks what needs no AWS or GitLab call before connecting, so
// that a mistyped value or a missing file is reported at once and not after
// the connection lines (or a credentials prompt).
func (f *setupFlags) preflight() error {
	if f.maxSession < 3600 || f.maxSession > 43200 {
		return usageError("--max-session %d: IAM allows 3600 to 43200 seconds (1 to 12 hours)", f.maxSession)
	}
	if f.projectsFile != "" && f.batchGroup != "" {
		return usageError("use --projects or --group, not both")
	}
	if f.projectsFile == "" {
		return nil
	}
	file, err := os.Open(f.projectsFile)
	if err != nil {
		return usageError("--projects: %v", err)
	}
	defer file.Close()
	if f.listed, err = steps.ReadProjectList(file); err != nil {
		return usageError("--projects %s: %v", f.projectsFile, err)
	}
	return nil
}

// runSetupTUI is replaced by the wizard in setup_tui.go.
var runSetupTUI = func(ctx context.Context, cmd *cobra.Command, r *steps.Runner, ch steps.Choices, f *setupFlags) error {
	return runSetupPlain(ctx, r, ch, f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
}

// setupReport is --format json's output.
type setupReport struct {
	Simulated   bool            `json:"simulated"`
	DryRun      bool            `json:"dry_run"`
	ProviderARN string          `json:"provider_arn"`
	RoleARN     string          `json:"role_arn"`
	Roles       []roleReport    `json:"roles,omitempty"`
	Variable    string          `json:"variable"`
	SnippetPath string          `json:"snippet_path"`
	TrustPolicy json.RawMessage `json:"trust_policy,omitempty"`
	Warnings    []string        `json:"warnings,omitempty"`
	Changes     []steps.Change  `json:"changes"`
	Writes      int             `json:"writes"`
}

// roleReport names each environment's role when there are several.
type roleReport struct {
	Environment string `json:"environment"`
	RoleARN     string `json:"role_arn"`
}

func runSetupPlain(ctx context.Context, r *steps.Runner, ch steps.Choices, f *setupFlags, stdin io.Reader, stdout, stderr io.Writer) error {
	p := newPrinter(stderr, noColor())
	if r.Env.Simulated {
		p.line("SIMULATED (demo): an in-process AWS account and GitLab project; nothing leaves this machine")
	}
	envs, err := f.environmentChoices()
	if err != nil {
		return err
	}
	p.step("Connecting to AWS, GitLab and the issuer")
	conn, err := r.Connect(ctx)
	if err != nil {
		return err
	}
	printConnection(p, conn)
	if f.projectsFile != "" || f.batchGroup != "" {
		return runBatch(ctx, r, conn, ch, f, stdout, p)
	}
	if len(conn.Problems) > 0 {
		return fmt.Errorf("setup cannot continue:\n  - %s", strings.Join(conn.Problems, "\n  - "))
	}
	var plans []steps.Plan
	if len(envs) > 0 {
		plans, err = r.PlanEnvironments(conn, ch, envs)
	} else {
		var plan steps.Plan
		plan, err = r.Plan(conn, ch)
		plans = []steps.Plan{plan}
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	plan := plans[0]
	for _, pl := range plans {
		for _, arn := range pl.PolicyARNs {
			if steps.IsAdministrator(arn) && !f.allowAdmin {
				return usageError("%s gives every allowed job full control of the account; pass --allow-admin to confirm, or choose a narrower policy or --template", arn)
			}
		}
	}
	if f.printSnippet {
		snippet, err := steps.RenderSnippet(steps.CombinedSnippetSpec(plans))
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, snippet)
		return nil
	}
	if f.export != "" {
		if len(plans) > 1 {
			return usageError("--export writes one role; run it once per environment")
		}
		return runExport(plan, conn, f, stdout, stderr)
	}
	preview, err := r.PreviewAll(ctx, plans, decisionsFor(f.yes))
	if err != nil {
		return err
	}
	printPlan(p, plans, preview)
	report := setupReport{
		Simulated: r.Env.Simulated, DryRun: f.dryRun,
		ProviderARN: plan.ProviderARN(), RoleARN: plan.RoleARN(),
		Variable: plan.Variable.Key, SnippetPath: plan.SnippetPath,
		Warnings: plan.Warnings,
	}
	if len(plans) == 1 {
		report.TrustPolicy = json.RawMessage(preview.TrustPolicy)
	}
	for _, pl := range plans {
		if pl.Environment != "" {
			report.Roles = append(report.Roles, roleReport{Environment: pl.Environment, RoleARN: pl.RoleARN()})
		}
	}
	if f.dryRun {
		report.Changes = preview.Changes
		return writeSetupReport(stdout, f.conn.format, report, plans, preview, true)
	}
	if len(preview.Conflicts) > 0 && !f.yes {
		var names []string
		for _, c := range preview.Conflicts {
			names = append(names, c.Resource+" "+c.Name)
		}
		question := fmt.Sprintf("These exist and differ from the plan (diffs above): %s. Apply the changes shown?", strings.Join(names, ", "))
		if !confirm(stdin, stderr, question) {
			return fmt.Errorf("nothing changed: %s differ from the plan; rerun with --yes to apply the changes shown, or choose other names", strings.Join(names, ", "))
		}
		f.yes = true
	}
	if !steps.HasWrites(preview.Changes) {
		p.ok("Nothing to do: AWS, GitLab and the files already match the plan (no write calls made)")
		report.Changes = preview.Changes
		return writeSetupReport(stdout, f.conn.format, report, plans, preview, false)
	}
	if r.Env.Simulated {
		f.yes = true // nothing real changes in the demo: show the whole flow
	}
	if !f.yes && !confirm(stdin, stderr, "Apply the changes above?") {
		return usageError("setup would make the changes above; pass --yes to apply them (or --dry-run to only print the plan)")
	}
	changes, err := r.ApplyAll(ctx, plans, decisionsFor(true), func(s steps.Step, ch []steps.Change, err error, took time.Duration) {
		if err != nil {
			p.fail(fmt.Sprintf("%s (%s): %v", s.Title, took.Round(time.Millisecond), err))
			return
		}
		p.ok(fmt.Sprintf("%s: %s (%s)", s.Title, summarize(ch), took.Round(time.Millisecond)))
	})
	report.Changes = changes
	for _, c := range changes {
		if c.IsWrite() && c.Applied {
			report.Writes++
		}
	}
	if err != nil {
		printDone(p, changes)
		if errors.Is(err, context.Canceled) {
			return &exitError{code: exitAborted, err: fmt.Errorf("aborted; %s", doneSentence(changes))}
		}
		return fmt.Errorf("%w\n%s; run setup again to finish: every step is idempotent", err, doneSentence(changes))
	}
	if f.handout != "" {
		if err := writeHandoutFile(f.handout, plan, preview.Snippet, changes); err != nil {
			return err
		}
		p.ok("Hand-out written to " + f.handout)
	}
	return writeSetupReport(stdout, f.conn.format, report, plans, preview, false)
}

// confirm asks a yes/no question when stdin is a terminal; without one the
// answer is no (scripts pass --yes).
func confirm(stdin io.Reader, stderr io.Writer, question string) bool {
	file, ok := stdin.(*os.File)
	if !ok || !isTerminal(file) {
		return false
	}
	fmt.Fprintf(stderr, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(file).ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}

func decisionsFor(yes bool) steps.Decisions {
	return steps.Decisions{AddTrustStatement: yes, AddClientID: yes, ReplaceVariable: yes, OverwriteFiles: yes}
}

func summarize(changes []steps.Change) string {
	if len(changes) == 0 {
		return "nothing to do"
	}
	var parts []string
	for _, c := range changes {
		parts = append(parts, string(c.Action)+" "+c.Name)
	}
	return strings.Join(parts, ", ")
}

// doneSentence says what exists now after a partial run.
func doneSentence(changes []steps.Change) string {
	var done []string
	for _, c := range changes {
		if c.Applied && c.IsWrite() {
			done = append(done, string(c.Action)+"d "+c.Resource+" "+c.Name)
		}
	}
	if len(done) == 0 {
		return "nothing was changed"
	}
	return "already done: " + strings.Join(done, "; ")
}

func writeSetupReport(w io.Writer, format string, r setupReport, plans []steps.Plan, pv steps.Preview, dryRun bool) error {
	if format == "json" {
		if r.Changes == nil {
			r.Changes = []steps.Change{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if dryRun {
		fmt.Fprintf(w, "Dry run: no write call was made.\n\nTrust policy:\n%s\n", pv.TrustPolicy)
		return nil
	}
	for _, p := range plans {
		label := "Role ARN:"
		if p.Environment != "" {
			label = "Role ARN (" + p.Environment + "):"
		}
		fmt.Fprintf(w, "%-22s %s\n", label, p.RoleARN())
	}
	plan := plans[0]
	fmt.Fprintf(w, "%-22s %s (%s variable)\n%-22s %s\nNext: push to a ref the role allows and watch the aws-oidc-check job.\nIf it fails: gitlab-oidc doctor --role-arn %s --job <job URL>\n",
		"Variable:", plan.Variable.Key, plan.Variable.Scope, "Snippet:", plan.SnippetPath, plan.RoleARN())
	return nil
}

func writeHandoutFile(path string, plan steps.Plan, snippet string, changes []steps.Change) error {
	body := steps.RenderHandout(plan, snippet, changes)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		return fmt.Errorf("write hand-out %s: %w", path, err)
	}
	return nil
}
