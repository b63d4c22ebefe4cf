package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

func TestParseGitLabPolicy(t *testing.T) {
	doc, err := Parse(readFixture(t, "gitlab-three-statements.json"))
	require.NoError(t, err)
	assert.Empty(t, doc.Warnings)
	assert.Equal(t, "2012-10-17", doc.Version)
	require.Len(t, doc.Statements, 3)

	deny := doc.Statements[0]
	assert.Equal(t, "Deny", deny.Effect)
	assert.Equal(t, []string{"arn:aws:iam::123456789012:oidc-provider/gitlab.com"}, deny.Principal.Federated)
	assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, deny.Actions)

	main := doc.Statements[1]
	assert.Equal(t, 1, main.Index)
	assert.Equal(t, []Condition{
		{Operator: "StringEquals", Key: "gitlab.com:aud", Values: []string{"sts.amazonaws.com"}},
		{Operator: "StringEquals", Key: "gitlab.com:project_id", Values: []string{"4242"}},
		{Operator: "StringEquals", Key: "gitlab.com:sub", Values: []string{
			"project_path:acme/app:ref_type:branch:ref:main",
			"project_path:acme/app:ref_type:branch:ref:develop",
		}},
	}, main.Conditions)
	assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity", "sts:TagSession"}, doc.Statements[2].Actions)
}

