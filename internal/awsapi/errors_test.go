package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opErr wraps an API error the way the SDK does.
func opErr(op string, err error) error {
	return &smithy.OperationError{ServiceID: "IAM", OperationName: op, Err: err}
}

func TestClassify(t *testing.T) {
	tests := map[string]struct {
		err          error
		wantNil      bool
		wantCode     string
		wantPerm     string
		whyContains  string
		fixContains  string
		whatContains string
	}{
		"access denied, permission from message": {
			err: opErr("CreateRole", &smithy.GenericAPIError{Code: "AccessDenied",
				Message: "User: arn:aws:iam::1:user/a is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::1:role/r"}),
			wantCode: "AccessDenied", wantPerm: "iam:CreateRole", whyContains: "arn:aws:iam::1:role/r",
			fixContains: "iam:TagRole", whatContains: "IAM CreateRole",
		},
		"access denied, permission from operation": {
			err:      opErr("CreateOpenIDConnectProvider", &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access denied"}),
			wantCode: "AccessDenied", wantPerm: "iam:CreateOpenIDConnectProvider", fixContains: "iam:TagOpenIDConnectProvider",
		},
		"access denied exception (json protocols)": {
			err:      opErr("GetRole", &smithy.GenericAPIError{Code: "AccessDeniedException"}),
			wantCode: "AccessDeniedException", wantPerm: "iam:GetRole", fixContains: "--profile",
		},
		"access denied by SCP": {
			err: opErr("CreateRole", &smithy.GenericAPIError{Code: "AccessDenied",
				Message: "User: x is not authorized to perform: iam:CreateRole with an explicit deny in a service control policy"}),
			wantCode: "AccessDenied", wantPerm: "iam:CreateRole", whyContains: "service control policy", fixContains: "organization",
		},
		"typed SDK exception": {
			err:      opErr("GetRole", &types.NoSuchEntityException{Message: strPtr("The role with name x cannot be found.")}),
			wantCode: "NoSuchEntity", whyContains: "cannot be found", fixContains: "get-caller-identity",
		},
		"already exists": {
			err:      opErr("CreateRole", &smithy.GenericAPIError{Code: "EntityAlreadyExists"}),
			wantCode: "EntityAlreadyExists", fixContains: "reuses",
		},
		"provider quota": {
			err:      opErr("CreateOpenIDConnectProvider", &smithy.GenericAPIError{Code: "LimitExceeded"}),
			wantCode: "LimitExceeded", whyContains: "100 IAM OIDC providers",
		},
		"malformed policy": {
			err:      opErr("UpdateAssumeRolePolicy", &smithy.GenericAPIError{Code: "MalformedPolicyDocument", Message: "Syntax errors in policy."}),
			wantCode: "MalformedPolicyDocument", whyContains: "Syntax errors",
		},
		"unknown federated principal": {
			err:      opErr("CreateRole", &smithy.GenericAPIError{Code: "MalformedPolicyDocument", Message: "Invalid principal in policy: \"FEDERATED\":\"arn:aws:iam::1:oidc-provider/gitlab.com\""}),
			wantCode: "MalformedPolicyDocument", whyContains: "principal", fixContains: "list-open-id-connect-providers",
		},
		"invalid token": {
			err:      opErr("GetRole", &smithy.GenericAPIError{Code: "InvalidClientTokenId"}),
			wantCode: "InvalidClientTokenId", fixContains: "aws sso login --profile",
		},
		"expired token": {
			err:      opErr("GetRole", &smithy.GenericAPIError{Code: "ExpiredToken"}),
			wantCode: "ExpiredToken", whyContains: "expired", fixContains: "aws sso login",
		},
		"throttling": {
			err:      opErr("ListRoles", &smithy.GenericAPIError{Code: "Throttling"}),
			wantCode: "Throttling", whyContains: "throttled", fixContains: "idempotent",
		},
		"missing credentials": {
			err:      opErr("GetCallerIdentity", fmt.Errorf("get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found")),
			wantCode: "NoCredentials", fixContains: "AWS_PROFILE",
		},
		"unknown code keeps the message": {
			err:      opErr("GetRole", &smithy.GenericAPIError{Code: "SomethingNew", Message: "odd"}),
			wantCode: "SomethingNew", whyContains: "odd",
		},
		"not an AWS error": {err: context.Canceled, wantNil: true},
		"nil":              {err: nil, wantNil: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := Classify(tc.err)
			if tc.wantNil {
				assert.Nil(t, h)
				return
			}
			require.NotNil(t, h)
			assert.Equal(t, tc.wantCode, h.Code)
			assert.Equal(t, tc.wantPerm, h.Permission)
			assert.Contains(t, h.Why, tc.whyContains)
			assert.Contains(t, h.Fix, tc.fixContains)
			assert.Contains(t, h.What, tc.whatContains)
			assert.NotEmpty(t, h.Why)
			assert.NotEmpty(t, h.Fix)
		})
	}
}

func TestExplain(t *testing.T) {
	api := &smithy.GenericAPIError{Code: "EntityAlreadyExists", Message: "Role with name deploy already exists."}
	err := Explain(opErr("CreateRole", api), `create role "deploy"`)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "IAM.CreateRole", e.Op)
	assert.Equal(t, `create role "deploy" failed`, e.What)
	assert.Contains(t, err.Error(), `create role "deploy" failed: `)
	assert.Contains(t, err.Error(), "(fix: ")
	var got smithy.APIError
	require.ErrorAs(t, err, &got)
	assert.Same(t, api, got)

	assert.Same(t, err, Explain(err, "again"), "an explained error is not wrapped twice")
	assert.NoError(t, Explain(nil, "x"))

	cancelled := Explain(context.Canceled, "list roles")
	assert.True(t, errors.Is(cancelled, context.Canceled))
	assert.False(t, errors.As(cancelled, &e))
	assert.Equal(t, "list roles: context canceled", cancelled.Error())
}

func strPtr(s string) *string { return &s }

// TestClassifyUnreachable calls IAM on a closed loopback port, the way a
// stale AWS_ENDPOINT_URL does: the hint must name the variable, and without
// it point at the network, instead of echoing the SDK's retry text alone.
func TestClassifyUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	tests := map[string]struct {
		endpoint    string
		fixContains string
	}{
		"endpoint override":    {endpoint: closed, fixContains: "AWS_ENDPOINT_URL=" + closed + " is set"},
		"no endpoint override": {fixContains: "network connection"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AWS_ENDPOINT_URL", tc.endpoint)
			t.Setenv("AWS_ENDPOINT_URL_IAM", "")
			t.Setenv("AWS_ENDPOINT_URL_STS", "")
			client := iam.New(iam.Options{
				Region: "us-east-1", BaseEndpoint: aws.String(closed), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("x", "x", ""),
			})
			_, callErr := client.ListRoles(context.Background(), &iam.ListRolesInput{})
			require.Error(t, callErr)
			h := Classify(callErr)
			require.NotNil(t, h, "%v", callErr)
			assert.Equal(t, "Unreachable", h.Code)
			assert.Equal(t, "IAM ListRoles got no answer", h.What)
			assert.Contains(t, h.Why, "connection refused")
			assert.Contains(t, h.Fix, tc.fixContains)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	client := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(closed),
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")})
	_, callErr := client.ListRoles(ctx, &iam.ListRolesInput{})
	assert.Nil(t, Classify(callErr), "a cancelled call is not explained as unreachable: %v", callErr)
}
