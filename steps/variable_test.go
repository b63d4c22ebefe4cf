package steps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/token"
)

const (
	glMaintainer = "glpat-maintainer"
	glDeveloper  = "glpat-developer"
	glOwner      = "glpat-owner"
	testRoleARN  = "arn:aws:iam::123456789012:role/acme-payments-main"
)

// gitlabWorld serves acme/payments (ID 4242) with a Maintainer, a Developer
// and an Owner of group acme.
func gitlabWorld(t *testing.T) *gitlabfake.Server {
	t.Helper()
	srv := gitlabfake.Start(t)
	srv.AddProject(gitlabfake.Project{ID: 4242, Path: "acme/payments", SubClaimComponents: token.DefaultSubComponents,
		ProtectedBranches: []string{"main"}, ProtectedTags: []string{"v*"}})
	srv.AddUser(glMaintainer, "maria")
	srv.SetAccess(glMaintainer, "acme/payments", gitlabapi.Maintainer)
	srv.AddUser(glDeveloper, "dev")
	srv.SetAccess(glDeveloper, "acme/payments", gitlabapi.Developer)
	srv.AddUser(glOwner, "olga")
	srv.SetAccess(glOwner, "acme", gitlabapi.Owner)
	return srv
}

func gitlabClient(t *testing.T, srv *gitlabfake.Server, token string) gitlabapi.Client {
	t.Helper()
	c, err := gitlabapi.New(srv.URL, token, nil, gitlabapi.WithRetries(2, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	return c
}

func roleVariable(target gitlabapi.VariableTarget) VariableSpec {
	return VariableSpec{Target: target, Key: "AWS_ROLE_ARN", Value: testRoleARN, Protected: true}
}

var paymentsTarget = gitlabapi.VariableTarget{Kind: gitlabapi.TargetProject, ID: "acme/payments"}

func TestEnsureVariable(t *testing.T) {
	tests := map[string]struct {
		seed       *gitlabapi.Variable // existing variable in scope *
		decisions  Decisions
		apply      bool
		wantAction Action
		wantWrites int
		wantValue  string // stored value afterwards ("" = no variable)
		conflict   bool
		diffHas    []string
	}{
		"create": {
			apply: true, wantAction: ActionCreate, wantWrites: 1, wantValue: testRoleARN,
		},
		"create preview writes nothing": {
			apply: false, wantAction: ActionCreate,
		},
		"identical is kept without writes": {
			seed:  &gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: testRoleARN, Protected: true, Description: "by hand"},
			apply: true, wantAction: ActionKeep, wantValue: testRoleARN,
		},
		"different value is a conflict": {
			seed:  &gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/old", Protected: false},
			apply: true, wantAction: ActionUpdate, conflict: true, wantValue: "arn:aws:iam::123456789012:role/old",
			diffHas: []string{"-value: arn:aws:iam::123456789012:role/old", "+value: " + testRoleARN, "-protected: false", "+protected: true"},
		},
		"replace with permission": {
			seed:      &gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/old", VariableType: "file", Protected: true},
			decisions: Decisions{ReplaceVariable: true}, apply: true,
			wantAction: ActionUpdate, wantWrites: 1, wantValue: testRoleARN,
			diffHas: []string{"-variable_type: file", "+variable_type: env_var"},
		},
		"replace preview writes nothing": {
			seed:      &gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/old", Protected: true},
			decisions: Decisions{ReplaceVariable: true}, apply: false,
			wantAction: ActionUpdate, wantValue: "arn:aws:iam::123456789012:role/old",
		},
		"masked value of others is not shown": {
			seed:  &gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: "arn:aws:iam::999999999999:role/secret", Masked: true, Protected: true},
			apply: true, wantAction: ActionUpdate, conflict: true, wantValue: "arn:aws:iam::999999999999:role/secret",
			diffHas: []string{"-value: (masked) …cret", "-masked: true"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := gitlabWorld(t)
			if tc.seed != nil {
				srv.AddVariable(paymentsTarget, *tc.seed)
			}
			gl := gitlabClient(t, srv, glMaintainer)
			v, changes, err := EnsureVariable(context.Background(), gl, roleVariable(paymentsTarget), tc.decisions, tc.apply)

			var ce *ConflictError
			assert.Equal(t, tc.conflict, errors.As(err, &ce), "err = %v", err)
			if !tc.conflict {
				require.NoError(t, err)
			}
			require.Len(t, changes, 1)
			ch := changes[0]
			assert.Equal(t, tc.wantAction, ch.Action)
			assert.Equal(t, ResourceVariable, ch.Resource)
			assert.Equal(t, "AWS_ROLE_ARN", ch.Name)
			assert.Equal(t, tc.wantWrites > 0, ch.Applied)
			for _, s := range tc.diffHas {
				assert.Contains(t, ch.Diff, s)
			}
			if tc.conflict {
				assert.Equal(t, ch.Diff, ce.Diff)
				assert.NotContains(t, ch.Diff, "999999999999", "someone's masked value leaks into the diff")
			}
			assert.Len(t, srv.Writes(), tc.wantWrites)

			stored := srv.Variables(4242)
			if tc.wantValue == "" {
				assert.Empty(t, stored)
				assert.Equal(t, testRoleARN, v.Value, "a preview returns the planned variable")
				return
			}
			require.Len(t, stored, 1)
			assert.Equal(t, tc.wantValue, stored[0].Value)
			if tc.wantWrites > 0 {
				assert.Equal(t, stored[0], v)
				assert.True(t, stored[0].Protected)
				assert.Equal(t, "env_var", stored[0].VariableType)
			}
		})
	}
}

