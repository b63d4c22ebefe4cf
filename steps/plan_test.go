package steps

import (
	"strings"
	"testing"

	"gitlab-oidc/internal/policy"
)

func TestParseAllow(t *testing.T) {
	tests := map[string]struct {
		spec    string
		want    Allow
		wantErr string
	}{
		"exact branch":  {spec: "branch:main", want: Allow{Kind: "branch", Pattern: "main"}},
		"tag pattern":   {spec: "tag:v*", want: Allow{Kind: "tag", Pattern: "v*"}},
		"any branch":    {spec: "branch:*", want: Allow{Kind: "branch", Pattern: "*"}},
		"nested branch": {spec: "branch:release/1.x", want: Allow{Kind: "branch", Pattern: "release/1.x"}},
		"protected":     {spec: "protected", want: Allow{Kind: "protected"}},
		"unknown kind":  {spec: "ref:main", wantErr: "expected branch:NAME"},
		"no kind":       {spec: "main", wantErr: "expected branch:NAME"},
		"empty name":    {spec: "branch:", wantErr: "name is empty"},
		"colon in name": {spec: "branch:a:b", wantErr: "not a valid git ref"},
		"space in name": {spec: "tag:v 1", wantErr: "not a valid git ref"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseAllow(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseAllow(%q) error = %v, want it to mention %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseAllow(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
			}
			if got.String() != tc.spec {
				t.Fatalf("String() = %q, want round trip to %q", got.String(), tc.spec)
			}
		})
	}
}

func testProject() ProjectInfo {
	return ProjectInfo{
		ID: 4242, Path: "acme/payments", DefaultBranch: "main",
		SubComponents:     []string{"project_path", "ref_type", "ref"},
		ProtectedBranches: []string{"main", "release/*"},
		ProtectedTags:     []string{"v*"},
	}
}

func TestSubValues(t *testing.T) {
	gitlabCom := Instance{URL: "https://gitlab.com", IssuerURL: "https://gitlab.com"}
	selfManaged := Instance{URL: "https://git.example.com", IssuerURL: "https://git.example.com"}
	tests := map[string]struct {
		inst       Instance
		allow      []string
		components []string
		exact      []string
		like       []string
		wantErr    string
	}{
		"main only": {inst: gitlabCom, allow: []string{"branch:main"},
			exact: []string{"project_path:acme/payments:ref_type:branch:ref:main"}},
		"tags": {inst: gitlabCom, allow: []string{"tag:v*"},
			like: []string{"project_path:acme/payments:ref_type:tag:ref:v*"}},
		"protected on gitlab.com uses ref wildcard": {inst: gitlabCom, allow: []string{"protected"},
			like: []string{"project_path:acme/payments:ref_type:branch:ref:*"}},
		"protected on self-managed needs ref_protected": {inst: selfManaged, allow: []string{"protected"},
			wantErr: "needs ref_protected"},
		"protected on self-managed with ref_protected component": {inst: selfManaged, allow: []string{"protected"},
			components: []string{"project_path", "ref_type", "ref", "ref_protected"},
			like:       []string{"project_path:acme/payments:ref_type:branch:ref:*:ref_protected:true"}},
		"project_id led": {inst: selfManaged, allow: []string{"branch:main"},
			components: []string{"project_id", "ref_type", "ref"},
			exact:      []string{"project_id:4242:ref_type:branch:ref:main"}},
		"ref_protected of an unprotected branch": {inst: selfManaged, allow: []string{"branch:dev"},
			components: []string{"project_path", "ref_type", "ref", "ref_protected"},
			exact:      []string{"project_path:acme/payments:ref_type:branch:ref:dev:ref_protected:false"}},
		"duplicates collapse": {inst: gitlabCom, allow: []string{"branch:main", "branch:main"},
			exact: []string{"project_path:acme/payments:ref_type:branch:ref:main"}},
		"nothing allowed": {inst: gitlabCom, wantErr: "no --allow"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := Plan{Instance: tc.inst, Project: testProject(), NewSubComponents: tc.components}
			for _, s := range tc.allow {
				a, err := ParseAllow(s)
				if err != nil {
					t.Fatal(err)
				}
				p.Allow = append(p.Allow, a)
			}
			exact, like, err := p.SubValues()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(exact, "|") != strings.Join(tc.exact, "|") || strings.Join(like, "|") != strings.Join(tc.like, "|") {
				t.Fatalf("SubValues() = exact %q like %q; want exact %q like %q", exact, like, tc.exact, tc.like)
			}
		})
	}
}

