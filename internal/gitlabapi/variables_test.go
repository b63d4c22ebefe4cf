package gitlabapi_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/gitlabapi"
)

var (
	projectTarget = gitlabapi.VariableTarget{Kind: gitlabapi.TargetProject, ID: "acme/team/payments"}
	groupTarget   = gitlabapi.VariableTarget{Kind: gitlabapi.TargetGroup, ID: "acme"}
)

const roleARN = "arn:aws:iam::123456789012:role/acme-payments-main"

func TestVariableLifecycle(t *testing.T) {
	for name, tc := range map[string]struct {
		target gitlabapi.VariableTarget
		token  string
	}{
		"project": {projectTarget, maintainerToken},
		"group":   {groupTarget, ownerToken},
	} {
		t.Run(name, func(t *testing.T) {
			srv := world(t)
			c := client(t, srv, tc.token)
			ctx := context.Background()

			got, err := c.Variable(ctx, tc.target, "AWS_ROLE_ARN", "*")
			require.NoError(t, err)
			assert.Nil(t, got, "a missing variable is (nil, nil)")

			want := gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: roleARN, VariableType: "env_var", Protected: true, EnvironmentScope: "*", Description: "set by gitlab-oidc"}
			created, err := c.CreateVariable(ctx, tc.target, want)
			require.NoError(t, err)
			assert.Equal(t, want, created)

			got, err = c.Variable(ctx, tc.target, "AWS_ROLE_ARN", "*")
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, want, *got)

			_, err = c.CreateVariable(ctx, tc.target, want)
			require.Error(t, err)
			assert.Equal(t, 400, gitlabapi.StatusOf(err))
			assert.Contains(t, err.Error(), "AWS_ROLE_ARN has already been taken")

			want.Value = roleARN + "-v2"
			want.Protected = false
			updated, err := c.UpdateVariable(ctx, tc.target, want)
			require.NoError(t, err)
			assert.Equal(t, want, updated)
		})
	}
}

func TestVariableEnvironmentScopes(t *testing.T) {
	srv := world(t)
	c := client(t, srv, maintainerToken)
	ctx := context.Background()
	for _, scope := range []string{"*", "production"} {
		_, err := c.CreateVariable(ctx, projectTarget, gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: roleARN + "-" + scope[:1], EnvironmentScope: scope})
		require.NoError(t, err, scope)
	}

	prod, err := c.Variable(ctx, projectTarget, "AWS_ROLE_ARN", "production")
	require.NoError(t, err)
	require.NotNil(t, prod)
	assert.Equal(t, roleARN+"-p", prod.Value, "filter[environment_scope] picks the scope")

	staging, err := c.Variable(ctx, projectTarget, "AWS_ROLE_ARN", "staging")
	require.NoError(t, err)
	assert.Nil(t, staging)

	_, err = c.Variable(ctx, projectTarget, "AWS_ROLE_ARN", "")
	require.Error(t, err)
	assert.Equal(t, 409, gitlabapi.StatusOf(err))
	assert.Contains(t, err.Error(), "There are multiple variables with provided parameters")

	_, err = c.UpdateVariable(ctx, projectTarget, gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: "new-value-p", EnvironmentScope: "production"})
	require.NoError(t, err)
	vars := srv.Variables(42)
	require.Len(t, vars, 2)
	assert.Equal(t, roleARN+"-*", vars[0].Value, "the * variable is untouched")
	assert.Equal(t, "new-value-p", vars[1].Value)
}

func TestVariableValidation(t *testing.T) {
	tests := map[string]struct {
		v        gitlabapi.Variable
		wantText string
	}{
		"bad key":            {gitlabapi.Variable{Key: "AWS-ROLE", Value: "x"}, "can contain only letters, digits and '_'"},
		"short masked":       {gitlabapi.Variable{Key: "K", Value: "short", Masked: true}, "value: is invalid"},
		"masked with spaces": {gitlabapi.Variable{Key: "K", Value: "has some spaces", Masked: true}, "value: is invalid"},
		"bad type":           {gitlabapi.Variable{Key: "K", Value: "x", VariableType: "secret"}, "variable_type does not have a valid value"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := world(t)
			_, err := client(t, srv, maintainerToken).CreateVariable(context.Background(), projectTarget, tc.v)
			require.Error(t, err)
			assert.Equal(t, 400, gitlabapi.StatusOf(err))
			assert.Contains(t, err.Error(), tc.wantText)
			assert.Empty(t, srv.Variables(42))
		})
	}
	t.Run("masked ARN is accepted", func(t *testing.T) {
		srv := world(t)
		_, err := client(t, srv, maintainerToken).CreateVariable(context.Background(), projectTarget, gitlabapi.Variable{Key: "K", Value: roleARN, Masked: true})
		require.NoError(t, err)
	})
}

func TestVariableOfMissingProjectIsAnError(t *testing.T) {
	srv := world(t)
	v, err := client(t, srv, maintainerToken).Variable(context.Background(),
		gitlabapi.VariableTarget{Kind: gitlabapi.TargetProject, ID: "acme/nope"}, "AWS_ROLE_ARN", "*")
	assert.Nil(t, v)
	require.Error(t, err, "404 Project Not Found must not read as a missing variable")
	assert.True(t, gitlabapi.IsNotFound(err))
}
