package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/steps"
)

// doctorFlags are the doctor command's flags.
type doctorFlags struct {
	tokenFile, tokenEnv, jwksFile   string
	errorText, jobLog               string
	roleARN, trustPolicy            string
	providerURL                     string
	clientIDs, thumbprints          []string
	maxSession                      string
	jobURL, project, gitlabURL      string
	jobID                           int64
	ciFile                          string
	offline, privateIssuerOK, noTUI bool
	now, format, profile, region    string
	demo                            bool
	applyFix, yes                   bool
}

// doctorRun is what the doctor screen gets from the command: how to collect
// the evidence (a spinner runs meanwhile) and how to judge it.
type doctorRun struct {
	Collect  func(ctx context.Context) (*diagnose.Evidence, error)
	Diagnose func(*diagnose.Evidence) []diagnose.Finding
	// Apply applies a finding's patch with the clients Collect used (with
	// write false it only previews); nil when nothing can be applied
	// (--offline).
	Apply func(ctx context.Context, p *diagnose.Patch, write bool) ([]steps.Change, error)
	// Simulated is set for --demo: every frame says so.
	Simulated bool
}

// runDoctorTUI shows the doctor in the terminal UI and returns the findings
// it showed, for the exit code. It is set by the ui wiring once the doctor
// screens exist; while it is nil the command prints the plain report.
var runDoctorTUI func(ctx context.Context, cmd *cobra.Command, run doctorRun) ([]diagnose.Finding, error)

// doctorProbeTimeout is STS's own budget per request.
const doctorProbeTimeout = issuer.DefaultTimeout

