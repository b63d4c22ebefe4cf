package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/testenv"
	"gitlab-oidc/internal/token/tokentest"
)

const accessDenied = "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"

// fixRoleWorld is moto with the gitlab.com provider and role gitlab-deploy
// allowing only branches of acme/payments, and the doctor flags (plain
// mode) for a tag job's token that it denies.
func fixRoleWorld(t *testing.T) (*iam.Client, []string) {
	t.Helper()
	m := testenv.StartMoto(t)
	m.Setenv(t)
	client := iam.NewFromConfig(m.AWSConfig())
	ctx := context.Background()
	trust, err := os.ReadFile(doctorFixture("policies", "branches-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("gitlab-deploy"), AssumeRolePolicyDocument: aws.String(string(trust))}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://gitlab.com"), ClientIDList: []string{"sts.amazonaws.com"},
	}); err != nil {
		t.Fatal(err)
	}
	in := newDoctorInputs(t)
	raw := in.signer.Sign(tokentest.GitLabClaims(map[string]any{"ref": "v2.3.0", "ref_type": "tag", "sub": "project_path:acme/payments:ref_type:tag:ref:v2.3.0"}))
	t.Setenv("GITLAB_OIDC_TOKEN", raw)
	return client, []string{"--no-tui", "--error", accessDenied,
		"--token-env", "GITLAB_OIDC_TOKEN", "--jwks-file", in.keys, "--now", doctorNow, "--private-issuer-ok",
		"--role-arn", "arn:aws:iam::" + m.AccountID + ":role/gitlab-deploy", "--ci-file", doctorFixture("ci", "good.yml")}
}

func roleAllows(t *testing.T, c *iam.Client, sub string) bool {
	t.Helper()
	out, err := c.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("gitlab-deploy")})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.Parse([]byte(aws.ToString(out.Role.AssumeRolePolicyDocument)))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range doc.Statements {
		for _, c := range st.Conditions {
			for _, v := range c.Values {
				if v == sub {
					return true
				}
			}
		}
	}
	return false
}

// TestDoctorApplyFixCLI: --apply-fix shows the difference; without --yes
// (and no terminal) it exits 2 and writes nothing, with --yes it updates
// the role and says the finding is gone.
func TestDoctorApplyFixCLI(t *testing.T) {
	const tagSub = "project_path:acme/payments:ref_type:tag:ref:v2.3.0"
	client, args := fixRoleWorld(t)
	args = append(args, "--apply-fix")

	code, stdout, stderr := runDoctorCLI(t, strings.NewReader(""), args...)
	if code != exitUsage || !strings.Contains(stderr, "pass --yes") {
		t.Fatalf("without --yes: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitUsage, stdout, stderr)
	}
	if !strings.Contains(stdout, "Fix for sub-ref-type-mismatch") || !strings.Contains(stdout, `+ `) || !strings.Contains(stdout, tagSub) {
		t.Errorf("the difference is not shown:\n%s", stdout)
	}
	if roleAllows(t, client, tagSub) {
		t.Fatal("the role was changed without --yes")
	}

	code, stdout, stderr = runDoctorCLI(t, strings.NewReader(""), append(args, "--yes")...)
	for _, want := range []string{"✓ updated trust policy gitlab-deploy", "sub-ref-type-mismatch is gone"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q\nstdout:\n%s\nstderr:\n%s", want, stdout, stderr)
		}
	}
	if !roleAllows(t, client, tagSub) || !roleAllows(t, client, "project_path:acme/payments:ref_type:branch:ref:*") {
		t.Error("the role does not allow the tag beside the branches")
	}
	if strings.Contains(stdout, "Still to fix") != (code == exitFailure) {
		t.Errorf("exit %d does not match what is left:\n%s", code, stdout)
	}

	// Run again: the role lets the token in, so there is nothing to apply.
	code, stdout, _ = runDoctorCLI(t, strings.NewReader(""), append(args, "--yes")...)
	if strings.Contains(stdout, "sub-ref-type-mismatch") || strings.Contains(stdout, "✓ updated") {
		t.Errorf("second run (exit %d) still diagnoses or applies:\n%s", code, stdout)
	}
}

// TestDoctorApplyFixVariable: a protected role ARN variable on an
// unprotected branch is unprotected with --yes, and its value is never
// printed.
func TestDoctorApplyFixVariable(t *testing.T) {
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

	code, stdout, stderr := runDoctorCLI(t, strings.NewReader(""), "--no-tui", "--apply-fix", "--yes",
		"--ci-file", doctorFixture("ci", "good.yml"), "--job", srv.URL+"/acme/payments/-/jobs/5550001")
	for _, want := range []string{"Fix for role-arn-empty", "-protected: true", "+protected: false", "✓ updated CI/CD variable AWS_ROLE_ARN", "role-arn-empty is gone"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q\nstdout:\n%s\nstderr:\n%s", want, stdout, stderr)
		}
	}
	// The fake GitLab's issuer is plain http, which STS could not fetch:
	// that error is left, and the exit code says so.
	if !strings.Contains(stdout, "Still to fix: discovery-unreachable") || code != exitFailure {
		t.Errorf("exit %d after the fix\n%s", code, stdout)
	}
	vs := srv.Variables(pid)
	if len(vs) != 1 || vs[0].Protected || vs[0].Value != "arn:aws:iam::123456789012:role/deploy" {
		t.Errorf("variables after the fix: %+v", vs)
	}
	if strings.Contains(stdout+stderr, "role/deploy") {
		t.Error("the variable's value was printed")
	}
}

func TestDoctorApplyFixUsage(t *testing.T) {
	offline(t)
	tests := map[string]struct {
		args   []string
		code   int
		stderr string
	}{
		"offline":             {args: []string{"--apply-fix", "--offline"}, code: exitUsage, stderr: "drop --offline"},
		"--yes alone":         {args: []string{"--yes", "--offline"}, code: exitUsage, stderr: "pass --apply-fix too"},
		"nothing to apply":    {args: []string{"--apply-fix", "--yes", "--error", accessDenied}, code: exitOK},
		"demo, not confirmed": {args: []string{"--demo", "--apply-fix"}, code: exitUsage, stderr: "pass --yes"},
		"demo, simulated":     {args: []string{"--demo", "--apply-fix", "--yes"}, code: exitOK},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runDoctorCLI(t, strings.NewReader(""), tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d; stderr lacks %q?\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.stderr, stdout, stderr)
			}
		})
	}
}
