package steps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/policy"
)

func TestParseEnvironment(t *testing.T) {
	tests := map[string]struct {
		spec    string
		want    EnvChoice
		wantErr string
	}{
		"production": {spec: "production=branch:main", want: EnvChoice{Name: "production", Tier: "production", Allow: []Allow{{Kind: "branch", Pattern: "main"}}}},
		"staging any": {spec: "staging=branch:*+tag:rc-*", want: EnvChoice{Name: "staging", Tier: "staging",
			Allow: []Allow{{Kind: "branch", Pattern: "*"}, {Kind: "tag", Pattern: "rc-*"}}}},
		"no allow":  {spec: "production", wantErr: "expected NAME=ALLOW"},
		"bad name":  {spec: "prod uction=branch:main", wantErr: "not a usable environment name"},
		"bad allow": {spec: "production=main", wantErr: "expected branch:NAME"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseEnvironment(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Name != tc.want.Name || got.Tier != tc.want.Tier || len(got.Allow) != len(tc.want.Allow) {
				t.Fatalf("ParseEnvironment = %+v, %v; want %+v", got, err, tc.want)
			}
			for i := range got.Allow {
				if got.Allow[i] != tc.want.Allow[i] {
					t.Fatalf("allow %d = %+v, want %+v", i, got.Allow[i], tc.want.Allow[i])
				}
			}
		})
	}
}

// A role per environment: production admits protected main only with a
// protected, production-scoped variable; staging admits any branch with an
// unprotected, staging-scoped variable; one snippet declares both.
func TestSetupRolePerEnvironment(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	conn, err := w.runner.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := ParseEnvironment("production=branch:main")
	staging, _ := ParseEnvironment("staging=branch:*")
	// moto has no AWS managed policies: attach a customer policy made here.
	pol, err := w.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("staging-read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	staging.PolicyARNs = []string{aws.ToString(pol.Policy.Arn)}
	plans, err := w.runner.PlanEnvironments(conn, Choices{}, []EnvChoice{prod, staging})
	if err != nil {
		t.Fatal(err)
	}
	if plans[0].RoleName != "gitlab-acme-payments-production" || plans[1].RoleName != "gitlab-acme-payments-staging" {
		t.Fatalf("role names = %q, %q", plans[0].RoleName, plans[1].RoleName)
	}
	if !plans[0].Variable.Protected || plans[1].Variable.Protected {
		t.Fatalf("protected = %v/%v, want production protected and staging not", plans[0].Variable.Protected, plans[1].Variable.Protected)
	}
	if _, err := w.runner.ApplyAll(ctx, plans, Decisions{}, nil); err != nil {
		t.Fatalf("apply: %v", err)
	}
	vars := w.gitlab.Variables(4242)
	scopes := map[string]string{}
	for _, v := range vars {
		scopes[v.EnvironmentScope] = v.Value
	}
	if scopes["production"] != plans[0].RoleARN() || scopes["staging"] != plans[1].RoleARN() || len(vars) != 2 {
		t.Fatalf("variables = %+v, want one per environment scope", vars)
	}
	for i, want := range map[int]struct {
		operator, sub string
	}{0: {"StringEquals", "project_path:acme/payments:ref_type:branch:ref:main"}, 1: {"StringLike", "project_path:acme/payments:ref_type:branch:ref:*"}} {
		out, err := w.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(plans[i].RoleName)})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := policy.Parse([]byte(aws.ToString(out.Role.AssumeRolePolicyDocument)))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range doc.Statements[0].Conditions {
			if c.Operator == want.operator && c.Key == "gitlab.com:sub" && c.Values[0] == want.sub {
				found = true
			}
		}
		if !found {
			t.Errorf("role %s lacks %s gitlab.com:sub %s: %+v", plans[i].RoleName, want.operator, want.sub, doc.Statements[0].Conditions)
		}
	}
	snippet, err := os.ReadFile(filepath.Join(w.dir, ".gitlab/ci/aws-oidc.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".aws-oidc-production:", ".aws-oidc-staging:", "name: production", "name: staging"} {
		if !strings.Contains(string(snippet), want) {
			t.Errorf("snippet lacks %q:\n%s", want, snippet)
		}
	}
	// Re-run: nothing to do.
	w.calls.Reset()
	w.gitlab.ResetRequests()
	if _, err := w.runner.ApplyAll(ctx, plans, Decisions{}, nil); err != nil {
		t.Fatal(err)
	}
	if len(w.calls.Writes()) != 0 || len(w.gitlab.Writes()) != 0 {
		t.Fatalf("re-run wrote: AWS %v, GitLab %+v", w.calls.Writes(), w.gitlab.Writes())
	}
}

func TestEnvironmentSubUsesDeploymentTierWhenTheProjectHasIt(t *testing.T) {
	conn := &Connection{
		AWS:    AWSIdentity{Account: "123456789012", Region: "us-east-1"},
		GitLab: GitLabIdentity{URL: "https://git.example.com"},
		Issuer: IssuerStatus{URL: "https://git.example.com"},
		Project: ProjectInfo{ID: 7, Path: "team/app", SubComponents: []string{"project_id", "ref_type", "ref", "deployment_tier"},
			ProtectedBranches: []string{"main"}},
	}
	r := &Runner{}
	prod, _ := ParseEnvironment("production=branch:main")
	plans, err := r.PlanEnvironments(conn, Choices{}, []EnvChoice{prod})
	if err != nil {
		t.Fatal(err)
	}
	exact, like, err := plans[0].SubValues()
	if err != nil {
		t.Fatal(err)
	}
	if len(like) != 0 || len(exact) != 1 || exact[0] != "project_id:7:ref_type:branch:ref:main:deployment_tier:production" {
		t.Fatalf("subs = exact %q like %q", exact, like)
	}
}
