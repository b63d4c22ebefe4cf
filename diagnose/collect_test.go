package diagnose

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/internal/testenv"
	"gitlab-oidc/internal/token/tokentest"
)

const collectIssuer = "https://gitlab.example.com"

// variableMarker is the value of the AWS_ROLE_ARN variable in the fake: the
// doctor reads variable metadata only, so it must never show up.
const variableMarker = "arn:aws:iam::123456789012:role/value-must-not-leak"

// collectWorld is a GitLab (the stateful fake, reached in-process under its
// public URL) and an AWS account (moto) holding the provider and a role.
type collectWorld struct {
	fake   *gitlabfake.Fake
	gl     gitlabapi.Client
	iam    *iam.Client
	jobURL string
	probes atomic.Int32
}

func newCollectWorld(t *testing.T, trust string, maxSession int32) *collectWorld {
	t.Helper()
	ctx := context.Background()
	w := &collectWorld{fake: gitlabfake.New()}
	w.fake.AddUser("glpat-dev", "dev")
	pid := w.fake.AddProject(gitlabfake.Project{ID: 4242, Path: "acme/payments", ProtectedBranches: []string{"main", "release/*"}})
	w.fake.SetAccess("glpat-dev", "acme", gitlabapi.Maintainer)
	w.fake.AddPipeline(pid, gitlabapi.Pipeline{ID: 900001, Ref: "feature-x", Source: "push", Status: "failed"})
	w.fake.AddJob(pid, gitlabapi.Job{ID: 5550001, Name: "deploy", Ref: "feature-x", Status: "failed", PipelineID: 900001,
		FinishedAt: "2026-03-14T15:09:40Z"})
	w.fake.AddVariable(gitlabapi.VariableTarget{Kind: gitlabapi.TargetProject, ID: "4242"},
		gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: variableMarker, Protected: true})
	w.fake.SetTrace(pid, 5550001, readLog(t, "aws-cli-empty-role-arn.log"))
	var err error
	w.gl, err = gitlabapi.New(collectIssuer, "glpat-dev", &http.Client{Transport: w.fake.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	w.jobURL = collectIssuer + "/acme/payments/-/jobs/5550001"

	m := testenv.StartMoto(t)
	w.iam = iam.NewFromConfig(m.AWSConfig())
	if _, err := w.iam.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(collectIssuer), ClientIDList: []string{"sts.amazonaws.com"},
		ThumbprintList: []string{strings.Repeat("b", 40)},
	}); err != nil {
		t.Fatal(err)
	}
	if trust != "" {
		b, err := os.ReadFile(filepath.Join("testdata", "policies", trust))
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.ReplaceAll(string(b), "oidc-provider/gitlab.com", "oidc-provider/gitlab.example.com")
		doc = strings.ReplaceAll(doc, `"gitlab.com:`, `"gitlab.example.com:`)
		if _, err := w.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String("gitlab-deploy"), AssumeRolePolicyDocument: aws.String(doc), MaxSessionDuration: aws.Int32(maxSession),
		}); err != nil {
			t.Fatal(err)
		}
		pol, err := w.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     aws.String("deploy-bucket"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::acme-artifacts/*"}]}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
			RoleName: aws.String("gitlab-deploy"), PolicyArn: pol.Policy.Arn,
		}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// sources wires the world; the probe answers like a healthy public issuer
// and counts its calls.
func (w *collectWorld) sources() Sources {
	return Sources{IAM: w.iam, GitLab: w.gl, Probe: func(_ context.Context, url string) issuer.Report {
		w.probes.Add(1)
		return issuer.Report{
			IssuerURL: url, Addresses: []string{"203.0.113.10"}, DiscoveredIssuer: url, IssuerMatches: true,
			Discovery: issuer.Fetch{URL: url + issuer.DiscoveryPath, Status: 200, Duration: 80 * time.Millisecond},
			JWKS:      issuer.Fetch{URL: url + "/oauth/discovery/keys", Status: 200, Duration: 60 * time.Millisecond},
		}
	}}
}

func TestCollectPredictsFromTheJob(t *testing.T) {
	w := newCollectWorld(t, "exact.json", 3600)
	ev, err := Collect(context.Background(), CollectOptions{
		JobURL: w.jobURL, RoleARN: "arn:aws:iam::123456789012:role/gitlab-deploy",
	}, w.sources())
	if err != nil {
		t.Fatal(err)
	}
	j := ev.Job
	if j == nil || j.ProjectID != 4242 || j.Ref != "feature-x" || j.PipelineSource != "push" || j.RefProtected == nil || *j.RefProtected {
		t.Fatalf("job facts %+v (notes %v)", j, ev.Notes)
	}
	if !ev.Predicted || ev.Token.Claims.Subject != "project_path:acme/payments:ref_type:branch:ref:feature-x" || ev.Token.Claims.Issuer != collectIssuer {
		t.Fatalf("prediction %+v predicted=%v", ev.Token, ev.Predicted)
	}
	if v := findVar(j.Variables, "AWS_ROLE_ARN"); v == nil || !v.Exists || !v.Protected {
		t.Fatalf("AWS_ROLE_ARN metadata %+v", v)
	}
	raw, _ := json.Marshal(ev)
	if strings.Contains(string(raw), variableMarker) {
		t.Errorf("a variable value leaked into the evidence: %s", raw)
	}
	if ev.Log == nil || !ev.Log.RoleARNEmpty {
		t.Fatalf("the job log was not read from GitLab: %+v", ev.Log)
	}
	if ev.Role.Trust == nil || ev.Role.TrustSource != "GetRole" || ev.Role.MaxSessionDuration != 3600 || len(ev.Role.AttachedPolicies) != 1 {
		t.Fatalf("role facts %+v (notes %v)", ev.Role, ev.Notes)
	}
	if w.probes.Load() != 1 {
		t.Errorf("probe ran %d times, want once for %s", w.probes.Load(), collectIssuer)
	}
	fs := Diagnose(ev)
	if strings.Contains(describe(fs)+strings.Join(fs[0].Evidence, ""), variableMarker) {
		t.Errorf("a variable value leaked into the findings")
	}
	if fs[0].ID != "role-arn-empty" {
		t.Fatalf("first finding %s:\n%s", fs[0].ID, describe(fs))
	}
	if !strings.Contains(strings.Join(fs[0].Evidence, "\n"), `ran on branch "feature-x", which is not protected`) {
		t.Errorf("role-arn-empty does not explain the protected variable:\n%s", strings.Join(fs[0].Evidence, "\n"))
	}
	// The predicted sub is for feature-x, which the policy does not allow.
	if !hasID(fs, "sub-mismatch") {
		t.Errorf("the predicted sub mismatch is missing:\n%s", describe(fs))
	}
}

func TestCollectWithTokenAgainstMoto(t *testing.T) {
	s := tokentest.NewSigner(t)
	tok := s.Sign(tokentest.GitLabClaims(map[string]any{
		"iss": collectIssuer, "ref": "develop", "sub": "project_path:acme/payments:ref_type:branch:ref:develop",
	}))
	tests := map[string]struct {
		trust string
		first string
	}{
		"trust policy from GetRole (URL-encoded) rejects the branch": {trust: "exact.json", first: "sub-mismatch"},
		"role missing in the account":                                {trust: "", first: "role-not-found"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newCollectWorld(t, tc.trust, 7200)
			ev, err := Collect(context.Background(), CollectOptions{
				Token: tok, TokenSource: "env GITLAB_OIDC_TOKEN", JWKS: s.JWKSJSON(), JWKSSource: "keys.json",
				ErrorText: "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity",
				RoleARN:   "arn:aws:iam::123456789012:role/gitlab-deploy",
				Now:       tokentest.Now.Add(time.Minute),
			}, w.sources())
			if err != nil {
				t.Fatal(err)
			}
			if ev.Providers == nil || !ev.Providers.Listed || providerFor(ev) == nil {
				t.Fatalf("providers %+v (notes %v)", ev.Providers, ev.Notes)
			}
			if p := providerFor(ev); p.ClientIDs[0] != "sts.amazonaws.com" || p.ARN != "arn:aws:iam::123456789012:oidc-provider/gitlab.example.com" {
				t.Errorf("provider %+v", p)
			}
			if ev.Signature == nil || ev.Signature.Err != "" {
				t.Errorf("signature check %+v", ev.Signature)
			}
			if ev.NowSource != "--now" {
				t.Errorf("NowSource %q", ev.NowSource)
			}
			fs := Diagnose(ev)
			if fs[0].ID != tc.first {
				t.Fatalf("first finding %s, want %s:\n%s", fs[0].ID, tc.first, describe(fs))
			}
			raw, _ := json.Marshal(ev)
			for i, part := range strings.Split(tok, ".")[1:] {
				if strings.Contains(string(raw), part) {
					t.Errorf("token part %d is in the evidence", i+2)
				}
			}
		})
	}
}

func TestCollectOfflineMakesNoCalls(t *testing.T) {
	var probes atomic.Int32
	src := Sources{Probe: func(context.Context, string) issuer.Report { probes.Add(1); return issuer.Report{} }}
	s := tokentest.NewSigner(t)
	ev, err := Collect(context.Background(), CollectOptions{
		Token: s.Sign(tokentest.GitLabClaims(nil)), Offline: true,
		TrustPolicy: []byte(`{"Version":"2012-10-17","Statement":[]}`), TrustPolicySource: "trust.json",
		ProviderURL: "https://gitlab.com", ClientIDs: []string{"sts.amazonaws.com"},
	}, src)
	if err != nil {
		t.Fatal(err)
	}
	if probes.Load() != 0 || ev.Issuer != nil {
		t.Errorf("offline collect probed the issuer")
	}
	if providerFor(ev) == nil || ev.Role.Trust == nil {
		t.Errorf("flags were not used: providers %+v role %+v", ev.Providers, ev.Role)
	}
	if !hasID(Diagnose(ev), "trust-no-web-identity-statement") {
		t.Errorf("an empty trust policy must be reported")
	}
}

func TestCollectRejectsBadInputs(t *testing.T) {
	tests := map[string]CollectOptions{
		"role ARN":     {RoleARN: "gitlab-deploy"},
		"job URL":      {JobURL: "https://gitlab.example.com/acme/payments/-/pipelines/1"},
		"trust policy": {TrustPolicy: []byte("{not json"), TrustPolicySource: "trust.json"},
		"JWK set":      {JWKS: []byte("[]"), JWKSSource: "keys.json"},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Collect(context.Background(), opts, Sources{}); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestParseJobURL(t *testing.T) {
	tests := map[string]struct {
		url, gitlab string
		want        JobRef
		err         bool
	}{
		"subgroups":          {url: "https://gitlab.example.com/group/sub/proj/-/jobs/123", want: JobRef{"https://gitlab.example.com", "group/sub/proj", 123}},
		"trailing parts":     {url: "https://gitlab.com/acme/payments/-/jobs/77/raw", want: JobRef{"https://gitlab.com", "acme/payments", 77}},
		"relative URL root":  {url: "https://host.example/gitlab/acme/app/-/jobs/5", gitlab: "https://host.example/gitlab/", want: JobRef{"https://host.example/gitlab", "acme/app", 5}},
		"pipeline, not job":  {url: "https://gitlab.com/acme/payments/-/pipelines/1", err: true},
		"not a number":       {url: "https://gitlab.com/acme/payments/-/jobs/abc", err: true},
		"no project":         {url: "https://gitlab.com/-/jobs/1", err: true},
		"other host than -g": {url: "https://a.example/x/y/-/jobs/1", gitlab: "https://b.example", err: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseJobURL(tc.url, tc.gitlab)
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error=%v", err, tc.err)
			}
			if !tc.err && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPredictClaimsCustomComponents(t *testing.T) {
	prot := true
	j := &JobFacts{BaseURL: "https://gitlab.example.com/", ProjectPath: "acme/payments", ProjectID: 4242, Ref: "v1.2.0", Tag: true,
		RefProtected: &prot, SubComponents: []string{"project_id", "ref_type", "ref", "ref_protected"}}
	c, unknown := PredictClaims(j, []string{"sts.amazonaws.com"})
	if c.Subject != "project_id:4242:ref_type:tag:ref:v1.2.0:ref_protected:true" || c.Issuer != "https://gitlab.example.com" {
		t.Fatalf("sub %q iss %q", c.Subject, c.Issuer)
	}
	for _, u := range unknown {
		if u == "aud" || u == "sub" {
			t.Errorf("%s should be known, unknown=%v", u, unknown)
		}
	}
	j.SubComponents = []string{"project_path", "environment_protected"}
	_, unknown = PredictClaims(j, nil)
	if !contains(unknown, "sub") || !contains(unknown, "aud") {
		t.Errorf("sub with environment_protected and no aud must be unknown: %v", unknown)
	}
}

func hasID(fs []Finding, id string) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
