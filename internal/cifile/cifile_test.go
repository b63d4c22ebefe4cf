package cifile

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func parseFixture(t *testing.T, name string) *File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return f
}

func TestParseResolvesJobs(t *testing.T) {
	f := parseFixture(t, "resolve.yml")
	tests := map[string]struct {
		idTokens    map[string][]string
		vars        map[string]string // must be present with these values
		absentVars  []string
		scripts     []string // must appear, in this order
		environment string
		stsCalls    int
	}{
		"deploy": {
			idTokens:    map[string][]string{"GITLAB_OIDC_TOKEN": {"sts.amazonaws.com"}},
			vars:        map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/prod", "AWS_REGION": "eu-west-1", "DESCRIBED": "described-value"},
			scripts:     []string{"aws s3 ls"},
			environment: "production",
			stsCalls:    1,
		},
		"list-extends": {
			// The later template's id_tokens merge into the earlier one's.
			idTokens: map[string][]string{"GITLAB_OIDC_TOKEN": {"sts.amazonaws.com"}, "MULTI": {"https://a.example.com", "https://b.example.com"}},
			vars:     map[string]string{"AWS_REGION": "us-east-1", "GLOBAL_ONLY": "yes"},
			scripts:  []string{"echo shared", "echo own"},
			stsCalls: 1,
		},
		"merged": {
			// inherit: default: [image] drops the default before_script and
			// id_tokens; variables: false drops the globals.
			idTokens:   map[string][]string{},
			vars:       map[string]string{"OWN": "x"},
			absentVars: []string{"AWS_REGION", "GLOBAL_ONLY"},
			scripts:    []string{"echo shared"},
		},
		"native": {
			idTokens: map[string][]string{"AWS_TOKEN": {"sts.amazonaws.com"}},
			vars:     map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": "/tmp/web_identity_token"},
			scripts:  []string{"echo default-before", "aws sts get-caller-identity"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			j, ok := f.Jobs[name]
			if !ok {
				t.Fatalf("job %s missing; have %v (warnings %v)", name, f.Names(), f.Warnings)
			}
			if !reflect.DeepEqual(j.IDTokens, tc.idTokens) {
				t.Errorf("IDTokens = %v, want %v", j.IDTokens, tc.idTokens)
			}
			for k, v := range tc.vars {
				if j.Variables[k] != v {
					t.Errorf("Variables[%s] = %q, want %q", k, j.Variables[k], v)
				}
			}
			for _, k := range tc.absentVars {
				if _, ok := j.Variables[k]; ok {
					t.Errorf("Variables has %s, want it absent", k)
				}
			}
			if !inOrder(j.Scripts, tc.scripts) {
				t.Errorf("Scripts = %q, want %q in order", j.Scripts, tc.scripts)
			}
			if j.Environment != tc.environment {
				t.Errorf("Environment = %q, want %q", j.Environment, tc.environment)
			}
			if len(j.STSCalls) != tc.stsCalls {
				t.Errorf("%d STS calls, want %d", len(j.STSCalls), tc.stsCalls)
			}
		})
	}
	if !f.Jobs[".base"].Hidden || f.Jobs["deploy"].Hidden {
		t.Error("Hidden is wrong for .base or deploy")
	}
	for _, want := range []string{"cycle", ".does-not-exist"} {
		if !slices.ContainsFunc(f.Warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("no warning mentioning %q in %v", want, f.Warnings)
		}
	}
}

