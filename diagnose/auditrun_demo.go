package diagnose

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/iamsim"
)

// Demo provider hosts: gitlab.com and a self-managed instance whose host
// does not say "gitlab", so the demo needs --issuer (DemoIssuers) for it.
const (
	demoDotCom      = "gitlab.com"
	demoSelfManaged = "code.acme.example"
)

// DemoIssuers are the issuers to pass with DemoAccount, as --issuer would.
var DemoIssuers = []string{"https://" + demoSelfManaged}

// demoTrust is a trust policy for one provider of the demo account.
func demoTrust(host, conditions string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Principal":{"Federated":"arn:aws:iam::%s:oidc-provider/%s"},`+
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{%s}}]}`, iamsim.AccountID, host, conditions)
}

// demoRoles look like a platform team's account after a few years: one
// role anyone on gitlab.com can assume, a group wildcard, a self-managed
// deploy role for any branch with a 12-hour session, and two healthy ones.
var demoRoles = []iamsim.SeedRole{
	{
		Name:        "gitlab-legacy-deploy",
		TrustPolicy: demoTrust(demoDotCom, `"StringEquals":{"gitlab.com:aud":"https://gitlab.com"}`),
		PolicyARNs:  []string{"arn:aws:iam::aws:policy/AdministratorAccess"},
	},
	{
		Name: "gitlab-acme-group",
		TrustPolicy: demoTrust(demoDotCom, `"StringEquals":{"gitlab.com:aud":"https://gitlab.com"},`+
			`"StringLike":{"gitlab.com:sub":"project_path:acme/*"}`),
		PolicyARNs: []string{"arn:aws:iam::aws:policy/AmazonS3FullAccess"},
	},
	{
		Name: "infra-terraform",
		TrustPolicy: demoTrust(demoSelfManaged, `"StringEquals":{"code.acme.example:aud":"https://code.acme.example"},`+
			`"StringLike":{"code.acme.example:sub":"project_path:platform/infra:ref_type:branch:ref:*"}`),
		InlinePolicies: map[string]string{"terraform-state": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::acme-tf-state/*"}]}`},
	},
	{
		Name: "gitlab-acme-payments-main",
		TrustPolicy: demoTrust(demoDotCom, `"StringEquals":{"gitlab.com:aud":"https://gitlab.com",`+
			`"gitlab.com:sub":"project_path:acme/payments:ref_type:branch:ref:main","gitlab.com:project_id":"4242"}`),
		PolicyARNs: []string{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"},
	},
	{
		Name: "gitlab-acme-docs-readonly",
		TrustPolicy: demoTrust(demoDotCom, `"StringEquals":{"gitlab.com:aud":"https://gitlab.com",`+
			`"gitlab.com:sub":"project_id:5151:ref_type:tag:ref:v1.0.0"}`),
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
	},
}

// DemoAccount returns a simulated account for `audit --demo`: providers for
// gitlab.com and a self-managed instance, the roles above, and an
// organization access role that has nothing to do with GitLab. Audit it
// with AccountAuditOptions{Issuers: DemoIssuers}.
func DemoAccount() *iamsim.Sim {
	s, err := iamsim.Seed(true, "https://"+demoDotCom)
	if err == nil {
		_, err = s.SeedProvider("https://"+demoSelfManaged, "https://"+demoSelfManaged)
	}
	for _, r := range demoRoles {
		if err == nil {
			_, err = s.SeedRole(r)
		}
	}
	if err == nil {
		_, err = s.UpdateRole(context.Background(), &iam.UpdateRoleInput{RoleName: aws.String("infra-terraform"), MaxSessionDuration: aws.Int32(43200)})
	}
	if err != nil {
		// The seed is a constant; a failure is a bug the tests catch.
		panic(fmt.Sprintf("seed the audit demo account: %v", err))
	}
	return s
}
