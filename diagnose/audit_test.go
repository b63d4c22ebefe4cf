package diagnose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/policy"
)

func loadAuditPolicy(t *testing.T, name string) *policy.Document {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "audit", name))
	require.NoError(t, err)
	doc, err := policy.Parse(data)
	require.NoError(t, err)
	return doc
}

// findingKeys renders findings as "id:severity" in order.
func findingKeys(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+":"+string(f.Severity))
	}
	return out
}

// corpusOptions treats the self-managed instance of the fixtures as GitLab.
var corpusOptions = AuditOptions{GitLabProviders: []string{"git.example.com"}}

// auditCorpus lists every policy in testdata/audit with the findings it
// must produce, worst first. Healthy policies expect nothing above info.
var auditCorpus = map[string][]string{
	"no-sub.json":                  {"trust-no-sub-condition:critical"},
	"no-sub-project-id.json":       {"trust-no-sub-condition:high"},
	"no-sub-namespace-id.json":     {"trust-no-sub-condition:high"},
	"no-conditions-at-all.json":    {"trust-no-sub-condition:critical", "trust-no-aud-condition:medium"},
	"self-managed-no-sub.json":     {"trust-no-sub-condition:critical"},
	"wildcard-any-project.json":    {"trust-sub-wildcard-broad:high"},
	"wildcard-group.json":          {"trust-sub-wildcard-broad:high"},
	"wildcard-lookalike.json":      {"trust-sub-wildcard-broad:high"},
	"any-ref-branch.json":          {"trust-any-ref:medium", "trust-path-reuse-risk:low"},
	"any-ref-type.json":            {"trust-any-ref:medium"},
	"no-aud.json":                  {"trust-no-aud-condition:medium"},
	"forallvalues.json":            {"trust-forallvalues-allow:high"},
	"negated.json":                 {"trust-no-sub-condition:critical", "trust-negated-operator:high"},
	"stringlike-no-wildcard.json":  {"trust-stringlike-without-wildcard:info"},
	"path-reuse.json":              {"trust-path-reuse-risk:low"},
	"self-managed-path-reuse.json": {"trust-path-reuse-risk:low"},
	"healthy-exact.json":           nil,
	"healthy-protected.json":       nil,
	"healthy-project-id-sub.json":  nil,
	"healthy-release-tags.json":    nil,
}

func TestAuditTrustPolicyCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "audit", "*.json"))
	require.NoError(t, err)
	require.Len(t, files, len(auditCorpus), "every fixture must be listed in auditCorpus, and every listed one must exist")
	seen := map[string]bool{}
	for name, want := range auditCorpus {
		t.Run(name, func(t *testing.T) {
			got := AuditTrustPolicy(loadAuditPolicy(t, name), corpusOptions)
			assert.Equal(t, want, findingKeys(got))
			for _, f := range got {
				seen[f.ID] = true
				assert.NotEmpty(t, f.Title)
				assert.NotEmpty(t, f.Evidence)
				assert.NotEmpty(t, f.Fix)
			}
			if strings.HasPrefix(name, "healthy-") {
				for _, f := range got {
					assert.Equal(t, SeverityInfo, f.Severity, "healthy policy reported %s", f.ID)
				}
			}
		})
	}
	for _, id := range []string{"trust-no-sub-condition", "trust-sub-wildcard-broad", "trust-any-ref", "trust-no-aud-condition",
		"trust-forallvalues-allow", "trust-negated-operator", "trust-stringlike-without-wildcard", "trust-path-reuse-risk"} {
		assert.True(t, seen[id], "no fixture produces %s", id)
	}
}