func TestParseSTSAnalysis(t *testing.T) {
	f := parseFixture(t, "resolve.yml")
	c := f.Jobs["deploy"].STSCalls[0]
	want := STSCall{
		Line: c.Line, TokenVar: "GITLAB_OIDC_TOKEN", TokenExpr: "${GITLAB_OIDC_TOKEN}",
		RoleARNExpr: "${AWS_ROLE_ARN}", SessionNameExpr: "GitLabRunner-${CI_PROJECT_ID}-${CI_PIPELINE_ID}",
		DurationExpr: "3600",
	}
	if c != want {
		t.Errorf("deploy STS call = %+v\nwant %+v", c, want)
	}
	legacy := f.Jobs["legacy"]
	if !legacy.UsesLegacyJWT || !reflect.DeepEqual(legacy.LegacyJWTVars, []string{"CI_JOB_JWT", "CI_JOB_JWT_FILE", "CI_JOB_JWT_V2"}) {
		t.Errorf("legacy JWT = %v %v", legacy.UsesLegacyJWT, legacy.LegacyJWTVars)
	}
	lc := legacy.STSCalls[0]
	if !lc.ProviderIDSet || lc.TokenFile != "$CI_JOB_JWT_FILE" || lc.TokenVar != "" || lc.SessionNameExpr != "$CI_COMMIT_REF_NAME" {
		t.Errorf("legacy STS call = %+v", lc)
	}
	native := f.Jobs["native"]
	if got := native.TokenVars(); !reflect.DeepEqual(got, []string{"AWS_TOKEN"}) {
		t.Errorf("native TokenVars = %v", got)
	}
	if v, _ := native.Var("AWS_ROLE_ARN"); v != "arn:aws:iam::123456789012:role/native" {
		t.Errorf("native exported AWS_ROLE_ARN = %q", v)
	}
	if f.Jobs["deploy"].UsesLegacyJWT {
		t.Error("deploy flagged as using the legacy JWT")
	}
}

func TestSTSCallForms(t *testing.T) {
	tests := map[string]struct {
		line string
		want STSCall
	}{
		"equals form and file://": {
			line: "aws sts assume-role-with-web-identity --role-arn=$R --role-session-name=gitlab-$CI_JOB_ID --web-identity-token=file:///tmp/tok",
			want: STSCall{RoleARNExpr: "$R", SessionNameExpr: "gitlab-$CI_JOB_ID", TokenExpr: "file:///tmp/tok", TokenFile: "/tmp/tok"},
		},
		"backtick cat and quoted var": {
			line: "creds=$(aws sts assume-role-with-web-identity --web-identity-token \"`cat /t`\" --role-arn \"$ROLE\")",
			want: STSCall{RoleARNExpr: "$ROLE", TokenExpr: "`cat /t`", TokenFile: "/t"},
		},
		"stops at a pipe": {
			line: "aws sts assume-role-with-web-identity --web-identity-token $T --duration-seconds $CI_JOB_TIMEOUT | jq . --role-arn x",
			want: STSCall{TokenExpr: "$T", TokenVar: "T", DurationExpr: "$CI_JOB_TIMEOUT"},
		},
		"provider id without value before next flag": {
			line: "aws sts assume-role-with-web-identity --provider-id --web-identity-token ${TOK}",
			want: STSCall{ProviderIDSet: true, TokenExpr: "${TOK}", TokenVar: "TOK"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			j := &Job{Scripts: []string{tc.line}, Exports: map[string]string{}}
			analyze(j)
			if len(j.STSCalls) != 1 {
				t.Fatalf("%d calls", len(j.STSCalls))
			}
			tc.want.Line = tc.line
			if j.STSCalls[0] != tc.want {
				t.Errorf("got  %+v\nwant %+v", j.STSCalls[0], tc.want)
			}
		})
	}
}

func TestReadFollowsLocalIncludes(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "repo"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), mustRead(t, "testdata/repo/.gitlab-ci.yml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Read from a subdirectory path, as a user in a subfolder would.
	f, err := Read(filepath.Join(dir, "ci", "..", ".gitlab-ci.yml"))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	job := f.Jobs["job"]
	if job == nil {
		t.Fatalf("job missing; jobs %v, warnings %v", f.Names(), f.Warnings)
	}
	if got := job.IDTokens["NESTED_TOKEN"]; !reflect.DeepEqual(got, []string{"sts.amazonaws.com"}) {
		t.Errorf("id_tokens from a nested include = %v", job.IDTokens)
	}
	if job.Variables["AWS_DEFAULT_REGION"] != "eu-north-1" || job.Variables["AWS_ROLE_ARN"] != "arn:aws:iam::123456789012:role/included" {
		t.Errorf("variables from includes = %v", job.Variables)
	}
	if _, ok := f.Jobs["extra-job"]; !ok {
		t.Errorf("glob include not followed; jobs %v", f.Names())
	}
	wantIncludes := []string{"ci/base.yml", "ci/nested.yml", "ci/more/extra.yml"}
	if !reflect.DeepEqual(f.Includes, wantIncludes) {
		t.Errorf("Includes = %v, want %v", f.Includes, wantIncludes)
	}
	wantUnresolved := []string{"project: group/shared /templates/aws.yml", "remote: https://example.com/ci.yml"}
	if !reflect.DeepEqual(f.Unresolved, wantUnresolved) {
		t.Errorf("Unresolved = %v, want %v", f.Unresolved, wantUnresolved)
	}
}