func TestEnsureVariableSecondRunWritesNothing(t *testing.T) {
	for name, target := range map[string]gitlabapi.VariableTarget{
		"project": paymentsTarget,
		"group":   {Kind: gitlabapi.TargetGroup, ID: "acme"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := gitlabWorld(t)
			gl := gitlabClient(t, srv, glOwner)
			spec := roleVariable(target)
			spec.EnvironmentScope = "production"
			_, first, err := EnsureVariable(context.Background(), gl, spec, Decisions{}, true)
			require.NoError(t, err)
			assert.Equal(t, ActionCreate, first[0].Action)

			srv.ResetRequests()
			_, second, err := EnsureVariable(context.Background(), gl, spec, Decisions{}, true)
			require.NoError(t, err)
			assert.Equal(t, ActionKeep, second[0].Action)
			assert.Empty(t, srv.Writes())
			assert.Len(t, srv.Requests(), 1, "one GET decides")
			assert.Contains(t, srv.Requests()[0].Query, "filter%5Benvironment_scope%5D=production")
		})
	}
}

func TestEnsureVariableOtherScopeIsLeftAlone(t *testing.T) {
	srv := gitlabWorld(t)
	srv.AddVariable(paymentsTarget, gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/staging", EnvironmentScope: "staging"})
	spec := roleVariable(paymentsTarget)
	spec.EnvironmentScope = "production"
	_, changes, err := EnsureVariable(context.Background(), gitlabClient(t, srv, glMaintainer), spec, Decisions{}, true)
	require.NoError(t, err)
	assert.Equal(t, ActionCreate, changes[0].Action)
	stored := srv.Variables(4242)
	require.Len(t, stored, 2)
	assert.Equal(t, "production", stored[0].EnvironmentScope)
	assert.Equal(t, "arn:aws:iam::123456789012:role/staging", stored[1].Value)
}

func TestEnsureVariableErrors(t *testing.T) {
	tests := map[string]struct {
		token    string
		spec     func(VariableSpec) VariableSpec
		wantText string
		requests int
	}{
		"bad key": {glMaintainer, func(s VariableSpec) VariableSpec { s.Key = "AWS-ROLE"; return s },
			"only letters, digits and _", 0},
		"long key": {glMaintainer, func(s VariableSpec) VariableSpec { s.Key = strings.Repeat("K", 256); return s },
			"at most 255", 0},
		"unmaskable value": {glMaintainer, func(s VariableSpec) VariableSpec { s.Masked = true; s.Value = "has spaces in it"; return s },
			"cannot be masked", 0},
		"Developer cannot read variables": {glDeveloper, func(s VariableSpec) VariableSpec { return s },
			"need the Maintainer role", 1},
		"group variables need Owner": {glMaintainer, func(s VariableSpec) VariableSpec {
			s.Target = gitlabapi.VariableTarget{Kind: gitlabapi.TargetGroup, ID: "acme"}
			return s
		}, "need the Owner role", 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := gitlabWorld(t)
			_, _, err := EnsureVariable(context.Background(), gitlabClient(t, srv, tc.token), tc.spec(roleVariable(paymentsTarget)), Decisions{}, true)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantText)
			assert.Empty(t, srv.Writes())
			assert.Len(t, srv.Requests(), tc.requests)
		})
	}
}

func TestProtectedVariableWarning(t *testing.T) {
	tests := map[string]struct {
		protected bool
		refs      []string
		want      string
	}{
		"unprotected variable":   {false, []string{"branch dev"}, ""},
		"all refs are protected": {true, nil, ""},
		"one ref":                {true, []string{"branch feature/*"}, "AWS_ROLE_ARN is protected but branch feature/* is not protected: jobs there will see an empty AWS_ROLE_ARN"},
		"two refs":               {true, []string{"branch dev", "tag rc-*"}, "but branch dev, tag rc-* are not protected"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ProtectedVariableWarning("AWS_ROLE_ARN", tc.protected, tc.refs)
			if tc.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tc.want)
		})
	}
}