// TestAuditBlastRadius checks that titles say in words who gets in.
func TestAuditBlastRadius(t *testing.T) {
	tests := map[string]struct {
		fixture string
		id      string
		words   string
		fix     string
	}{
		"all of gitlab.com": {"no-sub.json", "trust-no-sub-condition", "any project on gitlab.com",
			`"StringEquals": {"gitlab.com:sub": "project_path:GROUP/PROJECT:ref_type:branch:ref:main"}`},
		"project id narrows": {"no-sub-project-id.json", "trust-no-sub-condition", "narrows it to project 4242, but any branch, tag or merge request pipeline",
			`"StringEquals": {"gitlab.com:sub": `},
		"namespace narrows": {"no-sub-namespace-id.json", "trust-no-sub-condition", "every project directly in namespace 777", ""},
		"self-managed":      {"self-managed-no-sub.json", "trust-no-sub-condition", "any project on git.example.com", `"git.example.com:sub"`},
		"any project":       {"wildcard-any-project.json", "trust-sub-wildcard-broad", "any project on gitlab.com", ""},
		"group and subgroups": {"wildcard-group.json", "trust-sub-wildcard-broad", "every project under acme/ and its subgroups",
			`"StringEquals": {"gitlab.com:sub": "project_path:acme/PROJECT:ref_type:branch:ref:main"}`},
		"look-alike": {"wildcard-lookalike.json", "trust-sub-wildcard-broad", "every project whose path matches acme/app*",
			`"project_path:acme/app:ref_type:branch:ref:main"`},
		"any branch": {"any-ref-branch.json", "trust-any-ref", "any branch of acme/app, including unprotected ones",
			`"StringEquals": {"gitlab.com:ref_protected": "true"}`},
		"any ref type": {"any-ref-type.json", "trust-any-ref", "any branch or tag of acme/app", ""},
		"no aud": {"no-aud.json", "trust-no-aud-condition", "any audience",
			`"StringEquals": {"gitlab.com:aud": "sts.amazonaws.com"}`},
		"forallvalues": {"forallvalues.json", "trust-forallvalues-allow", "a token without gitlab.com:sub passes",
			`"StringEquals": {"gitlab.com:sub": "project_path:acme/app:ref_type:branch:ref:main"}`},
		"negated": {"negated.json", "trust-negated-operator", "including one without gitlab.com:sub",
			`{"Effect": "Deny", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/gitlab.com"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringLike": {"gitlab.com:sub": "project_path:evil/*"}}}`},
		"stringlike": {"stringlike-no-wildcard.json", "trust-stringlike-without-wildcard", "StringEquals says the same",
			`Use "StringEquals": {"gitlab.com:sub": "project_path:acme/app:ref_type:branch:ref:main"}`},
		"path reuse gitlab.com": {"path-reuse.json", "trust-path-reuse-risk", "pins acme/app by path only",
			`"StringEquals": {"gitlab.com:project_id": "PROJECT_ID"}`},
		"path reuse self-managed": {"self-managed-path-reuse.json", "trust-path-reuse-risk", "acme/app",
			`ci_id_token_sub_claim_components to ["project_id","ref_type","ref"]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var f *Finding
			for _, g := range AuditTrustPolicy(loadAuditPolicy(t, tc.fixture), corpusOptions) {
				if g.ID == tc.id {
					f = &g
				}
			}
			require.NotNil(t, f, "no %s finding", tc.id)
			assert.Contains(t, f.Title, tc.words)
			assert.Contains(t, f.Fix, tc.fix)
		})
	}
}

func TestAuditAnyRefSeverityWhenWriting(t *testing.T) {
	doc := loadAuditPolicy(t, "any-ref-branch.json")
	got := AuditTrustPolicy(doc, AuditOptions{CanWrite: true})
	assert.Equal(t, []string{"trust-any-ref:high", "trust-path-reuse-risk:low"}, findingKeys(got))
}

func TestAuditGitLabProviders(t *testing.T) {
	const custom = `{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/ci.example.org"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"ci.example.org:aud":"sts.amazonaws.com"}}}}`
	doc, err := policy.Parse([]byte(custom))
	require.NoError(t, err)
	assert.Empty(t, AuditTrustPolicy(doc, AuditOptions{}), "a provider not known as GitLab is not audited")
	for _, p := range []string{"ci.example.org", "https://ci.example.org", "arn:aws:iam::1:oidc-provider/ci.example.org"} {
		got := AuditTrustPolicy(doc, AuditOptions{GitLabProviders: []string{p}})
		assert.Equal(t, []string{"trust-no-sub-condition:critical"}, findingKeys(got), p)
	}
	assert.Nil(t, AuditTrustPolicy(nil, AuditOptions{}))
}

func TestClassifySub(t *testing.T) {
	tests := map[string]struct {
		value string
		like  bool
		kind  subKind
	}{
		"exact":               {"project_path:acme/app:ref_type:branch:ref:main", false, subExact},
		"star under equals":   {"project_path:acme/*", false, subExact},
		"star":                {"*", true, subBroad},
		"leading star":        {"*:ref_type:branch:ref:main", true, subBroad},
		"all projects":        {"project_path:*", true, subBroad},
		"group":               {"project_path:acme/*", true, subBroad},
		"question in project": {"project_path:acme/ap?:ref_type:branch:ref:main", true, subBroad},
		"project id star":     {"project_id:*", true, subBroad},
		"any ref":             {"project_path:acme/app:*", true, subAnyRef},
		"any ref type":        {"project_path:acme/app:ref_type:*:ref:main", true, subAnyRef},
		"any branch":          {"project_path:acme/app:ref_type:branch:ref:*", true, subAnyRef},
		"release branches":    {"project_path:acme/app:ref_type:branch:ref:release/*", true, subNarrow},
		"version tags":        {"project_path:acme/app:ref_type:tag:ref:v*", true, subNarrow},
		"project id any ref":  {"project_id:42:ref_type:branch:ref:*", true, subAnyRef},
		"custom components":   {"project_path:acme/app:ref_protected:true", false, subExact},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.kind, classifySub(tc.value, tc.like).kind)
		})
	}
}

