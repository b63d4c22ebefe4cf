package steps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/iamsim"
	"gitlab-oidc/internal/policy"
)

func ourTrust(t *testing.T, subs ...string) *policy.Document {
	t.Helper()
	if len(subs) == 0 {
		subs = []string{"project_path:acme/site:ref_type:branch:ref:main"}
	}
	doc, err := policy.BuildTrust(policy.TrustSpec{
		Sid: "GitLabOIDCacmesite", ProviderARN: gitlabProviderARN, KeyPrefix: "gitlab.com",
		Audiences: []string{"https://gitlab.com"}, ExactSubs: subs,
	})
	require.NoError(t, err)
	return doc
}

func roleSpec(t *testing.T, b *awsBackend) RoleSpec {
	return RoleSpec{
		Name:              "gitlab-acme-site-main",
		TrustPolicy:       ourTrust(t),
		MaxSessionSeconds: 3600,
		PolicyARNs:        []string{b.createPolicy(t, "deploy-metrics", fixture(t, "extra-managed.json"))},
		InlinePolicies:    []InlinePolicy{{Name: "s3-deploy", Document: fixture(t, "s3-inline.json")}},
		Tags:              map[string]string{"gitlab-project": "acme/site"},
		Description:       "GitLab CI acme/site main",
	}
}

func currentTrust(t *testing.T, b *awsBackend, name string) *policy.Document {
	t.Helper()
	out, err := b.iam.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(name)})
	require.NoError(t, err)
	doc, err := policy.Parse([]byte(aws.ToString(out.Role.AssumeRolePolicyDocument)))
	require.NoError(t, err)
	return doc
}

func TestEnsureRoleFreshAccountCreates(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, awsBackends(t), func(t *testing.T, b *awsBackend) {
		spec := roleSpec(t, b)
		b.log.Reset()

		// A preview computes the same changes with reads only.
		_, preview, err := EnsureRole(ctx, b.iam, spec, Decisions{}, false)
		require.NoError(t, err)
		assert.Equal(t, []Action{ActionCreate, ActionAttach, ActionCreate}, actions(preview))
		assert.Empty(t, b.log.Writes())

		res, changes, err := EnsureRole(ctx, b.iam, spec, Decisions{}, true)
		require.NoError(t, err)
		assert.False(t, res.Existed)
		assert.Equal(t, "arn:aws:iam::123456789012:role/gitlab-acme-site-main", res.ARN)
		assert.Equal(t, []Action{ActionCreate, ActionAttach, ActionCreate}, actions(changes))
		for _, c := range changes {
			assert.True(t, c.Applied)
		}
		assert.Equal(t, []string{"IAM.CreateRole", "IAM.AttachRolePolicy", "IAM.PutRolePolicy"}, b.log.Writes())
		assert.True(t, policy.Equivalent(spec.TrustPolicy, currentTrust(t, b, spec.Name)))

		out, err := b.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
		require.NoError(t, err)
		tags := map[string]string{}
		for _, tg := range out.Role.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		assert.Equal(t, "gitlab-oidc", tags["managed-by"])
		assert.Equal(t, "acme/site", tags["gitlab-project"])

		// The second, identical run keeps everything and writes nothing.
		b.log.Reset()
		res, changes, err = EnsureRole(ctx, b.iam, spec, Decisions{}, true)
		require.NoError(t, err)
		assert.True(t, res.Existed)
		for _, c := range changes {
			assert.Equal(t, ActionKeep, c.Action, "%+v", c)
		}
		assert.Empty(t, b.log.Writes())
		assert.NotEmpty(t, b.log.Calls())
	})
}

func TestEnsureRoleForeignTrustPolicy(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, awsBackends(t), func(t *testing.T, b *awsBackend) {
		spec := roleSpec(t, b)
		spec.PolicyARNs, spec.InlinePolicies = nil, nil
		_, err := b.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(spec.Name), AssumeRolePolicyDocument: aws.String(fixture(t, "foreign-trust.json"))})
		require.NoError(t, err)
		foreign, err := policy.Parse([]byte(fixture(t, "foreign-trust.json")))
		require.NoError(t, err)
		b.log.Reset()

		// Without permission: a conflict with the diff, and nothing written.
		_, changes, err := EnsureRole(ctx, b.iam, spec, Decisions{}, true)
		var conflict *ConflictError
		require.ErrorAs(t, err, &conflict)
		assert.Equal(t, spec.Name, conflict.Name)
		assert.Contains(t, conflict.Diff, "+ ")
		assert.Contains(t, conflict.Diff, "GitHubDeploy", "the diff shows the statement that stays")
		assert.Contains(t, conflict.Diff, "project_path:acme/site")
		assert.NotContains(t, conflict.Diff, "\n- ", "nothing is removed")
		assert.Contains(t, conflict.Hint, "--yes")
		assert.Contains(t, actions(changes), ActionUpdate)
		assert.Empty(t, b.log.Writes())
		assert.True(t, policy.Equivalent(foreign, currentTrust(t, b, spec.Name)))

		// With permission: our statement is appended, the foreign one kept.
		_, _, err = EnsureRole(ctx, b.iam, spec, Decisions{AddTrustStatement: true}, true)
		require.NoError(t, err)
		assert.Equal(t, []string{"IAM.UpdateAssumeRolePolicy"}, b.log.Writes())
		got := currentTrust(t, b, spec.Name)
		require.Len(t, got.Statements, 2)
		assert.True(t, policy.ContainsStatement(got, foreign.Statements[0]), "the foreign statement is kept")
		assert.True(t, policy.ContainsStatement(got, spec.TrustPolicy.Statements[0]), "our statement is added")

		// Again: the role contains our statement, so nothing changes.
		b.log.Reset()
		_, changes, err = EnsureRole(ctx, b.iam, spec, Decisions{}, true)
		require.NoError(t, err)
		for _, c := range changes {
			assert.Equal(t, ActionKeep, c.Action, "%+v", c)
		}
		assert.Empty(t, b.log.Writes())
	})
}

