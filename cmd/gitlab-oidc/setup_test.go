package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/testenv"
)

func TestParseTemplateFlag(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		"one param":  {in: "s3-deploy:bucket=site", want: map[string]string{"bucket": "site"}},
		"list value": {in: "ecs-deploy:cluster=c,service=s,pass_role_arns=arn:a,arn:b", want: map[string]string{"cluster": "c", "service": "s", "pass_role_arns": "arn:a,arn:b"}},
		"no id":      {in: ":bucket=x", wantErr: true},
		"not kv":     {in: "s3-deploy:bucket", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseTemplateFlag(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			for k, v := range tc.want {
				if got.Params[k] != v {
					t.Errorf("%s = %q, want %q", k, got.Params[k], v)
				}
			}
		})
	}
}

// setupWorld is moto and the fake GitLab, reached through the same flags
// and environment a user would use.
func setupWorld(t *testing.T) (*gitlabfake.Server, string, []string) {
	t.Helper()
	moto := testenv.StartMoto(t)
	fake := gitlabfake.New()
	fake.AddUser("glpat-cli", "alice")
	fake.AddProject(gitlabfake.Project{ID: 4242, Path: "acme/payments", DefaultBranch: "main",
		SubClaimComponents: []string{"project_path", "ref_type", "ref"}, ProtectedBranches: []string{"main"}})
	fake.SetAccess("glpat-cli", "acme/payments", gitlabapi.Maintainer)
	srv := gitlabfake.Serve(t, fake)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), []byte("stages: [test]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	moto.Setenv(t)
	t.Setenv("GITLAB_TOKEN", "glpat-cli")
	t.Setenv("HOME", t.TempDir())
	args := []string{"setup", "--no-tui", "--gitlab-url", srv.URL, "--project", "acme/payments", "--issuer-url", "https://gitlab.com", "--no-probe", "-C", dir}
	return srv, dir, args
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestSetupCLIDryRunThenApplyThenNothingToDo(t *testing.T) {
	srv, dir, args := setupWorld(t)

	code, out, errOut := runCLI(t, append(args, "--dry-run")...)
	if code != exitOK || !strings.Contains(out, `"gitlab.com:sub": "project_path:acme/payments:ref_type:branch:ref:main"`) {
		t.Fatalf("dry run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if len(srv.Writes()) != 0 {
		t.Fatalf("dry run wrote to GitLab: %+v", srv.Writes())
	}

	code, _, errOut = runCLI(t, args...)
	if code != exitUsage || !strings.Contains(errOut, "--yes") {
		t.Fatalf("apply without --yes and without a terminal: exit %d, stderr:\n%s", code, errOut)
	}

	code, out, errOut = runCLI(t, append(args, "--yes", "--format", "json")...)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	var report setupReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("json report: %v\n%s", err, out)
	}
	if report.RoleARN != "arn:aws:iam::123456789012:role/gitlab-acme-payments-main" || report.Writes < 4 {
		t.Fatalf("report = %+v", report)
	}
	if _, err := os.Stat(filepath.Join(dir, ".gitlab/ci/aws-oidc.yml")); err != nil {
		t.Fatal(err)
	}

	srv.ResetRequests()
	code, out, errOut = runCLI(t, append(args, "--yes", "--format", "json")...)
	if code != exitOK || !strings.Contains(errOut, "Nothing to do") || len(srv.Writes()) != 0 {
		t.Fatalf("second run: exit %d, %d GitLab writes\n%s", code, len(srv.Writes()), errOut)
	}
	_ = json.Unmarshal([]byte(out), &report)
	if report.Writes != 0 {
		t.Fatalf("second run reports %d writes", report.Writes)
	}
}

func TestSetupCLIUsageErrors(t *testing.T) {
	_, _, args := setupWorld(t)
	tests := map[string]struct {
		extra []string
		want  string
	}{
		"bad allow":       {[]string{"--allow", "main"}, "expected branch:NAME"},
		"bad format":      {[]string{"--format", "yaml"}, "--format"},
		"admin policy":    {[]string{"--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess", "--dry-run"}, "--allow-admin"},
		"unknown flag":    {[]string{"--frobnicate"}, "unknown flag"},
		"bad environment": {[]string{"--environment", "prod"}, "NAME=ALLOW"},
		"short session":   {[]string{"--max-session", "60", "--dry-run"}, "3600 to 43200"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runCLI(t, append(append([]string{}, args...), tc.extra...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, errOut, tc.want)
			}
		})
	}
}

func TestSetupCLIDemoRunsWithoutCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("GITLAB_TOKEN", "")
	code, out, errOut := runCLI(t, "setup", "--demo", "--no-tui", "--format", "json")
	if code != exitOK || !strings.Contains(out, `"simulated": true`) || !strings.Contains(errOut, "SIMULATED") {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestSetupCLIChecksFlagsBeforeConnecting: values that need no AWS or
// GitLab call to be judged wrong are refused before the connection lines.
func TestSetupCLIChecksFlagsBeforeConnecting(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "projects.txt")
	tests := map[string]struct {
		extra []string
		want  string
	}{
		"short session":            {[]string{"--max-session", "10"}, "--max-session 10: IAM allows 3600 to 43200"},
		"long session":             {[]string{"--max-session", "86400"}, "--max-session 86400"},
		"missing projects file":    {[]string{"--projects", missing}, "--projects: open " + missing + ": no such file"},
		"projects and group both":  {[]string{"--projects", missing, "--group", "acme"}, "use --projects or --group, not both"},
		"snippet is not JSON":      {[]string{"--print-snippet", "--format", "json"}, "--print-snippet prints the YAML snippet, not JSON"},
		"export to stdout as JSON": {[]string{"--export", "terraform", "--format", "json"}, "drop --format json, or write it to a file with -o FILE"},
		"output without export":    {[]string{"-o", "oidc.tf"}, "-o/--output is the file for --export"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runCLI(t, append([]string{"setup", "--demo", "--no-tui"}, tc.extra...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, errOut, tc.want)
			}
			if strings.Contains(errOut, "Connecting to AWS") {
				t.Errorf("connected before refusing the flags:\n%s", errOut)
			}
		})
	}
}
