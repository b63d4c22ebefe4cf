package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/policy"
)

// auditFlags are the audit command's flags.
type auditFlags struct {
	roleARNs    []string
	trustFiles  []string
	issuers     []string
	format      string
	failOn      string
	concurrency int
	profile     string
	region      string
	noTUI       bool
	demo        bool
	discover    bool
}

// auditRun is what the audit screen gets from the command: how to run the
// audit (reporting progress) and the threshold the exit code uses.
type auditRun struct {
	Audit  func(ctx context.Context, progress func(done, total int)) (diagnose.AuditReport, error)
	FailOn diagnose.Severity
}

// runAuditTUI shows the audit in the terminal UI. It is set by the ui
// wiring once the audit screen exists; while it is nil the command prints
// plain output.
var runAuditTUI func(ctx context.Context, cmd *cobra.Command, run auditRun) (diagnose.AuditReport, error)

var (
	auditFormats  = []string{"text", "json", "markdown"}
	failOnChoices = []diagnose.Severity{diagnose.SeverityCritical, diagnose.SeverityHigh, diagnose.SeverityMedium, diagnose.SeverityLow}
)

func newAuditCmd() *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Flag roles whose trust policy lets the wrong GitLab projects in",
		Long: `audit reads the IAM roles that trust a GitLab OIDC provider and flags trust
policies that let more projects, branches or tokens in than intended: no sub
condition, group wildcards, any ref, ForAllValues or negated operators, no aud,
paths that can be taken over, administrator permissions, long sessions.

Every role in the account is read unless --role-arn names some. --trust-policy
audits policy files offline, without any AWS call. Providers count as GitLab
when their host is gitlab.com or contains "gitlab", when named with --issuer,
or (with --discover) when their discovery document is GitLab's.

Results go to stdout, progress to stderr. --fail-on makes the exit code 1 when
a finding is at or above the given severity, for CI.`,
		Example: `  gitlab-oidc audit --demo
  gitlab-oidc audit --profile prod --format markdown > audit.md
  gitlab-oidc audit --issuer https://code.example.com --fail-on high --format json
  gitlab-oidc audit --trust-policy trust.json --fail-on critical`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.roleARNs, "role-arn", nil, "audit only this role, by ARN or name (repeatable; default: every role that trusts GitLab)")
	fl.StringArrayVar(&f.trustFiles, "trust-policy", nil, "audit this trust policy JSON file offline, no AWS call (repeatable)")
	fl.StringArrayVar(&f.issuers, "issuer", nil, "also treat this issuer URL as GitLab, for self-managed hosts without \"gitlab\" in the name (repeatable)")
	fl.StringVar(&f.format, "format", "text", "output format: text, json or markdown")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding is at or above: critical, high, medium or low (default: never)")
	fl.IntVar(&f.concurrency, "concurrency", diagnose.DefaultAuditConcurrency, "roles read at once")
	fl.StringVar(&f.profile, "profile", "", "AWS shared config profile (default: the default credential chain)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: from the profile or AWS_REGION; us-east-1 if none)")
	fl.BoolVar(&f.noTUI, "no-tui", false, "plain output (also without a terminal, ACCESSIBLE=1 or TERM=dumb)")
	fl.BoolVar(&f.demo, "demo", false, "audit a simulated account with a few typical roles (nothing leaves this machine)")
	fl.BoolVar(&f.discover, "discover", false, "fetch each other provider's /.well-known/openid-configuration to recognise GitLab instances")
	return cmd
}

// validate checks flag values and combinations before anything is read.
func (f *auditFlags) validate() (diagnose.Severity, error) {
	if !slices.Contains(auditFormats, f.format) {
		return "", usageError("--format %q: use text, json or markdown", f.format)
	}
	var failOn diagnose.Severity
	if f.failOn != "" {
		failOn = diagnose.Severity(f.failOn)
		if !slices.Contains(failOnChoices, failOn) {
			return "", usageError("--fail-on %q: use critical, high, medium or low", f.failOn)
		}
	}
	if f.concurrency < 1 || f.concurrency > 64 {
		return "", usageError("--concurrency %d: use 1 to 64 (IAM throttles an account's requests as a whole)", f.concurrency)
	}
	if len(f.trustFiles) > 0 && (f.demo || len(f.roleARNs) > 0) {
		return "", usageError("--trust-policy audits files offline and cannot be combined with --demo or --role-arn")
	}
	// A file that cannot be read or is not a policy is a usage problem
	// (exit 2), reported before any progress line.
	for _, name := range f.trustFiles {
		data, err := os.ReadFile(name)
		if err != nil {
			return "", usageError("--trust-policy: %v", err)
		}
		if _, err := policy.Parse(data); err != nil {
			return "", usageError("--trust-policy %s: %v", name, err)
		}
	}
	return failOn, nil
}