func TestCondJSONIsValidJSON(t *testing.T) {
	for _, vals := range [][]string{{"a\"b"}, {"x", "y"}, {}} {
		var v map[string]map[string]any
		require.NoError(t, json.Unmarshal([]byte("{"+condJSON("StringEquals", "gitlab.com:sub", vals)+"}"), &v))
	}
	var deny map[string]any
	require.NoError(t, json.Unmarshal([]byte(denyJSON("arn", "StringLike", "k", []string{"v*"})), &deny))
}

func TestAuditRole(t *testing.T) {
	trust := loadAuditPolicy(t, "any-ref-branch.json")
	star, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"}]}`))
	require.NoError(t, err)
	readOnly, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:List*"],"Resource":"*"}]}`))
	require.NoError(t, err)
	writes, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`))
	require.NoError(t, err)

	tests := map[string]struct {
		in       RoleFacts
		opts     AuditOptions
		want     []string
		evidence string
	}{
		"admin attached, long session": {
			in:       RoleFacts{ARN: "arn:aws:iam::1:role/ci/deploy", Trust: trust, MaxSessionDuration: 43200, AttachedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}},
			want:     []string{"trust-any-ref:high", "role-admin-permissions:high", "trust-path-reuse-risk:low", "role-long-session:low"},
			evidence: "attached managed policy arn:aws:iam::aws:policy/AdministratorAccess",
		},
		"inline star on star": {
			in:       RoleFacts{Name: "deploy", Trust: trust, MaxSessionDuration: 3600},
			opts:     AuditOptions{Policies: map[string]*policy.Document{"everything": star}},
			want:     []string{"trust-any-ref:high", "role-admin-permissions:high", "trust-path-reuse-risk:low"},
			evidence: `policy everything, Everything: allows "*" on "*"`,
		},
		"read-only role keeps any-ref medium": {
			in:   RoleFacts{Name: "reader", Trust: trust, AttachedPolicies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
			opts: AuditOptions{Policies: map[string]*policy.Document{"read": readOnly}},
			want: []string{"trust-any-ref:medium", "trust-path-reuse-risk:low"},
		},
		"unread attached policy counts as writing": {
			in:   RoleFacts{Name: "x", Trust: trust, AttachedPolicies: []string{"arn:aws:iam::1:policy/deploy"}},
			want: []string{"trust-any-ref:high", "trust-path-reuse-risk:low"},
		},
		"writing inline policy": {
			in:   RoleFacts{Name: "x", Trust: trust},
			opts: AuditOptions{Policies: map[string]*policy.Document{"w": writes}},
			want: []string{"trust-any-ref:high", "trust-path-reuse-risk:low"},
		},
		"no trust policy, one hour": {
			in:   RoleFacts{Name: "x", MaxSessionDuration: 3600},
			want: nil,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := AuditRole(tc.in, tc.opts)
			assert.Equal(t, tc.want, findingKeys(got))
			for _, f := range got {
				switch f.ID {
				case "role-admin-permissions":
					assert.Contains(t, f.Evidence, tc.evidence)
					assert.Contains(t, f.Title, "controls the whole AWS account")
				case "role-long-session":
					assert.Equal(t, "aws iam update-role --role-name deploy --max-session-duration 3600", f.Fix)
					assert.Contains(t, f.Title, "12 hours")
				}
			}
		})
	}
}
