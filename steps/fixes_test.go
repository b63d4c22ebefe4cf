package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/fix"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/testenv"
	"gitlab-oidc/internal/token/tokentest"
	"gitlab-oidc/steps"
)

const fixRole = "acme-payments-main"

// fixWorld is moto with the gitlab.com provider and a role whose trust
// policy allows only branch main of acme/payments (beside a break-glass
// statement for an AWS principal), and the options doctor would collect
// with for a tag job's token.
type fixWorld struct {
	iam  awsapi.IAM
	log  *awsapi.CallLog
	opts diagnose.CollectOptions
}

func newFixWorld(t *testing.T) *fixWorld {
	t.Helper()
	ctx := context.Background()
	m := testenv.StartMoto(t)
	cfg := m.AWSConfig()
	log := &awsapi.CallLog{}
	log.Attach(&cfg)
	c := iam.NewFromConfig(cfg)
	trust, err := os.ReadFile(filepath.Join("testdata", "fixes", "trust-main-only.json"))
	require.NoError(t, err)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fixRole), AssumeRolePolicyDocument: aws.String(string(trust))})
	require.NoError(t, err)
	_, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://gitlab.com"), ClientIDList: []string{"sts.amazonaws.com"}})
	require.NoError(t, err)
	signer := tokentest.NewSigner(t)
	raw := signer.Sign(tokentest.GitLabClaims(map[string]any{
		"ref": "v2.3.0", "ref_type": "tag", "ref_path": "refs/tags/v2.3.0",
		"sub": "project_path:acme/payments:ref_type:tag:ref:v2.3.0",
	}))
	opts := diagnose.CollectOptions{
		Token: raw, TokenGiven: true, TokenSource: "test", JWKS: signer.JWKSJSON(), JWKSSource: "test keys",
		RoleARN:   "arn:aws:iam::" + m.AccountID + ":role/" + fixRole,
		ErrorText: "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity",
		Now:       tokentest.Now.Add(time.Minute),
	}
	return &fixWorld{iam: c, log: log, opts: opts}
}

// diagnose collects from moto (no GitLab, no issuer probe) and judges.
func (w *fixWorld) diagnose(t *testing.T) (*diagnose.Evidence, []diagnose.Finding) {
	t.Helper()
	ev, err := diagnose.Collect(context.Background(), w.opts, diagnose.Sources{IAM: w.iam})
	require.NoError(t, err)
	return ev, diagnose.Diagnose(ev)
}

func (w *fixWorld) trust(t *testing.T) *policy.Document {
	t.Helper()
	out, err := w.iam.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(fixRole)})
	require.NoError(t, err)
	doc, err := policy.Parse([]byte(aws.ToString(out.Role.AssumeRolePolicyDocument)))
	require.NoError(t, err)
	return doc
}