func TestParseStringOrList(t *testing.T) {
	doc, err := Parse(readFixture(t, "string-or-list.json"))
	require.NoError(t, err)
	require.Len(t, doc.Statements, 1, "a single statement object becomes a one-element list")
	st := doc.Statements[0]
	assert.Equal(t, "Single", st.Sid)
	assert.True(t, st.Principal.Any, `Principal "*" is Any`)
	assert.Equal(t, []string{"iam:*"}, st.NotActions)
	assert.Nil(t, st.Actions)
	assert.Equal(t, []string{"arn:aws:s3:::a", "arn:aws:s3:::b"}, st.Resources)
	assert.Equal(t, []Condition{
		{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
		{Operator: "NumericLessThan", Key: "aws:MultiFactorAuthAge", Values: []string{"3600", "7200"}},
		{Operator: "StringEquals", Key: "aws:PrincipalTag/team", Values: []string{"blue"}},
	}, st.Conditions)
}

func TestParseURLEncoded(t *testing.T) {
	plain, err := Parse(readFixture(t, "gitlab-three-statements.json"))
	require.NoError(t, err)
	encoded, err := Parse(readFixture(t, "gitlab-urlencoded.txt"))
	require.NoError(t, err)
	assert.Equal(t, plain.Statements, encoded.Statements)

	// A form-encoded document ('+' for spaces) is accepted as a fallback,
	// while a real '+' encoded as %2B survives.
	form := "%7B%22Statement%22%3A+%7B%22Effect%22%3A+%22Allow%22%2C+%22Action%22%3A+%22a%2Bb%22%7D%7D"
	doc, err := Parse([]byte(form))
	require.NoError(t, err)
	assert.Equal(t, []string{"a+b"}, doc.Statements[0].Actions)

	_, err = Parse([]byte("%7B%zz"))
	assert.ErrorContains(t, err, "URL-encoded")
}

func TestParseDuplicateKeysWarn(t *testing.T) {
	tests := map[string]struct {
		fixture  string
		warnings []string
		conds    []Condition
	}{
		"duplicate operator block drops the sub condition": {
			fixture:  "duplicate-operator.json",
			warnings: []string{`statement 1: Condition: key "StringEquals" appears more than once; IAM keeps only the last one, so the earlier conditions on "gitlab.com:sub" are ignored (merge them into one block)`},
			conds:    []Condition{{Operator: "StringEquals", Key: "gitlab.com:aud", Values: []string{"sts.amazonaws.com"}}},
		},
		"duplicate key inside an operator keeps the last value": {
			fixture:  "duplicate-key.json",
			warnings: []string{`statement 1: Condition "StringEquals": key "gitlab.com:sub" appears more than once; IAM keeps only the last one`},
			conds:    []Condition{{Operator: "StringEquals", Key: "gitlab.com:sub", Values: []string{"project_path:acme/app:ref_type:branch:ref:develop"}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := Parse(readFixture(t, tc.fixture))
			require.NoError(t, err, "duplicates are warnings, not errors")
			assert.Equal(t, tc.warnings, doc.Warnings)
			assert.Equal(t, tc.conds, doc.Statements[0].Conditions)
		})
	}
}

func TestParseUnknownOperatorWarns(t *testing.T) {
	doc, err := Parse([]byte(`{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEq":{"k":"v"}}}}`))
	require.NoError(t, err)
	require.Len(t, doc.Warnings, 1)
	assert.Contains(t, doc.Warnings[0], `Condition "StringEq": unknown condition operator`)
}

func TestParseErrors(t *testing.T) {
	const fed = `"Principal":{"Federated":"arn:aws:iam::1:oidc-provider/gitlab.com"},"Action":"sts:AssumeRoleWithWebIdentity"`
	tests := map[string]struct {
		input string
		want  string
	}{
		"empty":               {"  \n", "the document is empty"},
		"not json":            {"{\n  \"Statement\": [,]\n}", "invalid JSON at line 2, column"},
		"truncated":           {`{"Statement": [`, "ends early"},
		"trailing data":       {`{"Statement": []} {}`, "unexpected data after"},
		"not an object":       {`["Statement"]`, "must be a JSON object, got a list"},
		"no statement":        {`{"Version":"2012-10-17"}`, "has no Statement"},
		"bad version":         {`{"Version":"2012-10-18","Statement":[]}`, `the Version element must be "2012-10-17"`},
		"unknown top element": {`{"Statement":[],"statement":[]}`, `unknown top-level element "statement"`},
		"lower-case effect": {`{"Statement":[{"Effect":"Allow",` + fed + `},{"Effect":"allow",` + fed + `}]}`,
			`statement 2: Effect must be "Allow" or "Deny" (case-sensitive), got "allow"`},
		"effect missing":      {`{"Statement":{"Sid":"X",` + fed + `}}`, `statement 1 (Sid "X"): Effect is missing`},
		"no action":           {`{"Statement":{"Effect":"Allow"}}`, "needs an Action or a NotAction"},
		"action and not":      {`{"Statement":{"Effect":"Allow","Action":"a","NotAction":"b"}}`, "both Action and NotAction"},
		"principal and not":   {`{"Statement":{"Effect":"Allow","Action":"a","Principal":"*","NotPrincipal":"*"}}`, "both Principal and NotPrincipal"},
		"principal string":    {`{"Statement":{"Effect":"Allow","Action":"a","Principal":"arn:aws:iam::1:root"}}`, `a plain string must be "*"`},
		"principal type":      {`{"Statement":{"Effect":"Allow","Action":"a","Principal":{"Web":"x"}}}`, `unknown principal type "Web"`},
		"action number":       {`{"Statement":{"Effect":"Allow","Action":["a",3]}}`, "Action: item 2 must be a string, got a number"},
		"unknown element":     {`{"Statement":{"Effect":"Allow","Actions":"a"}}`, `unknown element "Actions"`},
		"condition not obj":   {`{"Statement":{"Effect":"Allow","Action":"a","Condition":[]}}`, "Condition must be an object"},
		"operator not obj":    {`{"Statement":{"Effect":"Allow","Action":"a","Condition":{"StringEquals":"x"}}}`, `Condition "StringEquals": must be an object`},
		"condition value obj": {`{"Statement":{"Effect":"Allow","Action":"a","Condition":{"StringEquals":{"k":{"a":1}}}}}`, `key "k": value must be a string`},
		"condition null item": {`{"Statement":{"Effect":"Allow","Action":"a","Condition":{"StringEquals":{"k":["a",null]}}}}`, "item 2 must be a string, number or boolean, got null"},
		"too deep":            {strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested too deeply"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.input))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
