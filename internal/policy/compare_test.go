package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustParse(t testing.TB, s string) *Document {
	t.Helper()
	d, err := Parse([]byte(s))
	require.NoError(t, err)
	return d
}

func TestEquivalent(t *testing.T) {
	const base = `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"Federated":"p"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":["x","y"]}}}]}`
	tests := map[string]struct {
		other string
		want  bool
	}{
		"identical":                            {base, true},
		"list vs string, order, key case, Sid": {`{"Statement":[{"Condition":{"StringEquals":{"GitLab.com:SUB":["y","x"],"gitlab.com:aud":["sts.amazonaws.com"]}},"Action":["STS:AssumeRoleWithWebIdentity"],"Principal":{"Federated":["p"]},"Effect":"Allow","Sid":"B"}],"Version":"2012-10-17"}`, true},
		"value differs":                        {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"p"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":["x","Y"]}}}]}`, false},
		"operator differs":                     {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"p"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com"},"StringLike":{"gitlab.com:sub":["x","y"]}}}]}`, false},
		"effect differs":                       {`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"Federated":"p"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":["x","y"]}}}]}`, false},
		"version differs":                      {`{"Statement":[{"Effect":"Allow","Principal":{"Federated":"p"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":["x","y"]}}}]}`, false},
		"extra statement":                      {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"p"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":["x","y"]}}},{"Effect":"Allow","Principal":"*","Action":"*"}]}`, false},
		"duplicate sub value":                  {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"p"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":["x","y","x"]}}}]}`, true},
	}
	a := mustParse(t, base)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := mustParse(t, tc.other)
			assert.Equal(t, tc.want, Equivalent(a, b))
			assert.Equal(t, tc.want, Equivalent(b, a))
		})
	}
	assert.True(t, Equivalent(nil, nil))
	assert.False(t, Equivalent(a, nil))
}

func TestEquivalentAccountPrincipal(t *testing.T) {
	a := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}`)
	b := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}}`)
	assert.True(t, Equivalent(a, b))
}

func TestAddStatement(t *testing.T) {
	doc, err := BuildTrust(baseSpec())
	require.NoError(t, err)
	before, err := Marshal(doc)
	require.NoError(t, err)

	spec := baseSpec()
	spec.ExactSubs = []string{"project_path:acme/app:ref_type:branch:ref:develop"}
	extra, err := BuildTrust(spec)
	require.NoError(t, err)
	s := extra.Statements[0]

	assert.False(t, ContainsStatement(doc, s))
	out := AddStatement(doc, s)
	require.Len(t, out.Statements, 2)
	assert.Equal(t, "GitLabOIDC2", out.Statements[1].Sid, "clashing Sid made unique")
	assert.Equal(t, 1, out.Statements[1].Index)
	assert.Equal(t, doc.Statements[0], out.Statements[0], "existing statement kept")
	assert.True(t, ContainsStatement(out, s))

	third := AddStatement(out, s)
	assert.Equal(t, "GitLabOIDC3", third.Statements[2].Sid)

	// The input is untouched, even through shared slices.
	out.Statements[0].Conditions[0].Values[0] = "changed"
	after, err := Marshal(doc)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))

	fresh := AddStatement(nil, s)
	assert.Equal(t, "2012-10-17", fresh.Version)
	assert.Len(t, fresh.Statements, 1)
	assert.False(t, ContainsStatement(nil, s))
}

func TestStatementName(t *testing.T) {
	assert.Equal(t, "Main", Statement{Sid: "Main", Index: 3}.Name())
	assert.Equal(t, "statement #4", Statement{Index: 3}.Name())
}

func TestDiff(t *testing.T) {
	doc, err := BuildTrust(baseSpec())
	require.NoError(t, err)
	assert.Empty(t, Diff(doc, Clone(doc)))

	changed := Clone(doc)
	changed.Statements[0].Conditions[2].Values = []string{"project_path:acme/app:ref_type:branch:ref:develop"}
	d := Diff(doc, changed)
	assert.Contains(t, d, `-           "gitlab.com:sub": "project_path:acme/app:ref_type:branch:ref:main"`)
	assert.Contains(t, d, `+           "gitlab.com:sub": "project_path:acme/app:ref_type:branch:ref:develop"`)
	assert.Contains(t, d, `    "Version": "2012-10-17",`)
	minus, plus := 0, 0
	for _, line := range splitLines(d) {
		switch line[0] {
		case '-':
			minus++
		case '+':
			plus++
		}
	}
	assert.Equal(t, 1, minus)
	assert.Equal(t, 1, plus)

	all := Diff(nil, doc)
	for _, line := range splitLines(all) {
		assert.Equal(t, byte('+'), line[0])
	}
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