func TestEnsureRoleUpdatesExisting(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, awsBackends(t), func(t *testing.T, b *awsBackend) {
		spec := roleSpec(t, b)
		other := b.createPolicy(t, "someone-elses", fixture(t, "extra-managed.json"))
		_, err := b.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(spec.Name), AssumeRolePolicyDocument: aws.String(mustMarshal(t, spec.TrustPolicy))})
		require.NoError(t, err)
		_, err = b.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(spec.Name), PolicyArn: aws.String(other)})
		require.NoError(t, err)
		_, err = b.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String("s3-deploy"), PolicyDocument: aws.String(fixture(t, "s3-inline-v2.json"))})
		require.NoError(t, err)
		_, err = b.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String("hand-made"), PolicyDocument: aws.String(fixture(t, "s3-inline.json"))})
		require.NoError(t, err)
		spec.MaxSessionSeconds = 7200
		b.log.Reset()

		_, preview, err := EnsureRole(ctx, b.iam, spec, Decisions{}, false)
		require.NoError(t, err)
		assert.Empty(t, b.log.Writes(), "a preview only reads")

		_, changes, err := EnsureRole(ctx, b.iam, spec, Decisions{}, true)
		require.NoError(t, err)
		assert.Equal(t, len(preview), len(changes))
		byName := map[string]Change{}
		for _, c := range changes {
			byName[c.Resource+" "+c.Name+" "+string(c.Action)] = c
		}
		assert.Contains(t, byName, "managed policy "+other+" keep", "a foreign managed policy is kept, not detached")
		assert.Contains(t, byName, "managed policy "+spec.PolicyARNs[0]+" attach")
		assert.Contains(t, byName, "inline policy hand-made keep")
		upd, ok := byName["inline policy s3-deploy update"]
		require.True(t, ok, "changes: %+v", changes)
		assert.Contains(t, upd.Diff, `- `)
		assert.Contains(t, upd.Diff, "s3:DeleteObject")
		assert.Contains(t, byName, "IAM role arn:aws:iam::123456789012:role/"+spec.Name+" update")
		assert.ElementsMatch(t, []string{"IAM.UpdateRole", "IAM.AttachRolePolicy", "IAM.PutRolePolicy"}, b.log.Writes())

		out, err := b.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
		require.NoError(t, err)
		assert.Equal(t, int32(7200), aws.ToInt32(out.Role.MaxSessionDuration))
		att, err := b.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(spec.Name)})
		require.NoError(t, err)
		assert.Len(t, att.AttachedPolicies, 2)

		b.log.Reset()
		_, _, err = EnsureRole(ctx, b.iam, spec, Decisions{}, true)
		require.NoError(t, err)
		assert.Empty(t, b.log.Writes(), "the second run writes nothing")
	})
}

func TestEnsureRoleRefusesTrustWithoutSub(t *testing.T) {
	noSub, err := policy.Parse([]byte(fixture(t, "no-sub-trust.json")))
	require.NoError(t, err)
	negated := ourTrust(t)
	negated.Statements[0].Conditions[1].Operator = "StringNotEquals"
	anySub := ourTrust(t)
	anySub.Statements[0].Conditions[1] = policy.Condition{Operator: "StringLike", Key: "gitlab.com:sub", Values: []string{"*"}}
	ifExists := ourTrust(t)
	ifExists.Statements[0].Conditions[1].Operator = "StringEqualsIfExists"
	tests := map[string]*policy.Document{
		"no sub condition":   noSub,
		"negated operator":   negated,
		"sub is a bare star": anySub,
		"IfExists":           ifExists,
		"nil document":       nil,
	}
	backends := awsBackends(t)
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			forEachBackend(t, backends, func(t *testing.T, b *awsBackend) {
				_, _, err := EnsureRole(context.Background(), b.iam, RoleSpec{Name: "r", TrustPolicy: doc}, Decisions{AddTrustStatement: true}, true)
				require.ErrorIs(t, err, ErrNoSub)
				assert.Empty(t, b.log.Calls(), "refused before any AWS call")
			})
		})
	}
}

