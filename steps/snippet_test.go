package steps

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// snippetCases are shared by the golden test and the YAML structure test.
var snippetCases = map[string]SnippetSpec{
	"explicit-main": {
		Audience: "sts.amazonaws.com", Region: "eu-west-1", ExampleJob: true,
		Rules: []RefRule{{Kind: AllowBranch, Pattern: "main"}},
	},
	"explicit-patterns": {
		Audience: "https://gitlab.example.com", Region: "us-east-1", DurationSeconds: 7200,
		Rules: []RefRule{
			{Kind: AllowBranch, Pattern: "release/*"},
			{Kind: AllowTag, Pattern: "v*"},
			{Kind: AllowTag, Pattern: "v1.0"},
			{Kind: AllowProtected},
		},
		ExampleJob: true, Image: "amazon/aws-cli:2.17.0",
	},
	"native-envs": {
		Style: SnippetNative, Audience: "sts.amazonaws.com", Region: "eu-central-1",
		RoleARNVariable: "DEPLOY_ROLE", TokenVariable: "AWS_ID_TOKEN",
		Rules: []RefRule{{Kind: AllowProtected}},
		Environments: []EnvJob{
			{Name: "staging"},
			{Name: "Production EU", RoleARNVariable: "PROD_ROLE_ARN"},
		},
	},
	"no-rules": {Audience: "sts.amazonaws.com", Region: "eu-west-1"},
	"explicit-env-roles": {
		Audience: "https://gitlab.com", Region: "eu-central-1",
		Rules: []RefRule{{Kind: AllowBranch, Pattern: "main"}, {Kind: AllowBranch, Pattern: "*"}},
		Environments: []EnvJob{
			{Name: "production", Rules: []RefRule{{Kind: AllowBranch, Pattern: "main"}}},
			{Name: "staging", Rules: []RefRule{{Kind: AllowBranch, Pattern: "*"}}},
		},
		ExampleJob: true,
	},
}

func TestRenderSnippetGolden(t *testing.T) {
	for name, spec := range snippetCases {
		t.Run(name, func(t *testing.T) {
			got, err := RenderSnippet(spec)
			if err != nil {
				t.Fatalf("RenderSnippet: %v", err)
			}
			path := filepath.Join("testdata", "snippet", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test ./steps -run Snippet -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("snippet differs from %s (run with -update if intended):\n%s", path, got)
			}
			again, _ := RenderSnippet(spec)
			if again != got {
				t.Error("RenderSnippet is not deterministic")
			}
		})
	}
}

// ciJob is the part of a job the structure test reads back.
type ciJob struct {
	Extends      string                       `yaml:"extends"`
	IDTokens     map[string]map[string]string `yaml:"id_tokens"`
	Variables    map[string]string            `yaml:"variables"`
	Rules        []map[string]string          `yaml:"rules"`
	BeforeScript []string                     `yaml:"before_script"`
	Script       []string                     `yaml:"script"`
	Stage        string                       `yaml:"stage"`
	Environment  map[string]string            `yaml:"environment"`
}

// TestRenderSnippetStructure parses the output as YAML and checks the parts
// GitLab acts on, independently of the golden text.
func TestRenderSnippetStructure(t *testing.T) {
	for name, spec := range snippetCases {
		t.Run(name, func(t *testing.T) {
			out, err := RenderSnippet(spec)
			if err != nil {
				t.Fatal(err)
			}
			var jobs map[string]ciJob
			if err := yaml.Unmarshal([]byte(out), &jobs); err != nil {
				t.Fatalf("snippet is not valid YAML: %v\n%s", err, out)
			}
			s, _ := spec.withDefaults()
			tmpl, ok := jobs[".aws-oidc"]
			if !ok {
				t.Fatal("no .aws-oidc template")
			}
			if got := tmpl.IDTokens[s.TokenVariable]["aud"]; got != spec.Audience {
				t.Errorf("aud = %q, want %q", got, spec.Audience)
			}
			if tmpl.Variables["AWS_REGION"] != spec.Region || tmpl.Variables["AWS_DEFAULT_REGION"] != spec.Region {
				t.Errorf("region variables = %v", tmpl.Variables)
			}
			script := strings.Join(tmpl.BeforeScript, "\n")
			for _, want := range []string{`test -n "$` + s.RoleARNVariable + `"`, SessionNameExpr, s.TokenVariable} {
				if !strings.Contains(script, want) {
					t.Errorf("before_script lacks %q:\n%s", want, script)
				}
			}
			if s.Style == SnippetExplicit && !strings.Contains(script, "assume-role-with-web-identity") {
				t.Errorf("explicit style does not call STS:\n%s", script)
			}
			if s.Style == SnippetNative && !strings.Contains(script, "AWS_WEB_IDENTITY_TOKEN_FILE") {
				t.Errorf("native style does not set the token file:\n%s", script)
			}
			if len(tmpl.Rules) != len(spec.Rules) {
				t.Errorf("%d rules, want %d", len(tmpl.Rules), len(spec.Rules))
			}
			if _, ok := jobs["aws-oidc-check"]; ok != spec.ExampleJob {
				t.Errorf("example job present = %v, want %v", ok, spec.ExampleJob)
			}
			for _, e := range spec.Environments {
				job, ok := jobs[".aws-oidc-"+envSuffix(e.Name)]
				if !ok || job.Extends != ".aws-oidc" || job.Environment["name"] != e.Name {
					t.Errorf("environment template for %q = %+v", e.Name, job)
				}
				if e.RoleARNVariable != "" && !strings.Contains(strings.Join(job.BeforeScript, "\n"), "$"+e.RoleARNVariable) {
					t.Errorf("environment %q does not use its role variable", e.Name)
				}
			}
		})
	}
}

