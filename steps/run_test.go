package steps

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/testenv"
)

// world is a setup run's peers: moto for AWS and the stateful fake GitLab.
type world struct {
	runner *Runner
	calls  *awsapi.CallLog
	gitlab *gitlabfake.Server
	iam    *iam.Client
	dir    string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	moto := testenv.StartMoto(t)
	cfg := moto.AWSConfig()
	calls := &awsapi.CallLog{}
	calls.Attach(&cfg)
	fake := gitlabfake.New()
	fake.AddUser("glpat-maintainer", "alice")
	pid := fake.AddProject(gitlabfake.Project{ID: 4242, Path: "acme/payments", DefaultBranch: "main",
		SubClaimComponents: []string{"project_path", "ref_type", "ref"},
		ProtectedBranches:  []string{"main"}, ProtectedTags: []string{"v*"}})
	fake.SetAccess("glpat-maintainer", "acme/payments", gitlabapi.Maintainer)
	srv := gitlabfake.Serve(t, fake)
	gl, err := gitlabapi.New(srv.URL, "glpat-maintainer", http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), []byte("stages: [test]\n\nunit:\n  stage: test\n  script: [go test ./...]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = pid
	client := iam.NewFromConfig(cfg)
	return &world{
		runner: &Runner{Env: Env{
			IAM: client, STS: sts.NewFromConfig(cfg), GitLab: gl,
			Region: "us-east-1", Project: "acme/payments", ProjectSource: "--project",
			IssuerURL: "https://gitlab.com", WorkDir: dir,
		}},
		calls: calls, gitlab: srv, iam: client, dir: dir,
	}
}

func (w *world) plan(t *testing.T, ch Choices) (*Connection, Plan) {
	t.Helper()
	conn, err := w.runner.Connect(context.Background())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	p, err := w.runner.Plan(conn, ch)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return conn, p
}

func TestSetupFirstRunThenIdempotentRerun(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	conn, p := w.plan(t, Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}})
	if conn.AWS.Account != "123456789012" || conn.Project.ID != 4242 || conn.GitLab.Username != "alice" {
		t.Fatalf("connection = %+v", conn)
	}
	if conn.Existing.ProviderARN != "" || conn.Existing.RoleARN != "" || conn.Existing.Variable != nil {
		t.Fatalf("fresh account reports existing resources: %+v", conn.Existing)
	}

	start := time.Now()
	w.calls.Reset()
	w.gitlab.ResetRequests()
	changes, err := w.runner.Apply(ctx, p, Decisions{}, nil)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	t.Logf("first run: %d AWS calls (%d writes), %d GitLab requests, %s", len(w.calls.Calls()), len(w.calls.Writes()), len(w.gitlab.Requests()), time.Since(start))
	want := map[string]bool{"IAM OIDC provider": false, "IAM role": false, "CI/CD variable": false}
	for _, c := range changes {
		if _, ok := want[c.Resource]; ok && c.Action == ActionCreate && c.Applied {
			want[c.Resource] = true
		}
	}
	for r, ok := range want {
		if !ok {
			t.Errorf("first run did not create the %s; changes: %+v", r, changes)
		}
	}
	role, err := w.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(p.RoleName)})
	if err != nil {
		t.Fatalf("role not in moto: %v", err)
	}
	stored, err := policy.Parse([]byte(aws.ToString(role.Role.AssumeRolePolicyDocument)))
	if err != nil {
		t.Fatalf("moto's trust policy does not parse: %v", err)
	}
	planned, _ := p.TrustPolicy()
	if !policy.Equivalent(stored, planned) {
		t.Fatalf("trust policy in moto differs from the plan:\n%s", policy.Diff(planned, stored))
	}
	vars := w.gitlab.Variables(4242)
	if len(vars) != 1 || vars[0].Key != "AWS_ROLE_ARN" || vars[0].Value != p.RoleARN() || !vars[0].Protected {
		t.Fatalf("variables = %+v, want protected AWS_ROLE_ARN=%s", vars, p.RoleARN())
	}
	snippet, err := os.ReadFile(filepath.Join(w.dir, ".gitlab/ci/aws-oidc.yml"))
	if err != nil || !strings.Contains(string(snippet), "id_tokens") {
		t.Fatalf("snippet not written: %v", err)
	}
	ci, _ := os.ReadFile(filepath.Join(w.dir, ".gitlab-ci.yml"))
	if !strings.Contains(string(ci), "aws-oidc.yml") || !strings.Contains(string(ci), "unit:") {
		t.Fatalf(".gitlab-ci.yml lost content or lacks the include:\n%s", ci)
	}

	// The same choices again: nothing to do, and not a single write call.
	start = time.Now()
	w.calls.Reset()
	w.gitlab.ResetRequests()
	_, p2 := w.plan(t, Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}})
	changes, err = w.runner.Apply(ctx, p2, Decisions{}, nil)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	t.Logf("re-run: %d AWS calls (%d writes), %d GitLab requests, %s", len(w.calls.Calls()), len(w.calls.Writes()), len(w.gitlab.Requests()), time.Since(start))
	if writes := w.calls.Writes(); len(writes) != 0 {
		t.Errorf("re-run made AWS writes: %v", writes)
	}
	if writes := w.gitlab.Writes(); len(writes) != 0 {
		t.Errorf("re-run made GitLab writes: %+v", writes)
	}
	for _, c := range changes {
		if c.IsWrite() {
			t.Errorf("re-run reports a change: %+v", c)
		}
	}
}