func TestParseLeavesLocalIncludesUnresolved(t *testing.T) {
	f, err := Parse([]byte("include: ci/x.yml\njob:\n  script: [echo]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Unresolved, []string{"ci/x.yml"}) {
		t.Errorf("Unresolved = %v", f.Unresolved)
	}
}

func TestParseBounds(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 0, "a"; i < 9; i++ {
		name := string(rune('b' + i))
		bomb += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	tests := map[string]struct {
		data []byte
		want string
	}{
		"alias bomb":     {[]byte(bomb), "too many nodes"},
		"over 5 MiB":     {[]byte("x: '" + strings.Repeat("a", maxFileSize) + "'\n"), "refused"},
		"not a mapping":  {[]byte("- a\n"), "not a mapping"},
		"invalid yaml":   {[]byte("a: [\n"), "not valid YAML"},
		"bad !reference": {[]byte("j:\n  script: !reference [[x]]\n"), "!reference"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want one containing %q", err, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Parse took %v", d)
			}
		})
	}
}

func TestSessionNameRisk(t *testing.T) {
	tests := map[string]struct {
		expr  string
		risky bool
		why   string
	}{
		"numeric ids":          {"gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}", false, ""},
		"gitlab docs example":  {"GitLabRunner-${CI_PROJECT_ID}-${CI_PIPELINE_ID}", false, ""},
		"ref name has slashes": {"gitlab-$CI_COMMIT_REF_NAME", true, "CI_COMMIT_REF_NAME"},
		"project path":         {"${CI_PROJECT_PATH}-${CI_JOB_ID}", true, "CI_PROJECT_PATH"},
		"slug too long":        {"gitlab-${CI_COMMIT_REF_SLUG}-${CI_JOB_ID}", true, "over STS's 64"},
		"slug cut to fit":      {"gitlab-${CI_COMMIT_REF_SLUG:0:20}-${CI_JOB_ID}", false, ""},
		"bad literal":          {"gitlab job/${CI_JOB_ID}", true, "literal"},
		"too short":            {"x", true, "shorter"},
		"unknown variable":     {"gitlab-$MY_NAME", false, "MY_NAME"},
		"command substitution": {"gitlab-$(date +%s)", false, "runs a command"},
		"sha is fine":          {"gitlab-${CI_COMMIT_SHA}", false, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			why, risky := SessionNameRisk(tc.expr)
			if risky != tc.risky || !strings.Contains(why, tc.why) {
				t.Errorf("SessionNameRisk(%q) = %q, %v; want risky=%v with %q", tc.expr, why, risky, tc.risky, tc.why)
			}
		})
	}
}

func inOrder(have, want []string) bool {
	i := 0
	for _, h := range have {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	return i == len(want)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/resolve.yml", "testdata/repo/.gitlab-ci.yml", "testdata/repo/ci/base.yml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a: &a {b: *a}\n"))
	f.Add([]byte("j:\n  extends: [j]\n  script: !reference [j, script]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang would otherwise only stall the fuzzer silently.
		timer := time.AfterFunc(3*time.Second, func() { panic(fmt.Sprintf("Parse hangs on %q", data)) })
		defer timer.Stop()
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, j := range file.Jobs {
			for _, c := range j.STSCalls {
				SessionNameRisk(c.SessionNameExpr)
			}
		}
	})
}
