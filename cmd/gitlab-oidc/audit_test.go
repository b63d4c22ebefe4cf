package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/testenv"
)

// The flag has its own name so it cannot clash with other golden tests of
// this package.
var updateAuditGolden = flag.Bool("update-audit", false, "rewrite testdata/audit_*.golden")

// fixture is a trust policy from the diagnose package's audit corpus.
func fixture(name string) string {
	return filepath.Join("..", "..", "diagnose", "testdata", "audit", name)
}

// runAuditCLI runs the real command line and returns the exit code, stdout
// and stderr.
func runAuditCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"audit"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// offline makes any attempt to load AWS configuration fail, so a test
// proves that a path makes no AWS call.
func offline(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "does-not-exist")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
}

func TestAuditExitCodes(t *testing.T) {
	offline(t)
	tests := map[string]struct {
		args []string
		code int
		err  string
	}{
		"demo, report only":            {args: []string{"--demo"}, code: exitOK},
		"demo fails on critical":       {args: []string{"--demo", "--fail-on", "critical"}, code: exitFailure, err: "1 role has findings at or above critical"},
		"demo fails on high":           {args: []string{"--demo", "--fail-on", "high"}, code: exitFailure, err: "3 roles have findings at or above high"},
		"healthy file passes low":      {args: []string{"--trust-policy", fixture("healthy-exact.json"), "--fail-on", "low"}, code: exitOK},
		"path reuse fails low":         {args: []string{"--trust-policy", fixture("path-reuse.json"), "--fail-on", "low"}, code: exitFailure},
		"path reuse passes medium":     {args: []string{"--trust-policy", fixture("path-reuse.json"), "--fail-on", "medium"}, code: exitOK},
		"no sub fails critical":        {args: []string{"--trust-policy", fixture("healthy-exact.json"), "--trust-policy", fixture("no-sub.json"), "--fail-on", "critical"}, code: exitFailure},
		"missing file":                 {args: []string{"--trust-policy", fixture("nope.json")}, code: exitUsage, err: "nope.json: no such file"},
		"file is not JSON":             {args: []string{"--trust-policy", filepath.Join("testdata", "not-a-policy.json")}, code: exitUsage, err: "--trust-policy testdata/not-a-policy.json: parse policy"},
		"bad format":                   {args: []string{"--demo", "--format", "yaml"}, code: exitUsage, err: `--format "yaml"`},
		"bad fail-on":                  {args: []string{"--demo", "--fail-on", "info"}, code: exitUsage, err: `--fail-on "info"`},
		"bad concurrency":              {args: []string{"--demo", "--concurrency", "0"}, code: exitUsage, err: "--concurrency 0"},
		"files with demo":              {args: []string{"--demo", "--trust-policy", fixture("no-sub.json")}, code: exitUsage, err: "cannot be combined"},
		"unknown flag":                 {args: []string{"--nope"}, code: exitUsage},
		"no credentials, real account": {args: []string{"--no-tui"}, code: exitFailure, err: "does-not-exist"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runAuditCLI(t, tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			if tc.err != "" {
				assert.Contains(t, stderr, tc.err)
			}
		})
	}
}

