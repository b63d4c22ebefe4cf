package diagnose

import (
	"strings"
	"testing"

	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token"
)

// The doctor knows the project the audit cannot: the path-reuse fix names
// the token's project_id instead of a placeholder.
func TestAuditFindingsInDoctorUseTheTokensProjectID(t *testing.T) {
	doc, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/gitlab.com"},
		"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"gitlab.com:aud":"https://gitlab.com",
			"gitlab.com:sub":"project_path:acme/payments:ref_type:branch:ref:main"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ev := &Evidence{
		Token: &TokenFacts{Claims: token.Claims{Issuer: "https://gitlab.com", ProjectID: "4242"}},
		Role:  &RoleFacts{ARN: "arn:aws:iam::123456789012:role/r", Name: "r", Trust: doc},
	}
	var reuse *Finding
	for _, f := range auditFindings(ev) {
		if f.ID == "trust-path-reuse-risk" {
			reuse = &f
		}
	}
	if reuse == nil {
		t.Fatal("no trust-path-reuse-risk for a path-pinned gitlab.com role")
	}
	if strings.Contains(reuse.Fix, "PROJECT_ID") || !strings.Contains(reuse.Fix, `"gitlab.com:project_id": "4242"`) {
		t.Fatalf("fix = %q, want the token's project_id 4242", reuse.Fix)
	}
	ev.Token = nil
	for _, f := range auditFindings(ev) {
		if f.ID == "trust-path-reuse-risk" && !strings.Contains(f.Fix, "PROJECT_ID") {
			t.Fatalf("without a token or job the placeholder must stay: %q", f.Fix)
		}
	}
}
