package steps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/iamsim"
	"gitlab-oidc/internal/policy"
)

func TestRenderTemplateGolden(t *testing.T) {
	tests := map[string]struct {
		id       string
		params   map[string]string
		region   string
		wantName string
	}{
		"s3-deploy": {id: TemplateS3Deploy, params: map[string]string{ParamBucket: "acme-site.example.com"},
			region: "eu-central-1", wantName: "gitlab-oidc-s3-deploy-acme-site.example.com"},
		"ecr-push": {id: TemplateECRPush, params: map[string]string{ParamRepository: "team/app"},
			region: "eu-central-1", wantName: "gitlab-oidc-ecr-push-team-app"},
		"ecs-deploy": {id: TemplateECSDeploy, params: map[string]string{ParamCluster: "prod", ParamService: "web",
			ParamPassRoleARNs: "arn:aws:iam::123456789012:role/web-task, arn:aws:iam::123456789012:role/ecsTaskExecutionRole"},
			region: "eu-central-1", wantName: "gitlab-oidc-ecs-deploy-prod-web"},
		"ecs-deploy-no-pass-role": {id: TemplateECSDeploy, params: map[string]string{ParamCluster: "prod", ParamService: "web"},
			region: "eu-central-1", wantName: "gitlab-oidc-ecs-deploy-prod-web"},
		"ecr-push-govcloud": {id: TemplateECRPush, params: map[string]string{ParamRepository: "app"},
			region: "us-gov-west-1", wantName: "gitlab-oidc-ecr-push-app"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := RenderTemplate(tc.id, tc.params, "123456789012", tc.region)
			require.NoError(t, err)
			assert.Equal(t, tc.wantName, got.Name)
			golden := filepath.Join("testdata", "aws", "templates", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got.Document+"\n"), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSpace(string(want)), got.Document)

			// IAM must accept it: it parses, and iamsim's PutRolePolicy takes it.
			_, err = policy.Parse([]byte(got.Document))
			require.NoError(t, err)
			s := iamsim.New()
			_, err = s.SeedRole(iamsim.SeedRole{Name: "r", TrustPolicy: mustMarshal(t, ourTrust(t)),
				InlinePolicies: map[string]string{got.Name: got.Document}})
			require.NoError(t, err)
		})
	}
}

func TestRenderTemplateRejects(t *testing.T) {
	tests := map[string]struct {
		id      string
		params  map[string]string
		account string
		region  string
		errHas  string
	}{
		"unknown template":    {id: "lambda", errHas: "s3-deploy, ecr-push, ecs-deploy"},
		"unknown param":       {id: TemplateS3Deploy, params: map[string]string{"bukket": "x"}, errHas: `no parameter "bukket"`},
		"missing param":       {id: TemplateS3Deploy, params: map[string]string{}, errHas: `needs the parameter "bucket"`},
		"bucket uppercase":    {id: TemplateS3Deploy, params: map[string]string{ParamBucket: "Acme"}, errHas: "lowercase"},
		"bucket too short":    {id: TemplateS3Deploy, params: map[string]string{ParamBucket: "ab"}, errHas: "3 to 63"},
		"bucket double dot":   {id: TemplateS3Deploy, params: map[string]string{ParamBucket: "a..b"}, errHas: "adjacent"},
		"bucket ip address":   {id: TemplateS3Deploy, params: map[string]string{ParamBucket: "192.168.5.4"}, errHas: "IP address"},
		"bucket xn-- prefix":  {id: TemplateS3Deploy, params: map[string]string{ParamBucket: "xn--site"}, errHas: "reserved"},
		"bucket alias suffix": {id: TemplateS3Deploy, params: map[string]string{ParamBucket: "site-s3alias"}, errHas: "reserved"},
		"repo uppercase":      {id: TemplateECRPush, params: map[string]string{ParamRepository: "Team/App"}, account: "123456789012", region: "eu-west-1", errHas: "lowercase"},
		"repo trailing slash": {id: TemplateECRPush, params: map[string]string{ParamRepository: "team/"}, account: "123456789012", region: "eu-west-1", errHas: "ECR repository"},
		"ecr bad account":     {id: TemplateECRPush, params: map[string]string{ParamRepository: "app"}, account: "1234", region: "eu-west-1", errHas: "12-digit"},
		"ecr no region":       {id: TemplateECRPush, params: map[string]string{ParamRepository: "app"}, account: "123456789012", errHas: "--region"},
		"ecs bad service":     {id: TemplateECSDeploy, params: map[string]string{ParamCluster: "prod", ParamService: "web app"}, account: "123456789012", region: "eu-west-1", errHas: "ECS service"},
		"ecs bad role arn": {id: TemplateECSDeploy, params: map[string]string{ParamCluster: "prod", ParamService: "web", ParamPassRoleARNs: "arn:aws:iam::123456789012:user/bob"},
			account: "123456789012", region: "eu-west-1", errHas: "not an IAM role ARN"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := RenderTemplate(tc.id, tc.params, tc.account, tc.region)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.errHas)
		})
	}
}

func TestTemplatesDescribeThemselves(t *testing.T) {
	infos := TemplateInfos()
	require.Len(t, infos, len(Templates()))
	for _, info := range infos {
		assert.NotEmpty(t, info.Title, info.ID)
		assert.NotEmpty(t, info.Description, info.ID)
		assert.NotEmpty(t, info.Params, info.ID)
	}
}

func TestIsAdministrator(t *testing.T) {
	tests := map[string]bool{
		"arn:aws:iam::aws:policy/AdministratorAccess":              true,
		"arn:aws-us-gov:iam::aws:policy/AdministratorAccess":       true,
		" arn:aws-cn:iam::aws:policy/AdministratorAccess ":         true,
		"arn:aws:iam::aws:policy/ReadOnlyAccess":                   false,
		"arn:aws:iam::aws:policy/AdministratorAccess-Amplify":      false,
		"arn:aws:iam::123456789012:policy/AdministratorAccess":     false,
		"AdministratorAccess":                                      false,
		"arn:aws:iam::aws:policy/job-function/SystemAdministrator": false,
	}
	for arn, want := range tests {
		t.Run(arn, func(t *testing.T) { assert.Equal(t, want, IsAdministrator(arn)) })
	}
}