func runAudit(ctx context.Context, cmd *cobra.Command, f *auditFlags) error {
	failOn, err := f.validate()
	if err != nil {
		return err
	}
	audit, err := f.auditFunc(ctx)
	if err != nil {
		return err
	}
	var rep diagnose.AuditReport
	if runAuditTUI != nil && !f.plain(cmd) {
		rep, err = runAuditTUI(ctx, cmd, auditRun{Audit: audit, FailOn: failOn})
		if err != nil {
			return err
		}
	} else {
		p := newPrinter(cmd.ErrOrStderr(), noColor())
		rep, err = audit(ctx, auditProgress(p, isTerminal(cmd.ErrOrStderr())))
		if err != nil {
			return err
		}
		printAuditSummary(p, rep)
		if err := writeAuditReport(cmd.OutOrStdout(), f.format, rep); err != nil {
			return err
		}
	}
	if failOn != "" && rep.AtOrAbove(failOn) {
		return &exitError{code: exitFailure, err: fmt.Errorf("%s at or above %s (--fail-on)", countAtOrAbove(rep, failOn), failOn)}
	}
	// A role named on the command line that could not be read is a failure:
	// a typo in a CI job must not pass as a clean audit.
	var unreadable []string
	for _, s := range rep.Skipped {
		if s.Unreadable {
			unreadable = append(unreadable, s.Role)
		}
	}
	if len(unreadable) > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("could not audit %s (see above): check the ARN and your IAM permissions", strings.Join(unreadable, ", "))}
	}
	return nil
}

// auditFunc picks what to audit: files, the demo account or the real one.
// The AWS configuration is loaded here so that a credentials problem is
// reported before any progress is shown.
func (f *auditFlags) auditFunc(ctx context.Context) (func(context.Context, func(int, int)) (diagnose.AuditReport, error), error) {
	opts := diagnose.AccountAuditOptions{Issuers: f.issuers, RoleARNs: f.roleARNs, Concurrency: f.concurrency}
	if f.discover {
		opts.IdentifyIssuer = diagnose.DiscoverGitLab(nil)
	}
	if len(f.trustFiles) > 0 {
		return func(_ context.Context, progress func(int, int)) (diagnose.AuditReport, error) {
			opts.Progress = progress
			return diagnose.AuditFiles(f.trustFiles, opts)
		}, nil
	}
	var client awsapi.IAM
	if f.demo {
		client = diagnose.DemoAccount()
		opts.Issuers = append(opts.Issuers, diagnose.DemoIssuers...)
	} else {
		cfg, err := awsapi.LoadConfig(ctx, f.profile, f.region)
		if err != nil {
			return nil, err
		}
		client = iam.NewFromConfig(cfg)
	}
	return func(ctx context.Context, progress func(int, int)) (diagnose.AuditReport, error) {
		opts.Progress = progress
		return diagnose.AuditAccount(ctx, client, opts)
	}, nil
}

// plain reports whether to print instead of starting the TUI.
func (f *auditFlags) plain(cmd *cobra.Command) bool {
	return plainMode(cmd, f.noTUI || f.format != "text")
}

// auditProgress reports progress on stderr: a line rewritten in place on a
// terminal, otherwise a line at the start and, for twenty roles or more,
// one about every tenth of them, so CI logs stay short.
func auditProgress(p *printer, tty bool) func(done, total int) {
	step := 1
	return func(done, total int) {
		switch {
		case done == 0:
			p.step("auditing " + plural(total, "role"))
			step = max(1, total/10)
			if total < 20 {
				step = total // a short audit needs no intermediate lines
			}
		case tty:
			fmt.Fprintf(p.w, "\r  %d/%d", done, total)
			if done == total {
				fmt.Fprintln(p.w)
			}
		case done%step == 0 && done != total:
			p.plain(fmt.Sprintf("%d/%d", done, total))
		}
	}
}

// printAuditSummary reports on stderr what was looked at and what was
// left out, so that stdout holds only the report.
func printAuditSummary(p *printer, rep diagnose.AuditReport) {
	for _, pr := range rep.Providers {
		if pr.GitLab {
			p.ok(fmt.Sprintf("GitLab provider %s (%s)", pr.URL, pr.Why))
		}
	}
	for _, n := range rep.Notes {
		p.warn(n)
	}
	for _, s := range rep.Skipped {
		p.warn(fmt.Sprintf("skipped %s: %s", s.Role, s.Reason))
	}
	p.ok(fmt.Sprintf("%s trust GitLab, of %s looked at", plural(len(rep.Roles), "role"), plural(rep.Scanned, "role")))
}

func countAtOrAbove(rep diagnose.AuditReport, threshold diagnose.Severity) string {
	if n := rep.RolesAtOrAbove(threshold); n != 1 {
		return fmt.Sprintf("%d roles have findings", n)
	}
	return "1 role has findings"
}
