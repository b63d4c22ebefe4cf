package fix

import (
	"testing"

	"gitlab-oidc/internal/policy"
)

func TestUnpinnedStatement(t *testing.T) {
	const provider = `{"Federated": "arn:aws:iam::123456789012:oidc-provider/gitlab.com"}`
	stmt := func(action, condition string) string {
		c := ""
		if condition != "" {
			c = `, "Condition": ` + condition
		}
		return `{"Sid": "S", "Effect": "Allow", "Principal": ` + provider + `, "Action": "` + action + `"` + c + `}`
	}
	tests := map[string]struct {
		statements string
		unpinned   bool
	}{
		"exact sub":                {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"StringEquals": {"gitlab.com:sub": "project_path:a/b:ref_type:branch:ref:main"}}`)},
		"sub pattern":              {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"StringLike": {"gitlab.com:sub": "project_path:a/b:*"}}`)},
		"key case":                 {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"StringEquals": {"GitLab.com:SUB": "project_path:a/b:ref_type:branch:ref:main"}}`)},
		"aud only":                 {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"StringEquals": {"gitlab.com:aud": "sts.amazonaws.com"}}`), unpinned: true},
		"no condition":             {statements: stmt("sts:AssumeRoleWithWebIdentity", ""), unpinned: true},
		"bare star":                {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"StringLike": {"gitlab.com:sub": "*"}}`), unpinned: true},
		"negated":                  {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"StringNotEquals": {"gitlab.com:sub": "x"}}`), unpinned: true},
		"if exists":                {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"StringEqualsIfExists": {"gitlab.com:sub": "x"}}`), unpinned: true},
		"for all values":           {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"ForAllValues:StringEquals": {"gitlab.com:sub": "x"}}`), unpinned: true},
		"wildcard action":          {statements: stmt("sts:*", ""), unpinned: true},
		"another action":           {statements: stmt("sts:AssumeRole", "")},
		"pinned beside AssumeRole": {statements: stmt("sts:AssumeRoleWithWebIdentity", `{"StringEquals": {"gitlab.com:sub": "x"}}`) + `, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}`},
		"a Deny needs no sub":      {statements: `{"Effect": "Deny", "Principal": ` + provider + `, "Action": "sts:AssumeRoleWithWebIdentity"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := policy.Parse([]byte(`{"Version": "2012-10-17", "Statement": [` + tc.statements + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if _, got := UnpinnedStatement(doc); got != tc.unpinned {
				t.Errorf("unpinned = %v, want %v", got, tc.unpinned)
			}
		})
	}
}
