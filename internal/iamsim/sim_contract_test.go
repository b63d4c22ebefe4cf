package iamsim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/iamsim"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/testenv"
)

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/gitlab.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"https://gitlab.com","gitlab.com:sub":"project_path:g/p:ref_type:branch:ref:main"}}}]}`

const inline = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::site/*"}]}`

// backends returns moto (the reference) and iamsim, so every behaviour below
// is checked against a real emulator and the simulator alike.
func backends(t *testing.T) map[string]awsapi.IAM {
	t.Helper()
	m := testenv.StartMoto(t)
	return map[string]awsapi.IAM{
		"moto":   iam.NewFromConfig(m.AWSConfig()),
		"iamsim": iamsim.New(),
	}
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

// TestSameBehaviourAsMoto runs one scenario against both backends and
// compares what a caller observes: results, error codes and encodings.
func TestSameBehaviourAsMoto(t *testing.T) {
	ctx := context.Background()
	for name, c := range backends(t) {
		t.Run(name, func(t *testing.T) {
			pout, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
				Url: aws.String("https://gitlab.com"), ClientIDList: []string{"https://gitlab.com"},
			})
			require.NoError(t, err)
			provARN := aws.ToString(pout.OpenIDConnectProviderArn)
			assert.Equal(t, "arn:aws:iam::123456789012:oidc-provider/gitlab.com", provARN)

			_, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
				Url: aws.String("https://gitlab.com"), ClientIDList: []string{"x"},
			})
			assert.Equal(t, "EntityAlreadyExists", code(err))

			got, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provARN)})
			require.NoError(t, err)
			assert.Equal(t, "gitlab.com", aws.ToString(got.Url), "IAM stores the URL without its scheme")
			assert.Equal(t, []string{"https://gitlab.com"}, got.ClientIDList)

			_, err = c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::123456789012:oidc-provider/nope.example")})
			assert.Equal(t, "NoSuchEntity", code(err))

			list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
			require.NoError(t, err)
			require.Len(t, list.OpenIDConnectProviderList, 1)
			assert.Equal(t, provARN, aws.ToString(list.OpenIDConnectProviderList[0].Arn))

			rout, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trust)})
			require.NoError(t, err)
			assert.Equal(t, "arn:aws:iam::123456789012:role/deploy", aws.ToString(rout.Role.Arn))
			_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trust)})
			assert.Equal(t, "EntityAlreadyExists", code(err))

			role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")})
			require.NoError(t, err)
			doc := aws.ToString(role.Role.AssumeRolePolicyDocument)
			assert.True(t, strings.HasPrefix(doc, "%7B"), "trust policy is URL-encoded: %s", doc)
			parsed, err := policy.Parse([]byte(doc))
			require.NoError(t, err)
			want, _ := policy.Parse([]byte(trust))
			assert.True(t, policy.Equivalent(want, parsed))
			assert.Equal(t, int32(3600), aws.ToInt32(role.Role.MaxSessionDuration))

			_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("missing")})
			assert.Equal(t, "NoSuchEntity", code(err))
			_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: aws.String("{not json")})
			assert.Equal(t, "MalformedPolicyDocument", code(err))
			_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("missing"), PolicyDocument: aws.String(trust)})
			assert.Equal(t, "NoSuchEntity", code(err))

			_, err = c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("deploy"), MaxSessionDuration: aws.Int32(7200)})
			require.NoError(t, err)
			role, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")})
			require.NoError(t, err)
			assert.Equal(t, int32(7200), aws.ToInt32(role.Role.MaxSessionDuration))

			_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(inline)})
			require.NoError(t, err)
			names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("deploy")})
			require.NoError(t, err)
			assert.Equal(t, []string{"s3"}, names.PolicyNames)
			rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("s3")})
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(aws.ToString(rp.PolicyDocument), "%7B"), "inline policy is URL-encoded")
			_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("nope")})
			assert.Equal(t, "NoSuchEntity", code(err))

			_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("deploy"), PolicyArn: aws.String("arn:aws:iam::123456789012:policy/nope")})
			assert.Equal(t, "NoSuchEntity", code(err))
			attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("deploy")})
			require.NoError(t, err)
			assert.Empty(t, attached.AttachedPolicies)
		})
	}
}