// TestAuditJSONShape checks the --format json contract and that stdout
// holds nothing but the report.
func TestAuditJSONShape(t *testing.T) {
	offline(t)
	code, stdout, stderr := runAuditCLI(t, "--demo", "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var out struct {
		Roles []struct {
			ARN         string `json:"arn"`
			Worst       string `json:"worst"`
			BlastRadius string `json:"blast_radius"`
			Findings    []map[string]any
		} `json:"roles"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.Len(t, out.Roles, 5)
	first := out.Roles[0]
	assert.Equal(t, "arn:aws:iam::123456789012:role/gitlab-legacy-deploy", first.ARN)
	assert.Equal(t, "critical", first.Worst)
	assert.Equal(t, "any project on gitlab.com", first.BlastRadius)
	require.NotEmpty(t, first.Findings)
	for _, f := range first.Findings {
		assert.ElementsMatch(t, []string{"id", "severity", "title", "evidence", "fix"}, keys(f))
	}
	assert.Equal(t, "trust-no-sub-condition", first.Findings[0]["id"])
	healthy := out.Roles[len(out.Roles)-1]
	assert.Equal(t, "none", healthy.Worst)
	assert.NotNil(t, healthy.Findings, "no findings is [], not null")
	assert.Contains(t, stderr, "auditing 5 roles")
	assert.Contains(t, stderr, "5 roles trust GitLab, of 6 roles looked at")
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAuditGolden compares the markdown and text reports of the demo
// account with testdata; run with -update-audit after an intended change.
func TestAuditGolden(t *testing.T) {
	offline(t)
	for _, format := range []string{"markdown", "text"} {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := runAuditCLI(t, "--demo", "--no-tui", "--format", format)
			require.Equal(t, exitOK, code, stderr)
			path := filepath.Join("testdata", "audit_demo_"+format+".golden")
			if *updateAuditGolden {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, []byte(stdout), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestAuditGolden -update-audit")
			assert.Equal(t, string(want), stdout)
		})
	}
}

// TestAuditTrustPolicyOffline audits files with AWS unreachable and
// unconfigured, and reports a policy without GitLab as skipped.
func TestAuditTrustPolicyOffline(t *testing.T) {
	offline(t)
	code, stdout, stderr := runAuditCLI(t, "--trust-policy", fixture("wildcard-group.json"), "--trust-policy", fixture("self-managed-no-sub.json"), "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var out auditJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.Len(t, out.Roles, 1)
	assert.Equal(t, "wildcard-group", out.Roles[0].Name)
	assert.Equal(t, "trust-sub-wildcard-broad", out.Roles[0].Findings[0].ID)
	require.Len(t, out.Skipped, 1)
	assert.Contains(t, stderr, "skipped")

	code, stdout, stderr = runAuditCLI(t, "--trust-policy", fixture("self-managed-no-sub.json"), "--issuer", "https://git.example.com", "--format", "json", "--fail-on", "critical")
	assert.Equal(t, exitFailure, code, stderr)
	assert.Contains(t, stdout, "trust-no-sub-condition")
}

// TestAuditMoto runs the command against a real IAM emulator through the
// SDK's default configuration chain, as a user would.
func TestAuditMoto(t *testing.T) {
	moto := testenv.StartMoto(t)
	moto.Setenv(t)
	ctx := context.Background()
	client := iam.NewFromConfig(moto.AWSConfig())
	for name, file := range map[string]string{"ci-no-sub": "no-sub.json", "ci-exact": "healthy-exact.json", "ci-group": "wildcard-group.json"} {
		doc, err := os.ReadFile(fixture(file))
		require.NoError(t, err)
		_, err = client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(string(doc))})
		require.NoError(t, err)
	}

	code, stdout, stderr := runAuditCLI(t, "--no-tui", "--fail-on", "high")
	assert.Equal(t, exitFailure, code, stderr)
	lines := strings.Split(stdout, "\n")
	require.GreaterOrEqual(t, len(lines), 4)
	assert.Regexp(t, `^ROLE\s+WORST\s+WHO CAN ASSUME$`, lines[0])
	assert.Regexp(t, `^ci-no-sub\s+critical\s+any project on gitlab.com$`, lines[1])
	assert.Regexp(t, `^ci-group\s+high\s+every project under acme/ and its subgroups$`, lines[2])
	assert.Regexp(t, `^ci-exact\s+none\s+acme/app on branch main, acme/app on tag v1.0.0$`, lines[3])
	assert.Contains(t, stdout, "fix: ")

	code, stdout, stderr = runAuditCLI(t, "--no-tui", "--role-arn", "arn:aws:iam::123456789012:role/ci-exact", "--format", "json", "--fail-on", "low")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `"name": "ci-exact"`)
	assert.NotContains(t, stdout, "ci-no-sub")
}

// TestAuditProgress checks that CI logs get a handful of progress lines,
// not one per role.
func TestAuditProgress(t *testing.T) {
	tests := map[string]struct {
		total int
		tty   bool
		lines int
	}{
		"short audit":   {total: 5, lines: 1},
		"long audit":    {total: 40, lines: 1 + 9},
		"terminal":      {total: 40, tty: true, lines: 2},
		"nothing to do": {total: 0, lines: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			progress := auditProgress(newPrinter(&buf, true), tc.tty)
			for done := 0; done <= tc.total; done++ {
				progress(done, tc.total)
			}
			assert.Equal(t, tc.lines, strings.Count(buf.String(), "\n"), buf.String())
		})
	}
}

// TestAuditNamedRoleMissingFails checks that a --role-arn that cannot be
// read fails the audit: a typo in CI must not pass as clean.
func TestAuditNamedRoleMissingFails(t *testing.T) {
	code, _, stderr := runAuditCLI(t, "--demo", "--role-arn", "arn:aws:iam::123456789012:role/gitlab-acme-payments-main", "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = runAuditCLI(t, "--demo", "--role-arn", "arn:aws:iam::123456789012:role/no-such-role", "--format", "json")
	assert.Equal(t, exitFailure, code, stderr)
	assert.Contains(t, stderr, "could not audit arn:aws:iam::123456789012:role/no-such-role")
}