func TestRenderRules(t *testing.T) {
	tests := map[string]struct {
		rule RefRule
		want string
	}{
		"exact branch":     {RefRule{AllowBranch, "main"}, `$CI_COMMIT_BRANCH == "main"`},
		"branch wildcard":  {RefRule{AllowBranch, "release/*"}, `$CI_COMMIT_BRANCH =~ /^release\/.*$/`},
		"dots are literal": {RefRule{AllowTag, "v1.?.*"}, `$CI_COMMIT_TAG =~ /^v1\..\..*$/`},
		"tag pattern":      {RefRule{AllowTag, "v*"}, `$CI_COMMIT_TAG =~ /^v.*$/`},
		"exact tag":        {RefRule{AllowTag, "v1.2.3"}, `$CI_COMMIT_TAG == "v1.2.3"`},
		"protected":        {RefRule{Kind: AllowProtected}, `$CI_COMMIT_REF_PROTECTED == "true"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := renderRules([]RefRule{tc.rule})
			if err != nil || len(got) != 1 || got[0] != tc.want {
				t.Errorf("renderRules(%+v) = %v, %v; want %q", tc.rule, got, err, tc.want)
			}
		})
	}
}

func TestRenderSnippetRejects(t *testing.T) {
	ok := SnippetSpec{Audience: "sts.amazonaws.com", Region: "eu-west-1"}
	tests := map[string]func(*SnippetSpec){
		"unknown style":      func(s *SnippetSpec) { s.Style = "profile" },
		"no audience":        func(s *SnippetSpec) { s.Audience = "" },
		"no region":          func(s *SnippetSpec) { s.Region = "" },
		"duration too short": func(s *SnippetSpec) { s.DurationSeconds = 60 },
		"duration too long":  func(s *SnippetSpec) { s.DurationSeconds = 50000 },
		"bad role variable":  func(s *SnippetSpec) { s.RoleARNVariable = "AWS-ROLE" },
		"bad token variable": func(s *SnippetSpec) { s.TokenVariable = "$X" },
		"bad rule kind":      func(s *SnippetSpec) { s.Rules = []RefRule{{Kind: "mr", Pattern: "x"}} },
		"empty pattern":      func(s *SnippetSpec) { s.Rules = []RefRule{{Kind: AllowBranch}} },
		"quote in ref":       func(s *SnippetSpec) { s.Rules = []RefRule{{Kind: AllowBranch, Pattern: `a"b`}} },
		"bad env variable":   func(s *SnippetSpec) { s.Environments = []EnvJob{{Name: "prod", RoleARNVariable: "a b"}} },
		"bad env name":       func(s *SnippetSpec) { s.Environments = []EnvJob{{Name: "prod\n"}} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			s := ok
			mutate(&s)
			if _, err := RenderSnippet(s); err == nil {
				t.Errorf("RenderSnippet(%+v) succeeded, want an error", s)
			}
		})
	}
}

func TestScalarRoundTrips(t *testing.T) {
	for _, s := range []string{"plain", "a: b", "#x", "x # y", "'q'", `"dq"`, "%s", "- item", "[x]", "{a}", "true", "3600", "", "* glob", "&anchor"} {
		var m map[string]any
		if err := yaml.Unmarshal([]byte("v: "+scalar(s)), &m); err != nil {
			t.Fatalf("scalar(%q) = %q does not parse: %v", s, scalar(s), err)
		}
		if m["v"] != s {
			t.Errorf("scalar(%q) = %q parses back as %#v", s, scalar(s), m["v"])
		}
	}
}

func BenchmarkRenderSnippet(b *testing.B) {
	spec := snippetCases["explicit-patterns"]
	for b.Loop() {
		if _, err := RenderSnippet(spec); err != nil {
			b.Fatal(err)
		}
	}
}