func TestDefaultRoleName(t *testing.T) {
	tests := map[string]struct {
		path  string
		allow []Allow
		want  string
	}{
		"branch":     {path: "acme/payments", allow: []Allow{{Kind: "branch", Pattern: "main"}}, want: "gitlab-acme-payments-main"},
		"protected":  {path: "acme/payments", allow: []Allow{{Kind: "protected"}}, want: "gitlab-acme-payments-protected"},
		"any":        {path: "acme/payments", allow: []Allow{{Kind: "branch", Pattern: "*"}}, want: "gitlab-acme-payments-any-branch"},
		"several":    {path: "acme/payments", allow: []Allow{{Kind: "branch", Pattern: "main"}, {Kind: "tag", Pattern: "v*"}}, want: "gitlab-acme-payments"},
		"nested ref": {path: "a/b", allow: []Allow{{Kind: "branch", Pattern: "release/1.x"}}, want: "gitlab-a-b-release-1.x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := DefaultRoleName(tc.path, tc.allow); got != tc.want {
				t.Fatalf("DefaultRoleName = %q, want %q", got, tc.want)
			}
		})
	}
	long := DefaultRoleName(strings.Repeat("very-long-group/", 6)+"project", []Allow{{Kind: "branch", Pattern: "main"}})
	if len(long) > 64 || ValidateRoleName(long) != nil {
		t.Fatalf("long name %q (%d chars) is not a valid IAM role name", long, len(long))
	}
	other := DefaultRoleName(strings.Repeat("very-long-group/", 6)+"project2", []Allow{{Kind: "branch", Pattern: "main"}})
	if long == other {
		t.Fatalf("two long project paths collide on %q", long)
	}
}

func TestTrustPolicyPinsAudSubAndProjectID(t *testing.T) {
	conn := &Connection{
		AWS:     AWSIdentity{Account: "123456789012", Region: "us-east-1"},
		GitLab:  GitLabIdentity{URL: "https://gitlab.com"},
		Issuer:  IssuerStatus{URL: "https://gitlab.com"},
		Project: testProject(),
	}
	plan, err := NewPlan(conn, Choices{Allow: []Allow{{Kind: "branch", Pattern: "main"}}})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := plan.TrustPolicy()
	if err != nil {
		t.Fatal(err)
	}
	ctx := map[string][]string{
		"gitlab.com:aud":        {"https://gitlab.com"},
		"gitlab.com:sub":        {"project_path:acme/payments:ref_type:branch:ref:main"},
		"gitlab.com:project_id": {"4242"},
	}
	req := policy.Request{Action: "sts:AssumeRoleWithWebIdentity", Federated: plan.ProviderARN(), Context: ctx}
	if !policy.Evaluate(doc, req).Allowed {
		t.Fatalf("main of acme/payments is denied by\n%s", mustMarshal(t, doc))
	}
	for key, bad := range map[string]string{
		"gitlab.com:sub":        "project_path:acme/payments:ref_type:branch:ref:feature",
		"gitlab.com:aud":        "sts.amazonaws.com",
		"gitlab.com:project_id": "9999",
	} {
		mutated := map[string][]string{}
		for k, v := range ctx {
			mutated[k] = v
		}
		mutated[key] = []string{bad}
		req.Context = mutated
		if policy.Evaluate(doc, req).Allowed {
			t.Errorf("%s=%q is allowed; the trust policy must pin it", key, bad)
		}
	}
	if plan.RoleName != "gitlab-acme-payments-main" || !plan.Variable.Protected {
		t.Fatalf("plan role %q protected=%v; want default name and a protected variable for protected main", plan.RoleName, plan.Variable.Protected)
	}
}

func TestNewPlanWarnsAndUnprotectsForWildcardBranches(t *testing.T) {
	conn := &Connection{
		AWS:     AWSIdentity{Account: "123456789012"},
		GitLab:  GitLabIdentity{URL: "https://gitlab.com"},
		Issuer:  IssuerStatus{URL: "https://gitlab.com"},
		Project: testProject(),
	}
	plan, err := NewPlan(conn, Choices{Allow: []Allow{{Kind: "branch", Pattern: "*"}}})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Variable.Protected {
		t.Fatal("variable is protected although unprotected branches may use it")
	}
	if len(plan.Warnings) == 0 || !strings.Contains(plan.Warnings[0], "any developer") {
		t.Fatalf("warnings = %q, want the any-branch warning", plan.Warnings)
	}
	if _, err := NewPlan(conn, Choices{MaxSessionSeconds: 60}); err == nil {
		t.Fatal("a 60 s max session was accepted; IAM needs 3600..43200")
	}
	conn.Issuer.URL = "http://gitlab.example.com"
	if _, err := NewPlan(conn, Choices{}); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("an http issuer gave %v, want an https error", err)
	}
}

func mustMarshal(t *testing.T, d *policy.Document) string {
	t.Helper()
	b, err := policy.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