func newDoctorCmd() *cobra.Command {
	var f doctorFlags
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Explain why AssumeRoleWithWebIdentity failed for a job",
		Long: `doctor finds out why a GitLab job could not exchange its ID token for AWS
credentials, and says how to fix it. Give it what you have: the token, the
error message or the job log, the job URL, the role. It reads the rest (the
role's trust policy and the account's OIDC providers from IAM, the job, its
project and variables from GitLab, the issuer's discovery document and keys)
and evaluates the trust policy against the token exactly as IAM does.

Without a token, the job's sub claim is predicted from the project's settings
and the job's ref (the report says so). Findings come most likely first:
the error message decides which checks are suspects. The token itself is never
printed; only its claims.

With --apply-fix, doctor then applies the first error's fix when it can (a
trust policy it read from IAM, the settings of the role ARN variable): it
shows the difference and asks, or applies it with --yes; it re-reads the role
first and refuses if it changed meanwhile. In the terminal UI, a on the Fix
screen does the same.

Results go to stdout, notes to stderr. Exit code 0 when nothing is wrong
(after an applied fix: when nothing is left), 1 when a finding is an error,
2 for bad flags or a fix that was not confirmed.`,
		Example: `  gitlab-oidc doctor --job https://gitlab.example.com/acme/app/-/jobs/123 --role-arn arn:aws:iam::123456789012:role/deploy
  gitlab-oidc doctor --token-env GITLAB_OIDC_TOKEN --error "$(cat error.txt)" --role-arn arn:aws:iam::123456789012:role/deploy
  gitlab-oidc doctor --offline --token-file token.jwt --trust-policy trust.json --provider-url https://gitlab.com --client-id sts.amazonaws.com
  gitlab-oidc doctor --job-log job.log --format json
  gitlab-oidc doctor --job https://gitlab.example.com/acme/app/-/jobs/123 --role-arn arn:aws:iam::123456789012:role/deploy --apply-fix
  gitlab-oidc doctor --demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd.Context(), cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tokenFile, "token-file", "", "read the job's ID token from FILE (- for stdin); it is never printed")
	fl.StringVar(&f.tokenEnv, "token-env", "", "read the job's ID token from the environment variable NAME")
	fl.StringVar(&f.jwksFile, "jwks-file", "", "check the token's signature with this JWK set instead of the issuer's")
	fl.StringVar(&f.errorText, "error", "", "the STS error message the job printed")
	fl.StringVar(&f.jobLog, "job-log", "", "the job's log FILE (- for stdin; default: read from GitLab with --job)")
	fl.StringVar(&f.roleARN, "role-arn", "", "the role the job tried to assume")
	fl.StringVar(&f.trustPolicy, "trust-policy", "", "use this trust policy JSON FILE instead of the role's (to test a change)")
	fl.StringVar(&f.providerURL, "provider-url", "", "the IAM OIDC provider's URL, when IAM cannot be read")
	fl.StringArrayVar(&f.clientIDs, "client-id", nil, "a client ID (audience) of that provider (repeatable)")
	fl.StringArrayVar(&f.thumbprints, "thumbprint", nil, "a thumbprint of that provider (repeatable)")
	fl.StringVar(&f.maxSession, "max-session", "", "the role's MaxSessionDuration (seconds or 1h), when IAM cannot be read")
	fl.StringVar(&f.jobURL, "job", "", "the failing job's URL, e.g. https://gitlab.example.com/group/project/-/jobs/123")
	fl.StringVar(&f.project, "project", "", "the job's project path or ID (with --job-id)")
	fl.Int64Var(&f.jobID, "job-id", 0, "the failing job's ID (with --project)")
	fl.StringVar(&f.ciFile, "ci-file", "", "the pipeline file to check (default: .gitlab-ci.yml here, when present)")
	fl.BoolVar(&f.offline, "offline", false, "make no network call: use only the given token, texts and files")
	fl.BoolVar(&f.privateIssuerOK, "private-issuer-ok", false, "the issuer is private on purpose (ci_id_tokens_issuer_url publishes a public copy): probe it anyway and do not report its address")
	fl.StringVar(&f.now, "now", "", "judge exp/nbf at this RFC3339 time (default: the failure time in the log, else now)")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.BoolVar(&f.noTUI, "no-tui", false, "plain output (also without a terminal, ACCESSIBLE=1 or TERM=dumb)")
	fl.StringVar(&f.profile, "profile", "", "AWS shared config profile (default: the default credential chain)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: from the profile or AWS_REGION; us-east-1 if none)")
	fl.BoolVar(&f.demo, "demo", false, "diagnose a simulated failed job (a tag job denied by a branch-only role); needs no credentials, nothing leaves this machine")
	fl.BoolVar(&f.applyFix, "apply-fix", false, "after the report, apply the first error's fix when doctor can (trust policy read from IAM, role ARN variable settings): shows the difference, then asks")
	fl.BoolVar(&f.yes, "yes", false, "with --apply-fix: apply the fix without asking")
	fl.StringVar(&f.gitlabURL, "gitlab-url", "", "GitLab URL, for --project/--job-id or an instance under a relative URL root (default: from --job, else GITLAB_URL, else https://gitlab.com)")
	return cmd
}

func runDoctor(ctx context.Context, cmd *cobra.Command, f *doctorFlags) error {
	opts, err := f.options(cmd.InOrStdin())
	if err != nil {
		return err
	}
	sources := f.sources
	if f.demo {
		if opts, sources, err = f.demoInputs(cmd, opts); err != nil {
			return err
		}
	}
	used := &usedSources{}
	collect := func(ctx context.Context) (*diagnose.Evidence, error) {
		src, gaps := sources(ctx, opts)
		ev, err := diagnose.Collect(ctx, opts, used.set(src))
		if err != nil {
			return nil, err
		}
		ev.Notes = append(gaps, ev.Notes...)
		return ev, nil
	}
	var findings []diagnose.Finding
	if runDoctorTUI != nil && !f.plain(cmd) {
		run := doctorRun{Collect: collect, Diagnose: diagnose.Diagnose, Simulated: f.demo}
		if !opts.Offline {
			run.Apply = used.apply
		}
		findings, err = runDoctorTUI(ctx, cmd, run)
		if err != nil {
			return err
		}
	} else {
		ev, err := collect(ctx)
		if err != nil {
			return usageError("%v", err)
		}
		findings = diagnose.Diagnose(ev)
		for _, n := range ev.Notes {
			fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
		}
		if hint := unexplained(ev, findings); hint != "" {
			fmt.Fprintln(cmd.ErrOrStderr(), "note:", hint)
		}
		if err := writeDoctorReport(cmd.OutOrStdout(), f.format, ev, findings); err != nil {
			return err
		}
		if f.applyFix {
			if findings, err = f.applyFirstFix(ctx, cmd, ev, findings, used); err != nil {
				return err
			}
		}
	}
	if diagnose.HasError(findings) {
		return &exitError{code: exitFailure, err: fmt.Errorf("%s: %s", findings[0].ID, findings[0].Title)}
	}
	return nil
}

// plain reports whether to print instead of starting the TUI. --apply-fix
// is the plain twin of the Fix screen's a key.
func (f *doctorFlags) plain(cmd *cobra.Command) bool {
	if f.applyFix {
		return true
	}
	return plainMode(cmd, f.noTUI || f.format != "text")
}

// options checks the flags and reads every local input. Every problem is a
// usage error: nothing has been asked of AWS or GitLab yet.
func (f *doctorFlags) options(stdin io.Reader) (diagnose.CollectOptions, error) {
	var o diagnose.CollectOptions
	switch {
	case f.format != "text" && f.format != "json":
		return o, usageError("--format %q: use text or json", f.format)
	case f.tokenFile != "" && f.tokenEnv != "":
		return o, usageError("--token-file and --token-env both give the token: pass one")
	case f.tokenFile == "-" && f.jobLog == "-":
		return o, usageError("--token-file - and --job-log - cannot both read stdin")
	case f.jobURL != "" && (f.project != "" || f.jobID != 0):
		return o, usageError("--job names the job already: drop --project/--job-id")
	case (f.project != "") != (f.jobID != 0):
		return o, usageError("--project and --job-id go together (or pass --job URL)")
	case len(f.clientIDs)+len(f.thumbprints) > 0 && f.providerURL == "":
		return o, usageError("--client-id and --thumbprint describe the provider given with --provider-url")
	case f.applyFix && f.offline:
		return o, usageError("--apply-fix changes the role or the variable through AWS or GitLab: drop --offline")
	case f.yes && !f.applyFix:
		return o, usageError("--yes answers --apply-fix's question: pass --apply-fix too")
	}
	o.ErrorText, o.RoleARN, o.ProviderURL = f.errorText, f.roleARN, f.providerURL
	o.ClientIDs, o.Thumbprints = f.clientIDs, f.thumbprints
	o.JobURL, o.Project, o.JobID, o.GitLabURL = f.jobURL, f.project, f.jobID, f.gitlabURL
	o.Offline, o.PrivateIssuerOK = f.offline, f.privateIssuerOK
	if f.project != "" && o.GitLabURL == "" {
		o.GitLabURL = doctorGitLabURL()
	}
	if f.now != "" {
		t, err := time.Parse(time.RFC3339, f.now)
		if err != nil {
			return o, usageError("--now %q: use RFC3339, e.g. 2026-03-14T15:09:26Z", f.now)
		}
		o.Now = t
	}
	if f.maxSession != "" {
		secs, err := parseSeconds(f.maxSession)
		if err != nil {
			return o, usageError("--max-session %q: %v", f.maxSession, err)
		}
		o.MaxSession = secs
	}
	if err := f.readToken(&o, stdin); err != nil {
		return o, err
	}
	var err error
	if f.jwksFile != "" {
		if o.JWKS, err = readInput(f.jwksFile, stdin); err != nil {
			return o, err
		}
		o.JWKSSource = f.jwksFile
	}
	if f.trustPolicy != "" {
		if o.TrustPolicy, err = readInput(f.trustPolicy, stdin); err != nil {
			return o, err
		}
		o.TrustPolicySource = f.trustPolicy
	}
	if f.jobLog != "" {
		r, err := openInput(f.jobLog, stdin)
		if err != nil {
			return o, err
		}
		o.JobLog = r
	}
	o.CIFile = f.ciFile
	if o.CIFile == "" {
		if _, err := os.Stat(".gitlab-ci.yml"); err == nil {
			o.CIFile = ".gitlab-ci.yml"
		}
	}
	return o, nil
}

// readToken reads the token from a file or the environment. A file's one
// trailing line break is dropped (editors add it); anything else is kept,
// since stray whitespace is itself a cause.
func (f *doctorFlags) readToken(o *diagnose.CollectOptions, stdin io.Reader) error {
	switch {
	case f.tokenFile != "":
		b, err := readInput(f.tokenFile, stdin)
		if err != nil {
			return err
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		o.Token, o.TokenGiven, o.TokenSource = s, true, "file "+f.tokenFile
	case f.tokenEnv != "":
		v, ok := os.LookupEnv(f.tokenEnv)
		o.Token, o.TokenGiven, o.TokenSource = v, true, "env "+f.tokenEnv
		if !ok {
			o.TokenSource += " (not set)"
		}
	}
	return nil
}

// maxInputBytes bounds the files doctor reads whole (tokens, policies, JWK
// sets); job logs are streamed and keep their tail.
const maxInputBytes = 4 << 20

func openInput(name string, stdin io.Reader) (io.Reader, error) {
	if name == "-" {
		return stdin, nil
	}
	fh, err := os.Open(name)
	if err != nil {
		// os.Open's error already names the operation and the file.
		return nil, usageError("%v", err)
	}
	return fh, nil
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	r, err := openInput(name, stdin)
	if err != nil {
		return nil, err
	}
	if c, ok := r.(io.Closer); ok && name != "-" {
		defer c.Close()
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, usageError("read %s: %v", name, err)
	}
	if len(b) > maxInputBytes {
		return nil, usageError("%s is larger than %d bytes", name, maxInputBytes)
	}
	return b, nil
}

// parseSeconds reads "3600" or a Go duration such as "1h".
func parseSeconds(s string) (int32, error) {
	if n, err := strconv.ParseInt(s, 10, 32); err == nil && n > 0 {
		return int32(n), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second || d > 24*time.Hour {
		return 0, fmt.Errorf("use seconds (3600) or a duration (1h)")
	}
	return int32(d / time.Second), nil
}

func doctorGitLabURL() string {
	if u := os.Getenv("GITLAB_URL"); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	return "https://gitlab.com"
}

// sources wires the real clients for what the options need. A source that
// cannot be set up (no credentials, no GitLab token) is left out; Collect
// then works with the rest, and the returned notes say what was not read
// and how to provide it, so that a thin report is not mistaken for a
// healthy setup.
func (f *doctorFlags) sources(ctx context.Context, o diagnose.CollectOptions) (diagnose.Sources, []string) {
	var src diagnose.Sources
	var gaps []string
	if o.Offline {
		return src, nil
	}
	src.Probe = func(ctx context.Context, url string) issuer.Report {
		return issuer.Probe(ctx, url, issuer.Options{Timeout: doctorProbeTimeout, AllowPrivate: f.privateIssuerOK})
	}
	if o.RoleARN != "" || o.Token != "" || o.JobURL != "" || o.Project != "" {
		cfg, err := awsapi.LoadConfig(ctx, f.profile, f.region)
		if err != nil {
			gaps = append(gaps, fmt.Sprintf("AWS: IAM not read (the role, the OIDC providers): %v", err))
		} else {
			src.IAM = iam.NewFromConfig(cfg)
		}
	}
	if base := f.gitlabBase(o); base != "" {
		host := urlHost(base)
		tok, _ := gitlabapi.TokenFromEnvironment(host)
		if tok == "" {
			gaps = append(gaps, fmt.Sprintf("GitLab: the job, its log and variables not read: no GitLab token for %s; set GITLAB_TOKEN (read_api scope, Reporter or above) or log in with glab auth login", host))
		} else if gl, err := gitlabapi.New(base, tok, nil); err != nil {
			gaps = append(gaps, fmt.Sprintf("GitLab: the job, its log and variables not read: %v", err))
		} else {
			src.GitLab = gl
		}
	}
	return src, gaps
}

// gitlabBase is the instance the job lives on.
func (f *doctorFlags) gitlabBase(o diagnose.CollectOptions) string {
	if o.JobURL != "" {
		if ref, err := diagnose.ParseJobURL(o.JobURL, o.GitLabURL); err == nil {
			return ref.BaseURL
		}
		return ""
	}
	if o.Project != "" {
		return o.GitLabURL
	}
	return ""
}

// unexplained says what to add when STS reported an error that no finding
// explains: the evidence was too thin, not the setup healthy.
func unexplained(ev *diagnose.Evidence, fs []diagnose.Finding) string {
	if ev.Log == nil || ev.Log.STS == nil || diagnose.HasError(fs) {
		return ""
	}
	var want []string
	if ev.Token == nil {
		want = append(want, "the token (--token-env/--token-file) or the job (--job)")
	}
	if ev.Role == nil || ev.Role.Trust == nil {
		want = append(want, "the role (--role-arn, or --trust-policy)")
	}
	if ev.Offline {
		want = append(want, "network access (drop --offline) to read IAM, GitLab and the issuer")
	}
	if len(want) == 0 {
		return fmt.Sprintf("STS said %s but no cause was proven from this evidence; check the job's pipeline file (--ci-file) and that the role ARN is the one the job used", ev.Log.STS.Code)
	}
	return fmt.Sprintf("STS said %s, which nothing here explains yet: give doctor %s", ev.Log.STS.Code, strings.Join(want, ", "))
}

// doctorJSON is the --format json shape.
type doctorJSON struct {
	Findings  []doctorJSONFinding `json:"findings"`
	Claims    map[string]any      `json:"claims"`
	Predicted bool                `json:"predicted"`
}

type doctorJSONFinding struct {
	ID       string            `json:"id"`
	Severity diagnose.Severity `json:"severity"`
	Title    string            `json:"title"`
	Evidence []string          `json:"evidence"`
	Fix      string            `json:"fix"`
}

func writeDoctorReport(w io.Writer, format string, ev *diagnose.Evidence, fs []diagnose.Finding) error {
	if format == "json" {
		out := doctorJSON{Findings: []doctorJSONFinding{}, Claims: map[string]any{}, Predicted: ev.Predicted}
		for _, f := range fs {
			out.Findings = append(out.Findings, doctorJSONFinding{ID: f.ID, Severity: f.Severity, Title: f.Title, Evidence: nonNil(f.Evidence), Fix: f.Fix})
		}
		if ev.Token != nil && ev.Token.Claims.Raw != nil {
			out.Claims = ev.Token.Claims.Raw
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	return writeDoctorText(w, ev, fs)
}

// claimOrder puts the claims that decide an exchange first.
var claimOrder = []string{"iss", "aud", "sub", "ref", "ref_type", "ref_protected", "project_path", "project_id", "exp", "iat", "nbf"}

func writeDoctorText(w io.Writer, ev *diagnose.Evidence, fs []diagnose.Finding) error {
	var b strings.Builder
	writeClaims(&b, ev)
	if len(fs) == 0 {
		b.WriteString("\nNo problem found")
		if ev.Token == nil && ev.Role == nil {
			b.WriteString(": give doctor more to work with (--token-env, --job, --role-arn, --error)")
		}
		b.WriteString(".\n")
	} else {
		fmt.Fprintf(&b, "\nFindings, most likely cause first (%d):\n", len(fs))
	}
	for _, f := range fs {
		fmt.Fprintf(&b, "\n%s %s  %s\n", severityMark(f.Severity), f.ID, f.Title)
		for _, e := range f.Evidence {
			b.WriteString("    " + e + "\n")
		}
		if f.Fix != "" {
			b.WriteString("  fix:\n")
			for _, line := range strings.Split(strings.TrimRight(f.Fix, "\n"), "\n") {
				b.WriteString("    " + line + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeClaims(b *strings.Builder, ev *diagnose.Evidence) {
	switch {
	case ev.Token == nil && ev.TokenErr != nil:
		fmt.Fprintf(b, "Token: not a JWT (%s)\n", ev.TokenSource)
		return
	case ev.Token == nil:
		b.WriteString("Token: none given, and no job to predict its claims from\n")
		return
	case ev.Predicted:
		b.WriteString("Token: none given; claims PREDICTED from the job and the project's settings\n")
	default:
		fmt.Fprintf(b, "Token: %s from %s (alg %s, kid %s)\n", ev.Token.Redacted, ev.TokenSource, ev.Token.Header.Alg, ev.Token.Header.Kid)
	}
	raw := ev.Token.Claims.Raw
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, c string) int {
		ia, ic := slices.Index(claimOrder, a), slices.Index(claimOrder, c)
		if ia < 0 {
			ia = len(claimOrder)
		}
		if ic < 0 {
			ic = len(claimOrder)
		}
		if ia != ic {
			return ia - ic
		}
		return strings.Compare(a, c)
	})
	for _, k := range keys {
		fmt.Fprintf(b, "  %-20s %s\n", k, claimText(k, raw[k]))
	}
	if !ev.Now.IsZero() {
		fmt.Fprintf(b, "Reference time: %s (%s)\n", ev.Now.Format(time.RFC3339), ev.NowSource)
	}
}

// claimText prints a claim; NumericDates also as a time.
func claimText(name string, v any) string {
	text := fmt.Sprint(v)
	if s, ok := v.(string); ok {
		text = s
	} else if bs, err := json.Marshal(v); err == nil {
		text = string(bs)
	}
	if name == "exp" || name == "iat" || name == "nbf" {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			text += " (" + time.Unix(n, 0).UTC().Format(time.RFC3339) + ")"
		}
	}
	return text
}

func severityMark(s diagnose.Severity) string {
	switch s {
	case diagnose.SeverityError:
		return "✗ error  "
	case diagnose.SeverityWarning:
		return "! warning"
	}
	return "i info   "
}
