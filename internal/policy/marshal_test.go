package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarshalRoundTrip(t *testing.T) {
	for _, fixture := range []string{"gitlab-three-statements.json", "string-or-list.json", "gitlab-urlencoded.txt", "build-split.golden.json"} {
		t.Run(fixture, func(t *testing.T) {
			doc, err := Parse(readFixture(t, fixture))
			require.NoError(t, err)
			out, err := Marshal(doc)
			require.NoError(t, err)
			again, err := Parse(out)
			require.NoError(t, err)
			assert.True(t, Equivalent(doc, again), "round trip changes meaning:\n%s", out)
			out2, err := Marshal(again)
			require.NoError(t, err)
			assert.Equal(t, string(out), string(out2), "Marshal is not stable")
		})
	}
}

func TestMarshalShape(t *testing.T) {
	doc, err := Parse(readFixture(t, "string-or-list.json"))
	require.NoError(t, err)
	out, err := Marshal(doc)
	require.NoError(t, err)
	assert.Equal(t, `{
  "Statement": [
    {
      "Sid": "Single",
      "Effect": "Allow",
      "Principal": "*",
      "NotAction": "iam:*",
      "Resource": [
        "arn:aws:s3:::a",
        "arn:aws:s3:::b"
      ],
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "true"
        },
        "NumericLessThan": {
          "aws:MultiFactorAuthAge": [
            "3600",
            "7200"
          ]
        },
        "StringEquals": {
          "aws:PrincipalTag/team": "blue"
        }
      }
    }
  ]
}`, string(out))
}

func TestMarshalKeepsEmptyListsAndHTML(t *testing.T) {
	doc := &Document{Statements: []Statement{{Effect: "Deny", Actions: []string{}, Resources: []string{"a<b>&c"}, NotPrincipal: &Principal{}}}}
	out, err := Marshal(doc)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"Action": []`)
	assert.Contains(t, string(out), `"Resource": "a<b>&c"`)
	assert.Contains(t, string(out), `"NotPrincipal": {}`)
}

func TestMarshalRefusesDuplicateConditions(t *testing.T) {
	doc := &Document{Statements: []Statement{{Effect: "Allow", Actions: []string{"*"}, Conditions: []Condition{
		{Operator: "StringEquals", Key: "gitlab.com:sub", Values: []string{"a"}},
		{Operator: "StringEquals", Key: "gitlab.com:sub", Values: []string{"b"}},
	}}}}
	_, err := Marshal(doc)
	assert.ErrorContains(t, err, `statement 1 has two StringEquals conditions on "gitlab.com:sub"`)
	_, err = Marshal(nil)
	assert.Error(t, err)
}