func TestSetupNeverReplacesAForeignVariableOrTrustSilently(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.gitlab.AddVariable(gitlabapi.VariableTarget{Kind: "project", ID: "4242"}, gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/legacy", EnvironmentScope: "*"})
	_, p := w.plan(t, Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}})
	pv, err := w.runner.Preview(ctx, p, Decisions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Conflicts) != 1 || pv.Conflicts[0].Resource != "CI/CD variable" || !strings.Contains(pv.Conflicts[0].Diff, "legacy") {
		t.Fatalf("conflicts = %+v, want the variable's diff", pv.Conflicts)
	}
	_, err = w.runner.Apply(ctx, p, Decisions{}, nil)
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("apply without permission = %v, want a ConflictError", err)
	}
	if v := w.gitlab.Variables(4242); v[0].Value != "arn:aws:iam::123456789012:role/legacy" {
		t.Fatalf("variable replaced without permission: %+v", v)
	}
	if _, err := w.runner.Apply(ctx, p, Decisions{ReplaceVariable: true}, nil); err != nil {
		t.Fatalf("apply with permission: %v", err)
	}
	if v := w.gitlab.Variables(4242); v[0].Value != p.RoleARN() {
		t.Fatalf("variable not replaced with permission: %+v", v)
	}
}

func TestSetupInterruptedThenCompletedWithoutDuplicates(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, p := w.plan(t, Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}})
	// Cancel as soon as the role exists, as ctrl+c would.
	_, err := w.runner.Apply(ctx, p, Decisions{}, func(s Step, _ []Change, _ error, _ time.Duration) {
		if s.ID == "role" {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted apply = %v, want context.Canceled", err)
	}
	if len(w.gitlab.Variables(4242)) != 0 {
		t.Fatal("the variable was written after the cancel")
	}
	w.calls.Reset()
	changes, err := w.runner.Apply(context.Background(), p, Decisions{}, nil)
	if err != nil {
		t.Fatalf("re-run after interrupt: %v", err)
	}
	for _, c := range changes {
		if (c.Resource == "IAM OIDC provider" || c.Resource == "IAM role") && c.IsWrite() {
			t.Errorf("re-run repeated %s %s", c.Action, c.Resource)
		}
	}
	if len(w.gitlab.Variables(4242)) != 1 {
		t.Fatal("re-run did not finish the variable")
	}
}

func TestSetupRefusesNoSub(t *testing.T) {
	w := newWorld(t)
	conn, err := w.runner.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(conn, Choices{})
	if err != nil {
		t.Fatal(err)
	}
	p.Allow = nil
	if _, err := p.TrustPolicy(); err == nil {
		t.Fatal("a plan with no allowed refs built a trust policy")
	}
	steps := w.runner.Steps(p, Decisions{})
	if _, err := steps[0].Run(context.Background()); err == nil {
		t.Fatal("apply of a sub-less plan did not fail")
	}
	if writes := w.calls.Writes(); len(writes) != 0 {
		t.Fatalf("a sub-less plan made writes: %v", writes)
	}
}
