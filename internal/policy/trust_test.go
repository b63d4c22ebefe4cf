package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func baseSpec() TrustSpec {
	return TrustSpec{
		Sid:         "GitLabOIDC",
		ProviderARN: gitlabProvider,
		KeyPrefix:   "gitlab.com",
		Audiences:   []string{"sts.amazonaws.com"},
		ExactSubs:   []string{"project_path:acme/app:ref_type:branch:ref:main"},
		ExtraEquals: map[string][]string{"gitlab.com:project_id": {"4242"}},
	}
}

func TestBuildTrustExact(t *testing.T) {
	doc, err := BuildTrust(baseSpec())
	require.NoError(t, err)
	got, err := Marshal(doc)
	require.NoError(t, err)
	assert.Equal(t, string(readFixture(t, "build-exact.golden.json")), string(got)+"\n")

	dec := Evaluate(doc, gitlabRequest("project_path:acme/app:ref_type:branch:ref:main", "true"))
	assert.True(t, dec.Allowed)
	dec = Evaluate(doc, gitlabRequest("project_path:acme/app:ref_type:branch:ref:dev", "true"))
	assert.False(t, dec.Allowed)
}

// TestBuildTrustSplitsOperators proves why exact and wildcard subs go into
// separate statements: in one statement IAM ANDs StringEquals and
// StringLike on the same key, so neither kind of job could assume the role.
func TestBuildTrustSplitsOperators(t *testing.T) {
	spec := baseSpec()
	spec.LikeSubs = []string{"project_path:acme/app:ref_type:tag:ref:v*"}
	doc, err := BuildTrust(spec)
	require.NoError(t, err)
	require.Len(t, doc.Statements, 2)
	assert.Equal(t, "GitLabOIDC", doc.Statements[0].Sid)
	assert.Equal(t, "GitLabOIDCWildcard", doc.Statements[1].Sid)
	got, err := Marshal(doc)
	require.NoError(t, err)
	assert.Equal(t, string(readFixture(t, "build-split.golden.json")), string(got)+"\n")

	main := gitlabRequest("project_path:acme/app:ref_type:branch:ref:main", "true")
	tag := gitlabRequest("project_path:acme/app:ref_type:tag:ref:v1.0.0", "true")
	other := gitlabRequest("project_path:acme/app:ref_type:branch:ref:feature", "true")
	wrongProject := gitlabRequest("project_path:acme/app:ref_type:tag:ref:v1.0.0", "true")
	wrongProject.Context["gitlab.com:project_id"] = []string{"1"}
	assert.True(t, Evaluate(doc, main).Allowed, "exact sub allowed by the first statement")
	assert.True(t, Evaluate(doc, tag).Allowed, "wildcard sub allowed by the second statement")
	assert.False(t, Evaluate(doc, other).Allowed)
	assert.False(t, Evaluate(doc, wrongProject).Allowed, "the second statement repeats project_id")

	// The naive single statement with both operators admits neither job.
	merged := Clone(doc)
	merged.Statements[0].Conditions = append(merged.Statements[0].Conditions, doc.Statements[1].Conditions[2])
	merged.Statements = merged.Statements[:1]
	assert.False(t, Evaluate(merged, main).Allowed)
	assert.False(t, Evaluate(merged, tag).Allowed)
}

func TestBuildTrustLikeOnly(t *testing.T) {
	spec := baseSpec()
	spec.ExactSubs = nil
	spec.ExtraEquals = nil
	spec.LikeSubs = []string{"project_path:acme/app:ref_type:branch:ref:*"}
	doc, err := BuildTrust(spec)
	require.NoError(t, err)
	require.Len(t, doc.Statements, 1)
	assert.Equal(t, "GitLabOIDC", doc.Statements[0].Sid, "a lone wildcard statement keeps the plain Sid")
	assert.Equal(t, "StringLike", doc.Statements[0].Conditions[1].Operator)
}

func TestBuildTrustRefuses(t *testing.T) {
	tests := map[string]struct {
		edit func(*TrustSpec)
		want string
	}{
		"no sub":                {func(s *TrustSpec) { s.ExactSubs = nil }, "no sub value"},
		"no audience":           {func(s *TrustSpec) { s.Audiences = nil }, "no audience"},
		"empty audience":        {func(s *TrustSpec) { s.Audiences = []string{""} }, "no audience"},
		"one empty audience":    {func(s *TrustSpec) { s.Audiences = append(s.Audiences, "") }, "an audience is empty"},
		"wildcard in exact":     {func(s *TrustSpec) { s.ExactSubs = []string{"project_path:acme/*"} }, "contains a wildcard"},
		"question in exact":     {func(s *TrustSpec) { s.ExactSubs = []string{"project_path:acme/ap?"} }, "contains a wildcard"},
		"empty exact":           {func(s *TrustSpec) { s.ExactSubs = []string{""} }, "exact sub value is empty"},
		"like without wildcard": {func(s *TrustSpec) { s.LikeSubs = []string{"project_path:acme/app"} }, "has no * or ?"},
		"bad provider":          {func(s *TrustSpec) { s.ProviderARN = "gitlab.com" }, "not an IAM OIDC provider ARN"},
		"prefix with scheme":    {func(s *TrustSpec) { s.KeyPrefix = "https://gitlab.com" }, `has a scheme; IAM keys are the issuer without it ("gitlab.com")`},
		"prefix other host":     {func(s *TrustSpec) { s.KeyPrefix = "gitlab.example.com" }, "does not match the provider"},
		"empty prefix":          {func(s *TrustSpec) { s.KeyPrefix = "" }, "key prefix is empty"},
		"bad sid":               {func(s *TrustSpec) { s.Sid = "GitLab-OIDC" }, "only letters and digits"},
		"extra clashes sub":     {func(s *TrustSpec) { s.ExtraEquals = map[string][]string{"GitLab.com:sub": {"x"}} }, "clashes"},
		"extra without value":   {func(s *TrustSpec) { s.ExtraEquals = map[string][]string{"gitlab.com:project_id": nil} }, "has no value"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := baseSpec()
			tc.edit(&spec)
			doc, err := BuildTrust(spec)
			assert.Nil(t, doc)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestBuildTrustSelfManagedPath(t *testing.T) {
	spec := TrustSpec{
		ProviderARN: "arn:aws:iam::123456789012:oidc-provider/git.example.com/gitlab",
		KeyPrefix:   "git.example.com/gitlab",
		Audiences:   []string{"sts.amazonaws.com"},
		ExactSubs:   []string{"project_path:g/p:ref_type:branch:ref:main"},
	}
	doc, err := BuildTrust(spec)
	require.NoError(t, err)
	assert.Equal(t, "git.example.com/gitlab:sub", doc.Statements[0].Conditions[1].Key)
	assert.Empty(t, doc.Statements[0].Sid)
}