func errorIDs(fs []diagnose.Finding) []string {
	var ids []string
	for _, f := range fs {
		if f.Severity == diagnose.SeverityError {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// TestApplyTrustPatchFromDoctor follows a tag job denied by a main-only
// role from the diagnosis to the fixed role: the preview writes nothing,
// the apply writes once, and the role then lets the same token in.
func TestApplyTrustPatchFromDoctor(t *testing.T) {
	ctx := context.Background()
	w := newFixWorld(t)
	ev, fs := w.diagnose(t)
	require.NotEmpty(t, fs)
	f := fs[0]
	require.Equal(t, "sub-ref-type-mismatch", f.ID, "findings %v", errorIDs(fs))
	require.NotNil(t, f.Patch, "the trust policy came from GetRole, so the fix is applicable")
	p := f.Patch
	assert.Equal(t, fix.KindTrustPolicy, p.Kind)
	assert.Equal(t, fixRole, p.RoleName)
	assert.Equal(t, w.opts.RoleARN, p.RoleARN)
	assert.Len(t, p.After.Statements, 2, "the break-glass statement is kept")

	w.log.Reset()
	preview, err := steps.ApplyTrustPatch(ctx, w.iam, p, false)
	require.NoError(t, err)
	require.Len(t, preview, 1)
	assert.Equal(t, steps.ActionUpdate, preview[0].Action)
	assert.False(t, preview[0].Applied)
	assert.Contains(t, preview[0].Diff, `+ `)
	assert.Contains(t, preview[0].Diff, "project_path:acme/payments:ref_type:tag:ref:v2.3.0")
	assert.Empty(t, w.log.Writes(), "a preview only reads")
	assert.Equal(t, []string{"IAM.GetRole"}, w.log.Calls())

	w.log.Reset()
	applied, err := steps.ApplyTrustPatch(ctx, w.iam, p, true)
	require.NoError(t, err)
	require.Len(t, applied, 1)
	assert.True(t, applied[0].Applied)
	assert.Equal(t, []string{"IAM.UpdateAssumeRolePolicy"}, w.log.Writes())
	now := w.trust(t)
	assert.True(t, policy.Equivalent(now, p.After), "IAM holds the fixed policy")
	require.NoError(t, steps.CheckTrustPinsSub(&policy.Document{Version: now.Version, Statements: now.Statements[:1]}), "the GitLab statement still pins sub")

	// Judged again, in memory and from IAM: no error about the trust policy.
	assert.Empty(t, errorIDs(diagnose.Diagnose(diagnose.AfterPatch(ev, p))))
	w.opts.ErrorText = ""
	_, again := w.diagnose(t)
	assert.Empty(t, errorIDs(again))

	// Applying twice is a no-op.
	w.log.Reset()
	twice, err := steps.ApplyTrustPatch(ctx, w.iam, p, true)
	require.NoError(t, err)
	assert.Equal(t, steps.ActionKeep, twice[0].Action)
	assert.Empty(t, w.log.Writes())
}

func TestApplyTrustPatchRefuses(t *testing.T) {
	ctx := context.Background()
	w := newFixWorld(t)
	_, fs := w.diagnose(t)
	require.NotNil(t, fs[0].Patch)
	tests := map[string]struct {
		patch     func(p fix.Patch) *fix.Patch
		meanwhile func(t *testing.T)
		want      func(t *testing.T, err error)
		calls     []string
	}{
		"the role changed since doctor read it": {
			meanwhile: func(t *testing.T) {
				changed := policy.Clone(fs[0].Patch.Before)
				changed.Statements[0].Conditions[1].Values = []string{"project_path:acme/payments:ref_type:branch:ref:release"}
				doc, err := policy.Marshal(changed)
				require.NoError(t, err)
				_, err = w.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(fixRole), PolicyDocument: aws.String(string(doc))})
				require.NoError(t, err)
			},
			want: func(t *testing.T, err error) {
				var conflict *steps.ConflictError
				require.ErrorAs(t, err, &conflict)
				assert.Contains(t, conflict.Diff, "ref:release")
				assert.Contains(t, err.Error(), "run doctor again")
			},
			calls: []string{"IAM.GetRole"},
		},
		"an After without a sub condition": {
			patch: func(p fix.Patch) *fix.Patch {
				p.After = policy.Clone(p.After)
				st := &p.After.Statements[0]
				st.Conditions = st.Conditions[:1] // aud only
				return &p
			},
			want:  func(t *testing.T, err error) { assert.ErrorIs(t, err, steps.ErrNoSub) },
			calls: nil,
		},
		"an After whose sub allows anything": {
			patch: func(p fix.Patch) *fix.Patch {
				p.After = policy.Clone(p.After)
				p.After.Statements[0].Conditions[1] = policy.Condition{Operator: "StringLike", Key: "gitlab.com:sub", Values: []string{"*"}}
				return &p
			},
			want: func(t *testing.T, err error) { assert.ErrorIs(t, err, steps.ErrNoSub) },
		},
		"a variable patch": {
			patch: func(p fix.Patch) *fix.Patch { p.Kind = fix.KindVariable; return &p },
			want:  func(t *testing.T, err error) { assert.ErrorContains(t, err, "not a trust-policy fix") },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := fs[0].Patch
			if tc.patch != nil {
				p = tc.patch(*p)
			}
			if tc.meanwhile != nil {
				tc.meanwhile(t)
			}
			before := w.trust(t)
			w.log.Reset()
			changes, err := steps.ApplyTrustPatch(ctx, w.iam, p, true)
			tc.want(t, err)
			assert.Empty(t, changes)
			assert.Equal(t, tc.calls, w.log.Calls())
			assert.True(t, policy.Equivalent(before, w.trust(t)), "nothing was written")
		})
	}
}

// TestDiagnosePatchesOnlyWhatIAMSaid: a trust policy from a file is a
// what-if, not the role; doctor does not offer to apply it.
func TestDiagnosePatchesOnlyWhatIAMSaid(t *testing.T) {
	w := newFixWorld(t)
	trust, err := os.ReadFile(filepath.Join("testdata", "fixes", "trust-main-only.json"))
	require.NoError(t, err)
	w.opts.TrustPolicy, w.opts.TrustPolicySource = trust, "trust.json"
	_, fs := w.diagnose(t)
	require.Equal(t, "sub-ref-type-mismatch", fs[0].ID)
	assert.Nil(t, fs[0].Patch)
}

// variableWorld is the fake GitLab with acme/payments, its protected main
// branch and a protected AWS_ROLE_ARN scoped to production.
func variableWorld(t *testing.T) (*gitlabfake.Server, gitlabapi.Client) {
	t.Helper()
	srv := gitlabfake.Start(t)
	srv.AddProject(gitlabfake.Project{ID: 4242, Path: "acme/payments", ProtectedBranches: []string{"main"}})
	srv.AddUser("glpat-maint", "maria")
	srv.SetAccess("glpat-maint", "acme/payments", gitlabapi.Maintainer)
	srv.AddVariable(gitlabapi.VariableTarget{Kind: gitlabapi.TargetProject, ID: "4242"},
		gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: secretARN, Protected: true, EnvironmentScope: "production"})
	gl, err := gitlabapi.New(srv.URL, "glpat-maint", nil)
	require.NoError(t, err)
	return srv, gl
}

// secretARN stands for the variable's value, which no change may show.
const secretARN = "arn:aws:iam::123456789012:role/payments-deploy"

