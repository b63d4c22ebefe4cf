package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/token/tokentest"
)

// doctorFixture is a file of the diagnose package's test data.
func doctorFixture(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "diagnose", "testdata"}, parts...)...)
}

// runDoctorCLI runs the real command line with stdin and returns the exit
// code, stdout and stderr.
func runDoctorCLI(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"doctor"}, args...), stdin, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// doctorInputs writes a signed token and its JWK set to files.
type doctorInputs struct {
	dir, keys string
	signer    *tokentest.Signer
}

func newDoctorInputs(t *testing.T) *doctorInputs {
	t.Helper()
	in := &doctorInputs{dir: t.TempDir(), signer: tokentest.NewSigner(t)}
	in.keys = filepath.Join(in.dir, "keys.json")
	if err := os.WriteFile(in.keys, in.signer.JWKSJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	return in
}

// token writes a token for ref to a file and returns the path and the raw
// token (to check that it is never printed).
func (in *doctorInputs) token(t *testing.T, ref string) (string, string) {
	t.Helper()
	raw := in.signer.Sign(tokentest.GitLabClaims(map[string]any{"ref": ref, "sub": "project_path:acme/payments:ref_type:branch:ref:" + ref}))
	path := filepath.Join(in.dir, ref+".jwt")
	if err := os.WriteFile(path, []byte(raw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, raw
}

var doctorNow = tokentest.Now.Add(time.Minute).Format(time.RFC3339)

func TestDoctorExitCodes(t *testing.T) {
	offline(t)
	in := newDoctorInputs(t)
	mainTok, _ := in.token(t, "main")
	devTok, _ := in.token(t, "develop")
	offlineArgs := func(tok string) []string {
		return []string{"--offline", "--token-file", tok, "--jwks-file", in.keys, "--now", doctorNow,
			"--trust-policy", doctorFixture("policies", "project-id.json"),
			"--provider-url", "https://gitlab.com", "--client-id", "sts.amazonaws.com"}
	}
	tests := map[string]struct {
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		"healthy offline check":  {args: offlineArgs(mainTok), code: exitOK},
		"sub for another branch": {args: offlineArgs(devTok), code: exitFailure, stderr: "sub-mismatch"},
		"empty role ARN in a log": {
			args: []string{"--offline", "--job-log", doctorFixture("logs", "aws-cli-empty-role-arn.log")},
			code: exitFailure, stderr: "role-arn-empty",
		},
		"token from stdin, expired": {
			args:  []string{"--offline", "--token-file", "-", "--now", "2026-03-14T18:00:00Z"},
			stdin: in.signer.Sign(tokentest.GitLabClaims(nil)), code: exitFailure, stderr: "token-expired",
		},
		"nothing to go on": {args: []string{"--offline"}, code: exitOK},
		"error text alone": {
			args: []string{"--offline", "--error", "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"},
			code: exitOK, stderr: "STS said AccessDenied, which nothing here explains yet: give doctor the token",
		},
		"bad format":                {args: []string{"--format", "yaml"}, code: exitUsage, stderr: "--format"},
		"two token sources":         {args: []string{"--token-file", "a", "--token-env", "B"}, code: exitUsage},
		"bad --now":                 {args: []string{"--now", "yesterday"}, code: exitUsage, stderr: "RFC3339"},
		"project without job":       {args: []string{"--project", "acme/payments"}, code: exitUsage},
		"client ID without URL":     {args: []string{"--client-id", "sts.amazonaws.com"}, code: exitUsage},
		"missing token file":        {args: []string{"--offline", "--token-file", filepath.Join(in.dir, "none")}, code: exitUsage, stderr: "gitlab-oidc: open " + filepath.Join(in.dir, "none") + ": no such file"},
		"bad role ARN":              {args: []string{"--offline", "--role-arn", "deploy"}, code: exitUsage, stderr: "role ARN"},
		"not a job URL":             {args: []string{"--offline", "--job", "https://gitlab.com/acme/payments/-/pipelines/7"}, code: exitUsage},
		"unknown flag":              {args: []string{"--tokn-file", "x"}, code: exitUsage},
		"bad --max-session":         {args: []string{"--max-session", "forever"}, code: exitUsage},
		"positional argument given": {args: []string{"token.jwt"}, code: exitUsage},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runDoctorCLI(t, strings.NewReader(tc.stdin), tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderr)
			}
		})
	}
}

