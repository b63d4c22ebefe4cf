package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/cifile"
	"gitlab-oidc/internal/testenv"
	"gitlab-oidc/steps"
)

const exampleJob = "aws-oidc-check"

// An existing pipeline the include is added to, with its own stages.
const userPipeline = "# the team's pipeline\nstages: [build, deploy]\n\nbuild:\n  stage: build\n  script: [echo build]\n"

// TestSnippetPassesGitLabSchema lints generated pipelines with
// gitlab-ci-local --list, which validates against GitLab's CI JSON schema and
// evaluates rules:, so it also proves that the rules admit exactly the refs
// they should.
func TestSnippetPassesGitLabSchema(t *testing.T) {
	bin := gitlabCILocal(t)
	tests := map[string]struct {
		spec       steps.SnippetSpec
		existingCI string
		branch     string
		extraArgs  []string
		listed     bool // whether the example job runs on branch
	}{
		"explicit, exact branch, new pipeline file": {
			spec:   steps.SnippetSpec{Rules: []steps.RefRule{{Kind: steps.AllowBranch, Pattern: "main"}}},
			branch: "main", listed: true,
		},
		"native, protected refs, protected branch": {
			spec:       steps.SnippetSpec{Style: steps.SnippetNative, Rules: []steps.RefRule{{Kind: steps.AllowProtected}}},
			existingCI: userPipeline, branch: "main", listed: true,
			extraArgs: []string{"--variable", "CI_COMMIT_REF_PROTECTED=true"},
		},
		"explicit, protected refs, unprotected branch": {
			spec:   steps.SnippetSpec{Rules: []steps.RefRule{{Kind: steps.AllowProtected}}},
			branch: "main", listed: false,
		},
		"native, branch wildcard, matching branch, environments": {
			spec: steps.SnippetSpec{
				Style: steps.SnippetNative, Rules: []steps.RefRule{{Kind: steps.AllowBranch, Pattern: "release/*"}},
				Environments: []steps.EnvJob{
					{Name: "staging", Rules: []steps.RefRule{{Kind: steps.AllowBranch, Pattern: "release/*"}}},
					{Name: "production", RoleARNVariable: "PROD_ROLE_ARN", Rules: []steps.RefRule{{Kind: steps.AllowBranch, Pattern: "main"}}},
				},
			},
			existingCI: userPipeline, branch: "release/1.0", listed: true,
		},
		"explicit, branch wildcard, other branch": {
			spec:   steps.SnippetSpec{Rules: []steps.RefRule{{Kind: steps.AllowBranch, Pattern: "release/*"}}},
			branch: "main", listed: false,
		},
		"explicit, tags only, on a branch, with image": {
			spec:   steps.SnippetSpec{Rules: []steps.RefRule{{Kind: steps.AllowTag, Pattern: "v*"}}, Image: "amazon/aws-cli:2.17.0"},
			branch: "main", listed: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tc.spec.Audience, tc.spec.Region, tc.spec.ExampleJob = "sts.amazonaws.com", "eu-west-1", true
			p := newProject(t, tc.spec, tc.existingCI, tc.branch)
			out, err := p.run(t, bin, append([]string{"--list"}, tc.extraArgs...)...)
			if err != nil {
				t.Fatalf("gitlab-ci-local --list failed: %v\n%s", err, out)
			}
			if listed := regexp.MustCompile(`(?m)^` + exampleJob + `\s`).MatchString(out); listed != tc.listed {
				t.Errorf("%s listed = %v, want %v on branch %s:\n%s", exampleJob, listed, tc.listed, tc.branch, out)
			}
			// A pipeline of .pre jobs only would not run in GitLab: the
			// created file has a starter job in a real stage.
			if tc.existingCI == "" && tc.listed && !regexp.MustCompile(`(?m)^deploy\s+.*\bdeploy\b`).MatchString(out) {
				t.Errorf("the created pipeline file has no job outside .pre:\n%s", out)
			}
			if tc.existingCI != "" && !strings.Contains(out, "build") {
				t.Errorf("the user's own job vanished after the include was added:\n%s", out)
			}
		})
	}
	t.Run("a broken snippet fails the check", func(t *testing.T) {
		t.Parallel()
		spec := steps.SnippetSpec{Audience: "sts.amazonaws.com", Region: "eu-west-1", ExampleJob: true}
		p := newProject(t, spec, "", "main")
		breakSnippet(t, p, "aud:", "audience:") // id_tokens entries require aud
		out, err := p.run(t, bin, "--list")
		if err == nil {
			t.Fatalf("gitlab-ci-local accepted a snippet whose id_tokens lack aud:\n%s", out)
		}
		if !strings.Contains(out, "schema") && !strings.Contains(out, "aud") {
			t.Errorf("failure does not mention the schema:\n%s", out)
		}
	})
}