func TestApplyVariablePatch(t *testing.T) {
	ctx := context.Background()
	target := gitlabapi.VariableTarget{Kind: gitlabapi.TargetProject, ID: "4242"}
	off := false
	tests := map[string]struct {
		patch  fix.VariablePatch
		action steps.Action
		want   func(t *testing.T, vs []gitlabapi.Variable)
		err    string
	}{
		"unprotect": {
			patch:  fix.VariablePatch{Target: target, Key: "AWS_ROLE_ARN", EnvironmentScope: "production", Protected: &off},
			action: steps.ActionUpdate,
			want: func(t *testing.T, vs []gitlabapi.Variable) {
				require.Len(t, vs, 1)
				assert.False(t, vs[0].Protected)
				assert.Equal(t, secretARN, vs[0].Value, "the value is kept")
				assert.Equal(t, "production", vs[0].EnvironmentScope)
			},
		},
		"copy to the job's environment": {
			patch:  fix.VariablePatch{Target: target, Key: "AWS_ROLE_ARN", EnvironmentScope: "production", NewEnvironmentScope: "staging"},
			action: steps.ActionCreate,
			want: func(t *testing.T, vs []gitlabapi.Variable) {
				require.Len(t, vs, 2)
				assert.Equal(t, "production", vs[0].EnvironmentScope, "the original is kept")
				assert.Equal(t, "staging", vs[1].EnvironmentScope)
				assert.Equal(t, secretARN, vs[1].Value)
				assert.True(t, vs[1].Protected, "the copy keeps the settings")
			},
		},
		"gone since doctor read it": {
			patch: fix.VariablePatch{Target: target, Key: "AWS_ROLE_ARN", EnvironmentScope: "review/*", Protected: &off},
			err:   "no longer exists",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv, gl := variableWorld(t)
			preview, err := steps.ApplyVariablePatch(ctx, gl, &tc.patch, false)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				_, err = steps.ApplyVariablePatch(ctx, gl, &tc.patch, true)
				require.ErrorContains(t, err, tc.err)
				assert.Empty(t, srv.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, preview, 1)
			assert.Equal(t, tc.action, preview[0].Action)
			assert.Empty(t, srv.Writes(), "a preview only reads")

			applied, err := steps.ApplyVariablePatch(ctx, gl, &tc.patch, true)
			require.NoError(t, err)
			require.Len(t, applied, 1)
			assert.True(t, applied[0].Applied)
			assert.Len(t, srv.Writes(), 1)
			tc.want(t, srv.Variables(4242))
			for _, c := range append(preview, applied...) {
				assert.NotContains(t, c.Detail+c.Diff+c.Name, "payments-deploy", "the value is never shown")
			}

			again, err := steps.ApplyVariablePatch(ctx, gl, &tc.patch, true)
			require.NoError(t, err)
			assert.Equal(t, steps.ActionKeep, again[0].Action, "applying twice changes nothing")
			assert.Len(t, srv.Writes(), 1)
		})
	}
}

// TestDiagnosePatchesTheProtectedVariable: a job on an unprotected branch
// and a protected role ARN variable give role-arn-empty with a patch that
// unprotects it; once applied, the job's evidence has no error left.
func TestDiagnosePatchesTheProtectedVariable(t *testing.T) {
	ctx := context.Background()
	srv, gl := variableWorld(t)
	srv.AddPipeline(4242, gitlabapi.Pipeline{ID: 900001, Ref: "feature-x", Source: "push", Status: "failed"})
	srv.AddJob(4242, gitlabapi.Job{ID: 5550001, Name: "deploy", Ref: "feature-x", Status: "failed", PipelineID: 900001})
	srv.SetTrace(4242, 5550001, "$ aws sts assume-role-with-web-identity --role-arn ${AWS_ROLE_ARN} ...\n\naws: error: argument --role-arn: expected one argument\n")
	opts := diagnose.CollectOptions{JobURL: srv.URL + "/acme/payments/-/jobs/5550001", Now: time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)}
	ev, err := diagnose.Collect(ctx, opts, diagnose.Sources{GitLab: gl})
	require.NoError(t, err)
	fs := diagnose.Diagnose(ev)
	require.NotEmpty(t, fs)
	f := fs[0]
	require.Equal(t, "role-arn-empty", f.ID)
	require.NotNil(t, f.Patch)
	require.NotNil(t, f.Patch.Variable)
	require.NotNil(t, f.Patch.Variable.Protected)
	assert.False(t, *f.Patch.Variable.Protected)
	assert.False(t, strings.Contains(f.Patch.Summary, secretARN))

	changes, err := steps.ApplyPatch(ctx, nil, gl, f.Patch, true)
	require.NoError(t, err)
	assert.True(t, changes[0].Applied)
	assert.False(t, srv.Variables(4242)[0].Protected)
	assert.NotContains(t, errorIDs(diagnose.Diagnose(diagnose.AfterPatch(ev, f.Patch))), "role-arn-empty")
	_, err = steps.ApplyPatch(ctx, nil, nil, f.Patch, true)
	assert.ErrorContains(t, err, "no GitLab access")
}
