package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const gitlabProvider = "arn:aws:iam::123456789012:oidc-provider/gitlab.com"

// gitlabRequest is the request context STS builds for a gitlab.com token.
func gitlabRequest(sub, refProtected string) Request {
	return Request{
		Action:    ActionWebIdentity,
		Federated: gitlabProvider,
		Context: map[string][]string{
			"gitlab.com:aud":           {"sts.amazonaws.com"},
			"gitlab.com:sub":           {sub},
			"gitlab.com:project_id":    {"4242"},
			"gitlab.com:ref_protected": {refProtected},
		},
	}
}

func TestEvaluateGitLabPolicy(t *testing.T) {
	doc, err := Parse(readFixture(t, "gitlab-three-statements.json"))
	require.NoError(t, err)
	const app = "project_path:acme/app:ref_type:"
	tests := map[string]struct {
		req      Request
		allowed  bool
		deny     bool
		applying []string // Sids of the statements that apply
	}{
		"protected main":          {gitlabRequest(app+"branch:ref:main", "true"), true, false, []string{"MainBranch"}},
		"protected develop":       {gitlabRequest(app+"branch:ref:develop", "true"), true, false, []string{"MainBranch"}},
		"unprotected main denied": {gitlabRequest(app+"branch:ref:main", "false"), false, true, []string{"DenyUnprotected", "MainBranch"}},
		"release tag":             {gitlabRequest(app+"tag:ref:v1.2.0", "true"), true, false, []string{"ReleaseTags"}},
		"feature branch":          {gitlabRequest(app+"branch:ref:feature", "true"), false, false, nil},
		"other project":           {gitlabRequest("project_path:evil/app:ref_type:branch:ref:main", "true"), false, false, nil},
		"wrong action": {func() Request {
			r := gitlabRequest(app+"branch:ref:main", "true")
			r.Action = "sts:AssumeRole"
			return r
		}(), false, false, nil},
		"action case-insensitive": {func() Request {
			r := gitlabRequest(app+"branch:ref:main", "true")
			r.Action = "STS:assumerolewithwebidentity"
			return r
		}(), true, false, []string{"MainBranch"}},
		"other provider": {func() Request {
			r := gitlabRequest(app+"branch:ref:main", "true")
			r.Federated = "arn:aws:iam::123456789012:oidc-provider/gitlab.example.com"
			return r
		}(), false, false, nil},
		"context keys any case": {Request{
			Action:    ActionWebIdentity,
			Federated: gitlabProvider,
			Context: map[string][]string{
				"GitLab.com:AUD":        {"sts.amazonaws.com"},
				"gitlab.com:Sub":        {app + "branch:ref:main"},
				"GITLAB.COM:PROJECT_ID": {"4242"},
			},
		}, true, false, []string{"MainBranch"}},
		"array aud, one matches": {func() Request {
			r := gitlabRequest(app+"branch:ref:main", "true")
			r.Context["gitlab.com:aud"] = []string{"https://gitlab.com", "sts.amazonaws.com"}
			return r
		}(), true, false, []string{"MainBranch"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dec := Evaluate(doc, tc.req)
			assert.Equal(t, tc.allowed, dec.Allowed)
			assert.Equal(t, tc.deny, dec.ExplicitDeny)
			require.Len(t, dec.Statements, 3)
			var applying []string
			for _, sr := range dec.Statements {
				if sr.Applies {
					applying = append(applying, sr.Statement.Sid)
				}
			}
			assert.Equal(t, tc.applying, applying)
		})
	}
}

// TestEvaluateNamesTheDecidingCondition checks that results carry enough to
// name the failing statement and condition.
func TestEvaluateNamesTheDecidingCondition(t *testing.T) {
	doc, err := Parse(readFixture(t, "gitlab-three-statements.json"))
	require.NoError(t, err)
	dec := Evaluate(doc, gitlabRequest("project_path:acme/app:ref_type:branch:ref:feature", "true"))
	main := dec.Statements[1]
	assert.True(t, main.ActionMatch)
	assert.True(t, main.PrincipalMatch)
	assert.False(t, main.Applies)
	require.Len(t, main.Conditions, 3)
	var failed []ConditionResult
	for _, cr := range main.Conditions {
		assert.True(t, cr.KnownOperator)
		assert.True(t, cr.Present)
		if !cr.Matched {
			failed = append(failed, cr)
		}
	}
	require.Len(t, failed, 1)
	assert.Equal(t, "gitlab.com:sub", failed[0].Key)
	assert.Equal(t, []string{"project_path:acme/app:ref_type:branch:ref:feature"}, failed[0].RequestValues)
	assert.Equal(t, "MainBranch", main.Statement.Name())
}