// TestSnippetExchangesTokenWithMoto runs the example job in gitlab-ci-local's
// shell executor: the snippet calls STS (moto) with a signed token and the
// job's aws sts get-caller-identity must print the assumed role with the
// snippet's session name. gitlab-ci-local does not issue id_tokens itself
// (it ignores the keyword), so the token variable is injected with
// --variable, as GitLab would inject it.
func TestSnippetExchangesTokenWithMoto(t *testing.T) {
	bin := gitlabCILocal(t)
	peerTool(t, "aws", "the aws CLI runs inside the job")
	for _, style := range []string{steps.SnippetExplicit, steps.SnippetNative} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			moto := testenv.StartMoto(t)
			roleName := "gitlab-e2e-" + style
			roleARN := createRole(t, moto, roleName)
			spec := steps.SnippetSpec{
				Style: style, Audience: "sts.amazonaws.com", Region: "us-east-1", ExampleJob: true,
				Rules: []steps.RefRule{{Kind: steps.AllowBranch, Pattern: "main"}},
			}
			p := newProject(t, spec, userPipeline, "main")
			checkReaderSeesSnippet(t, p, style)

			token := signedToken(t, spec.Audience)
			args := []string{exampleJob,
				"--variable", "GITLAB_OIDC_TOKEN=" + token,
				"--variable", "AWS_ROLE_ARN=" + roleARN,
			}
			for _, kv := range moto.Env() {
				args = append(args, "--variable", kv)
			}
			out, err := p.run(t, bin, args...)
			out = redact(out, token)
			if err != nil {
				t.Fatalf("job failed: %v\n%s", err, out)
			}
			want := regexp.MustCompile(`"Arn": "arn:aws:sts::` + moto.AccountID + `:assumed-role/` + roleName + `/gitlab-\d+-\d+"`)
			if !want.MatchString(out) {
				t.Errorf("get-caller-identity did not show the assumed role %s with session gitlab-<project>-<job>:\n%s", roleName, out)
			}
		})
	}
	t.Run("empty role variable fails with the hint", func(t *testing.T) {
		t.Parallel()
		spec := steps.SnippetSpec{Audience: "sts.amazonaws.com", Region: "us-east-1", ExampleJob: true}
		p := newProject(t, spec, "", "main")
		token := signedToken(t, spec.Audience)
		out, err := p.run(t, bin, exampleJob, "--variable", "GITLAB_OIDC_TOKEN="+token)
		if err == nil || !strings.Contains(out, "AWS_ROLE_ARN is empty: is the variable protected") {
			t.Errorf("job without AWS_ROLE_ARN: err=%v, want the hint in:\n%s", err, redact(out, token))
		}
	})
}

// createRole creates the role in moto (its trust policy is not evaluated
// there) and returns its ARN.
func createRole(t *testing.T, moto *testenv.Moto, name string) string {
	t.Helper()
	client := iam.NewFromConfig(moto.AWSConfig())
	out, err := client.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/gitlab.example.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.example.com:aud":"sts.amazonaws.com","gitlab.example.com:sub":"project_path:group/project:ref_type:branch:ref:main"}}}]}`),
	})
	if err != nil {
		t.Fatalf("create role in moto: %v", err)
	}
	return aws.ToString(out.Role.Arn)
}

// checkReaderSeesSnippet reads the generated project back with cifile, the
// reader doctor uses, and checks it finds what the snippet set up.
func checkReaderSeesSnippet(t *testing.T, p *project, style string) {
	t.Helper()
	f, err := cifile.Read(p.dir + "/.gitlab-ci.yml")
	if err != nil {
		t.Fatalf("cifile.Read: %v", err)
	}
	job := f.Jobs[exampleJob]
	if job == nil {
		t.Fatalf("cifile does not see %s; jobs %v, unresolved %v", exampleJob, f.Names(), f.Unresolved)
	}
	if got := job.IDTokens["GITLAB_OIDC_TOKEN"]; len(got) != 1 || got[0] != "sts.amazonaws.com" {
		t.Errorf("cifile id_tokens = %v", job.IDTokens)
	}
	if job.Variables["AWS_REGION"] != "us-east-1" {
		t.Errorf("cifile variables = %v", job.Variables)
	}
	if vars := job.TokenVars(); len(vars) != 1 || vars[0] != "GITLAB_OIDC_TOKEN" {
		t.Errorf("cifile token variables = %v", vars)
	}
	session := steps.SessionNameExpr
	if style == steps.SnippetExplicit {
		if len(job.STSCalls) != 1 {
			t.Fatalf("cifile found %d STS calls", len(job.STSCalls))
		}
		session = job.STSCalls[0].SessionNameExpr
	} else if got, _ := job.Var("AWS_ROLE_SESSION_NAME"); got != session {
		t.Errorf("cifile AWS_ROLE_SESSION_NAME = %q", got)
	}
	if why, risky := cifile.SessionNameRisk(session); risky {
		t.Errorf("generated session name %q judged risky: %s", session, why)
	}
}

func breakSnippet(t *testing.T, p *project, old, new string) {
	t.Helper()
	path := p.dir + "/" + steps.DefaultSnippetPath
	data := readFile(t, path)
	writeFile(t, path, strings.Replace(data, old, new, 1))
	p.commit(t, "break the snippet")
}