func TestDoctorJSONShape(t *testing.T) {
	offline(t)
	in := newDoctorInputs(t)
	tok, raw := in.token(t, "develop")
	code, stdout, stderr := runDoctorCLI(t, strings.NewReader(""), "--offline", "--format", "json",
		"--token-file", tok, "--jwks-file", in.keys, "--now", doctorNow,
		"--trust-policy", doctorFixture("policies", "exact.json"),
		"--error", "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity")
	if code != exitFailure {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if got := sortedKeys(doc); !slices.Equal(got, []string{"claims", "findings", "predicted"}) {
		t.Fatalf("top-level keys %v", got)
	}
	var findings []map[string]json.RawMessage
	if err := json.Unmarshal(doc["findings"], &findings); err != nil || len(findings) == 0 {
		t.Fatalf("findings: %v", err)
	}
	for _, f := range findings {
		if got := sortedKeys(f); !slices.Equal(got, []string{"evidence", "fix", "id", "severity", "title"}) {
			t.Errorf("finding keys %v", got)
		}
	}
	var first struct{ ID, Severity string }
	_ = json.Unmarshal(mustJSON(t, findings[0]), &first)
	if first.ID != "sub-mismatch" || first.Severity != "error" {
		t.Errorf("first finding %+v", first)
	}
	var claims map[string]any
	_ = json.Unmarshal(doc["claims"], &claims)
	if claims["sub"] != "project_path:acme/payments:ref_type:branch:ref:develop" || string(doc["predicted"]) != "false" {
		t.Errorf("claims %v predicted %s", claims, doc["predicted"])
	}
	parts := strings.Split(raw, ".")
	for _, out := range []string{stdout, stderr} {
		if strings.Contains(out, parts[1]) || strings.Contains(out, parts[2]) {
			t.Fatal("the token's claims or signature were printed")
		}
	}
}

func TestDoctorTextReport(t *testing.T) {
	offline(t)
	in := newDoctorInputs(t)
	tok, raw := in.token(t, "develop")
	code, stdout, _ := runDoctorCLI(t, strings.NewReader(""), "--offline", "--no-tui",
		"--token-file", tok, "--jwks-file", in.keys, "--now", doctorNow,
		"--trust-policy", doctorFixture("policies", "exact.json"))
	if code != exitFailure {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"Token: eyJhbGciOi…(", "sub                  project_path:acme/payments:ref_type:branch:ref:develop",
		"✗ error   sub-mismatch", "token sub  project_path:acme/payments:ref_type:branch:ref:develop",
		"fix:", `"gitlab.com:sub": [`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, strings.Split(raw, ".")[2]) {
		t.Fatal("the signature was printed")
	}
	if i, j := strings.Index(stdout, "iss "), strings.Index(stdout, "user_login"); i < 0 || j < i {
		t.Errorf("iss must come before the other claims:\n%s", stdout)
	}
}

// TestDoctorReadsTheRoleFromIAM runs the command against moto: the trust
// policy comes from GetRole (URL-encoded), the provider from the account.
func TestDoctorReadsTheRoleFromIAM(t *testing.T) {
	_, args := fixRoleWorld(t)
	// The issuer probe cannot reach gitlab.com from here; the AccessDenied
	// text still puts the trust policy first, as STS got past the keys.
	code, stdout, stderr := runDoctorCLI(t, strings.NewReader(""), append(args, "--format", "json")...)
	if code != exitFailure {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var doc doctorJSON
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Findings[0].ID != "sub-ref-type-mismatch" {
		t.Errorf("first finding %s, want sub-ref-type-mismatch (stderr %s)", doc.Findings[0].ID, stderr)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDoctorReadsTheJobFromGitLab runs the command against the fake GitLab:
// without a token, the job, its variable settings and its log explain the
// failure, and the claims are predicted.
func TestDoctorReadsTheJobFromGitLab(t *testing.T) {
	offline(t)
	srv := gitlabfake.Start(t)
	srv.AddUser("glpat-dev", "dev")
	pid := srv.AddProject(gitlabfake.Project{ID: 4242, Path: "acme/payments", ProtectedBranches: []string{"main"}})
	srv.SetAccess("glpat-dev", "acme", gitlabapi.Maintainer)
	srv.AddPipeline(pid, gitlabapi.Pipeline{ID: 900001, Ref: "feature-x", Source: "push", Status: "failed"})
	srv.AddJob(pid, gitlabapi.Job{ID: 5550001, Name: "deploy", Ref: "feature-x", Status: "failed", PipelineID: 900001})
	srv.AddVariable(gitlabapi.VariableTarget{Kind: gitlabapi.TargetProject, ID: "4242"},
		gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/deploy", Protected: true})
	log, err := os.ReadFile(doctorFixture("logs", "aws-cli-empty-role-arn.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetTrace(pid, 5550001, string(log))
	t.Setenv("GITLAB_TOKEN", "glpat-dev")

	code, stdout, stderr := runDoctorCLI(t, strings.NewReader(""), "--format", "json", "--ci-file", doctorFixture("ci", "good.yml"),
		"--job", srv.URL+"/acme/payments/-/jobs/5550001")
	if code != exitFailure {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var doc doctorJSON
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Predicted || doc.Claims["sub"] != "project_path:acme/payments:ref_type:branch:ref:feature-x" || doc.Claims["aud"] != "sts.amazonaws.com" {
		t.Errorf("predicted=%v claims %v", doc.Predicted, doc.Claims)
	}
	f := doc.Findings[0]
	if f.ID != "role-arn-empty" || !strings.Contains(strings.Join(f.Evidence, "\n"), "is protected") {
		t.Errorf("first finding %+v", f)
	}
	if strings.Contains(stdout+stderr, "role/deploy") {
		t.Error("the variable's value was printed")
	}
}

// TestDoctorSaysWhatItCouldNotRead: a job URL without a GitLab token, or a
// role without usable AWS configuration, must not pass silently as "no job"
// or "no role": the notes name the gap and how to close it.
func TestDoctorSaysWhatItCouldNotRead(t *testing.T) {
	offline(t)
	t.Setenv("GITLAB_TOKEN", "")
	t.Setenv("GLAB_CONFIG_DIR", t.TempDir())
	tests := map[string]struct {
		args []string
		want string
	}{
		"job without a GitLab token": {
			args: []string{"--job", "http://127.0.0.1:1/acme/payments/-/jobs/12"},
			want: "note: GitLab: the job, its log and variables not read: no GitLab token for 127.0.0.1:1; set GITLAB_TOKEN",
		},
		"role without AWS configuration": {
			args: []string{"--role-arn", "arn:aws:iam::123456789012:role/deploy", "--profile", "does-not-exist"},
			want: "note: AWS: IAM not read",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, stdout, stderr := runDoctorCLI(t, strings.NewReader(""), append([]string{"--no-tui"}, tc.args...)...)
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q\nstdout:\n%s\nstderr:\n%s", tc.want, stdout, stderr)
			}
		})
	}
}