func TestEvaluatePrincipals(t *testing.T) {
	stmt := func(p, np *Principal) *Document {
		return &Document{Statements: []Statement{{Effect: "Allow", Principal: p, NotPrincipal: np, Actions: []string{"sts:*"}}}}
	}
	tests := map[string]struct {
		doc  *Document
		want bool
	}{
		"federated match":         {stmt(&Principal{Federated: []string{"x", gitlabProvider}}, nil), true},
		"federated other":         {stmt(&Principal{Federated: []string{"arn:aws:iam::1:oidc-provider/gitlab.com"}}, nil), false},
		"star":                    {stmt(&Principal{Any: true}, nil), true},
		"AWS star":                {stmt(&Principal{AWS: []string{"*"}}, nil), true},
		"AWS account only":        {stmt(&Principal{AWS: []string{"123456789012"}}, nil), false},
		"service only":            {stmt(&Principal{Service: []string{"ec2.amazonaws.com"}}, nil), false},
		"no principal":            {stmt(nil, nil), false},
		"not principal other":     {stmt(nil, &Principal{Federated: []string{"arn:aws:iam::1:oidc-provider/x"}}), true},
		"not principal listed":    {stmt(nil, &Principal{Federated: []string{gitlabProvider}}), false},
		"federated wildcard text": {stmt(&Principal{Federated: []string{"arn:aws:iam::123456789012:oidc-provider/*"}}, nil), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dec := Evaluate(tc.doc, Request{Action: ActionWebIdentity, Federated: gitlabProvider})
			assert.Equal(t, tc.want, dec.Allowed)
			assert.Equal(t, tc.want, dec.Statements[0].PrincipalMatch)
		})
	}
}

func TestEvaluateActions(t *testing.T) {
	tests := map[string]struct {
		actions, notActions []string
		action              string
		want                bool
	}{
		"exact":                {[]string{"sts:AssumeRoleWithWebIdentity"}, nil, ActionWebIdentity, true},
		"service wildcard":     {[]string{"sts:*"}, nil, ActionWebIdentity, true},
		"prefix wildcard":      {[]string{"sts:AssumeRole*"}, nil, ActionWebIdentity, true},
		"question wildcard":    {[]string{"sts:AssumeRoleWithWebIdentit?"}, nil, ActionWebIdentity, true},
		"all":                  {[]string{"*"}, nil, ActionWebIdentity, true},
		"assume role only":     {[]string{"sts:AssumeRole"}, nil, ActionWebIdentity, false},
		"case-insensitive":     {[]string{"STS:ASSUMEROLEWITHWEBIDENTITY"}, nil, ActionWebIdentity, true},
		"not action excludes":  {nil, []string{"sts:AssumeRoleWith*"}, ActionWebIdentity, false},
		"not action other":     {nil, []string{"iam:*"}, ActionWebIdentity, true},
		"empty request action": {[]string{"*"}, nil, "", false},
		"no action element":    {nil, nil, ActionWebIdentity, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc := &Document{Statements: []Statement{{Effect: "Allow", Principal: &Principal{Any: true}, Actions: tc.actions, NotActions: tc.notActions}}}
			dec := Evaluate(doc, Request{Action: tc.action, Federated: gitlabProvider})
			assert.Equal(t, tc.want, dec.Statements[0].ActionMatch)
			assert.Equal(t, tc.want, dec.Allowed)
		})
	}
}

func TestEvaluateConditionsAreANDed(t *testing.T) {
	doc := &Document{Statements: []Statement{{
		Effect: "Allow", Principal: &Principal{Any: true}, Actions: []string{"*"},
		Conditions: []Condition{
			{Operator: "StringEquals", Key: "gitlab.com:aud", Values: []string{"sts.amazonaws.com"}},
			{Operator: "StringLike", Key: "gitlab.com:sub", Values: []string{"project_path:acme/*"}},
		},
	}}}
	ctx := func(aud, sub string) Request {
		return Request{Action: "x", Context: map[string][]string{"gitlab.com:aud": {aud}, "gitlab.com:sub": {sub}}}
	}
	assert.True(t, Evaluate(doc, ctx("sts.amazonaws.com", "project_path:acme/x")).Allowed)
	assert.False(t, Evaluate(doc, ctx("https://gitlab.com", "project_path:acme/x")).Allowed)
	assert.False(t, Evaluate(doc, ctx("sts.amazonaws.com", "project_path:evil/x")).Allowed)
	assert.False(t, Evaluate(nil, ctx("sts.amazonaws.com", "project_path:acme/x")).Allowed)
}

func BenchmarkEvaluate(b *testing.B) {
	doc, err := Parse(readFixture(b, "gitlab-three-statements.json"))
	if err != nil {
		b.Fatal(err)
	}
	req := gitlabRequest("project_path:acme/app:ref_type:tag:ref:v1.2.0", "true")
	b.ReportAllocs()
	for b.Loop() {
		if !Evaluate(doc, req).Allowed {
			b.Fatal("expected the release tag to be allowed")
		}
	}
}