func TestEnsureRoleInvalidSpec(t *testing.T) {
	tests := map[string]func(*RoleSpec){
		"bad role name":     func(s *RoleSpec) { s.Name = "bad name" },
		"session too short": func(s *RoleSpec) { s.MaxSessionSeconds = 60 },
		"bad inline name": func(s *RoleSpec) {
			s.InlinePolicies = []InlinePolicy{{Name: "a b", Document: `{"Version":"2012-10-17","Statement":[]}`}}
		},
		"bad inline doc": func(s *RoleSpec) { s.InlinePolicies = []InlinePolicy{{Name: "ok", Document: `{`}} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			s := iamsim.New()
			s.Log = &awsapi.CallLog{}
			spec := RoleSpec{Name: "r", TrustPolicy: ourTrust(t)}
			mutate(&spec)
			_, _, err := EnsureRole(context.Background(), s, spec, Decisions{}, true)
			require.Error(t, err)
			assert.Empty(t, s.Log.Calls())
		})
	}
}

func TestEnsureRoleExplainsAccessDenied(t *testing.T) {
	s := iamsim.New()
	c := deniedIAM{IAM: s, op: "CreateRole"}
	_, _, err := EnsureRole(context.Background(), c, RoleSpec{Name: "r", TrustPolicy: ourTrust(t)}, Decisions{}, true)
	var e *awsapi.Error
	require.True(t, errors.As(err, &e), "got %v", err)
	assert.Equal(t, "iam:CreateRole", e.Permission)
	assert.True(t, strings.HasPrefix(e.What, `create role "r"`))
}

// deniedIAM answers one operation with IAM's AccessDenied, as real IAM does
// for an identity without the permission; everything else goes to the sim.
type deniedIAM struct {
	awsapi.IAM
	op string
}

func (d deniedIAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	return nil, accessDenied("CreateRole")
}

func TestValidateRoleName(t *testing.T) {
	tests := map[string]bool{
		"gitlab-acme-site-main": true,
		"a":                     true,
		"with+=,.@_-":           true,
		strings.Repeat("x", 64): true,
		strings.Repeat("x", 65): false,
		"":                      false,
		"has space":             false,
		"slash/no":              false,
		"ünïcode":               false,
	}
	for name, ok := range tests {
		t.Run(name, func(t *testing.T) {
			err := ValidateRoleName(name)
			assert.Equal(t, ok, err == nil, "%v", err)
		})
	}
}

// TestEnsureRoleWaitsForProviderPropagation simulates IAM's eventual
// consistency: right after the provider is created, CreateRole may be told
// the Federated principal is invalid. EnsureRole retries a bounded number of
// times; other errors are not retried.
func TestEnsureRoleWaitsForProviderPropagation(t *testing.T) {
	saved := propagationDelays
	propagationDelays = []time.Duration{time.Millisecond, time.Millisecond}
	defer func() { propagationDelays = saved }()
	tests := map[string]struct {
		failures  int
		message   string
		wantErr   bool
		wantCalls int
	}{
		"visible after two tries": {failures: 2, message: "Invalid principal in policy: \"FEDERATED\":\"arn\"", wantCalls: 3},
		"never visible":           {failures: 10, message: "Invalid principal in policy", wantErr: true, wantCalls: 3},
		"other malformed policy":  {failures: 10, message: "Syntax errors in policy.", wantErr: true, wantCalls: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := &flakyCreateRole{IAM: iamsim.New(), failures: tc.failures, message: tc.message}
			res, _, err := EnsureRole(context.Background(), c, RoleSpec{Name: "r", TrustPolicy: ourTrust(t)}, Decisions{}, true)
			assert.Equal(t, tc.wantErr, err != nil, "%v", err)
			assert.Equal(t, tc.wantCalls, c.calls)
			if !tc.wantErr {
				assert.Equal(t, "arn:aws:iam::123456789012:role/r", res.ARN)
			}
		})
	}
}

// flakyCreateRole fails CreateRole with MalformedPolicyDocument a number of
// times before passing it to the simulator.
type flakyCreateRole struct {
	awsapi.IAM
	failures, calls int
	message         string
}

func (f *flakyCreateRole) CreateRole(ctx context.Context, in *iam.CreateRoleInput, opts ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	f.calls++
	if f.calls <= f.failures {
		return nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "CreateRole",
			Err: &smithy.GenericAPIError{Code: "MalformedPolicyDocument", Message: f.message}}
	}
	return f.IAM.CreateRole(ctx, in, opts...)
}
