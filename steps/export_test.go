package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"

	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/textdiff"
)

// gitLabComMainPlan is the common case: gitlab.com, the default branch only.
func gitLabComMainPlan(t *testing.T) Plan {
	t.Helper()
	conn := &Connection{
		AWS:     AWSIdentity{Account: "123456789012", Partition: "aws", Region: "eu-west-1"},
		GitLab:  GitLabIdentity{URL: "https://gitlab.com"},
		Issuer:  IssuerStatus{URL: "https://gitlab.com"},
		Project: testProject(),
	}
	p, err := NewPlan(conn, Choices{
		Allow:      []Allow{{Kind: AllowBranch, Pattern: "main"}},
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
	})
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

// selfManagedTagsPlan is a self-managed instance under a path, release tags
// by wildcard, thumbprints, an inline policy using an IAM policy variable,
// and a group variable.
func selfManagedTagsPlan(t *testing.T) Plan {
	t.Helper()
	proj := testProject()
	proj.Path = "acme/platform/payments"
	conn := &Connection{
		AWS:     AWSIdentity{Account: "210987654321", Partition: "aws", Region: "eu-central-1"},
		GitLab:  GitLabIdentity{URL: "https://git.example.com/gitlab"},
		Issuer:  IssuerStatus{URL: "https://git.example.com/gitlab"},
		Project: proj,
	}
	p, err := NewPlan(conn, Choices{
		Allow:         []Allow{{Kind: AllowTag, Pattern: "v*"}},
		Audience:      "sts.amazonaws.com",
		RoleName:      "payments-release",
		VariableScope: "group",
		PolicyARNs:    []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::210987654321:policy/deploy"},
	})
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	p.Thumbprints = []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}
	p.InlinePolicies = []InlinePolicy{{Name: "artifacts", Document: readTestdata(t, "export", "inline-artifacts.json")}}
	return p
}

func readTestdata(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type exportCase struct {
	plan func(*testing.T) Plan
	opts func(Plan) ExportOptions
}

var exportCases = map[string]exportCase{
	"gitlab-com-main":   {plan: gitLabComMainPlan, opts: func(Plan) ExportOptions { return ExportOptions{} }},
	"self-managed-tags": {plan: selfManagedTagsPlan, opts: func(Plan) ExportOptions { return ExportOptions{} }},
	"gitlab-com-existing-provider": {plan: gitLabComMainPlan, opts: func(p Plan) ExportOptions {
		return ExportOptions{ExistingProviderARN: p.ProviderARN()}
	}},
}

// checkGolden compares got with a golden file, rewriting it under -update
// (the flag is declared in snippet_test.go).
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run go test ./steps -run %s -update): %v", path, t.Name(), err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if intended):\n%s", path,
			textdiff.Unified(path, "got", string(want), string(got), 3))
	}
}

func TestExportGolden(t *testing.T) {
	exporters := map[string]func(Plan, ExportOptions) ([]byte, error){
		"tf":       ExportTerraform,
		"cfn.yaml": ExportCloudFormation,
	}
	for name, tc := range exportCases {
		for ext, export := range exporters {
			t.Run(name+"."+ext, func(t *testing.T) {
				p := tc.plan(t)
				got, err := export(p, tc.opts(p))
				if err != nil {
					t.Fatalf("export: %v", err)
				}
				checkGolden(t, filepath.Join("testdata", "export", name+"."+ext+".golden"), got)
				again, _ := export(p, tc.opts(p))
				if !bytes.Equal(again, got) {
					t.Error("export is not deterministic")
				}
			})
		}
	}
}

// tfBlocks indexes a parsed file's blocks by "type label label".
func tfBlocks(body *hclsyntax.Body) map[string]*hclsyntax.Block {
	out := map[string]*hclsyntax.Block{}
	for _, b := range body.Blocks {
		out[strings.Join(append([]string{b.Type}, b.Labels...), " ")] = b
	}
	return out
}

// tfRefTarget names the block a reference points to ("resource T N" or
// "data T N").
func tfRefTarget(tr hcl.Traversal) string {
	names := make([]string, 0, len(tr))
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			names = append(names, s.Name)
		case hcl.TraverseAttr:
			names = append(names, s.Name)
		}
	}
	if names[0] == "data" && len(names) >= 3 {
		return "data " + names[1] + " " + names[2]
	}
	if len(names) >= 2 {
		return "resource " + names[0] + " " + names[1]
	}
	return strings.Join(names, ".")
}

// tfEval evaluates an expression with every reference set to values[dotted
// path], failing the test for a reference that has no value.
func tfEval(t *testing.T, expr hcl.Expression, values map[string]string) string {
	t.Helper()
	tree := map[string]any{}
	for _, tr := range expr.Variables() {
		var path []string
		for _, step := range tr {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				path = append(path, s.Name)
			case hcl.TraverseAttr:
				path = append(path, s.Name)
			}
		}
		v, ok := values[strings.Join(path, ".")]
		if !ok {
			t.Fatalf("unexpected reference %s", strings.Join(path, "."))
		}
		node := tree
		for _, name := range path[:len(path)-1] {
			next, _ := node[name].(map[string]any)
			if next == nil {
				next = map[string]any{}
				node[name] = next
			}
			node = next
		}
		node[path[len(path)-1]] = v
	}
	vars := map[string]cty.Value{}
	for k, v := range tree {
		vars[k] = toCty(v)
	}
	val, diags := expr.Value(&hcl.EvalContext{Variables: vars})
	if diags.HasErrors() {
		t.Fatalf("evaluate: %s", diags.Error())
	}
	if !val.Type().Equals(cty.String) {
		t.Fatalf("value is %s, want a string", val.Type().FriendlyName())
	}
	return val.AsString()
}

func toCty(v any) cty.Value {
	if s, ok := v.(string); ok {
		return cty.StringVal(s)
	}
	attrs := map[string]cty.Value{}
	for k, c := range v.(map[string]any) {
		attrs[k] = toCty(c)
	}
	return cty.ObjectVal(attrs)
}

func tfAttr(t *testing.T, b *hclsyntax.Block, name string) hcl.Expression {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s %v has no %s", b.Type, b.Labels, name)
	}
	return a.Expr
}

func tfConst(t *testing.T, b *hclsyntax.Block, name string) cty.Value {
	t.Helper()
	v, diags := tfAttr(t, b, name).Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", name, diags.Error())
	}
	return v
}

func TestExportTerraformMatchesPlan(t *testing.T) {
	for name, tc := range exportCases {
		t.Run(name, func(t *testing.T) {
			p := tc.plan(t)
			opts := tc.opts(p)
			out, err := ExportTerraform(p, opts)
			if err != nil {
				t.Fatal(err)
			}
			file, diags := hclparse.NewParser().ParseHCL(out, "gitlab-oidc.tf")
			if diags.HasErrors() || len(diags) > 0 {
				t.Fatalf("the export does not parse: %s", diags.Error())
			}
			body := file.Body.(*hclsyntax.Body)
			blocks := tfBlocks(body)
			for _, b := range body.Blocks {
				for _, a := range b.Body.Attributes {
					for _, tr := range a.Expr.Variables() {
						if blocks[tfRefTarget(tr)] == nil {
							t.Errorf("%s %v: %s refers to %q, which the file does not declare", b.Type, b.Labels, a.Name, tfRefTarget(tr))
						}
					}
				}
			}
			roleKey, role := findBlock(t, blocks, "resource aws_iam_role ")
			if got := tfConst(t, role, "name").AsString(); got != p.RoleName {
				t.Errorf("role name = %q, want %q", got, p.RoleName)
			}
			provKind, provName := "resource", "aws_iam_openid_connect_provider."
			if opts.ExistingProviderARN != "" {
				provKind, provName = "data", "data.aws_iam_openid_connect_provider."
			}
			provKey, prov := findBlock(t, blocks, provKind+" aws_iam_openid_connect_provider ")
			if n := countPrefix(blocks, "resource aws_iam_openid_connect_provider ") + countPrefix(blocks, "data aws_iam_openid_connect_provider "); n != 1 {
				t.Errorf("%d provider blocks, want exactly one (%s)", n, provKind)
			}
			if got := tfConst(t, prov, "url").AsString(); got != p.Instance.IssuerURL {
				t.Errorf("provider url = %q, want %q", got, p.Instance.IssuerURL)
			}
			if _, has := prov.Body.Attributes["thumbprint_list"]; has != (len(p.Thumbprints) > 0) {
				t.Errorf("thumbprint_list present = %v with %d thumbprints in the plan", has, len(p.Thumbprints))
			}
			provARN := provName + strings.Fields(provKey)[2] + ".arn"

			got := tfEval(t, tfAttr(t, role, "assume_role_policy"), map[string]string{provARN: p.ProviderARN()})
			want, err := p.TrustPolicy()
			if err != nil {
				t.Fatal(err)
			}
			wantJSON, _ := policy.Marshal(want)
			if got != string(wantJSON)+"\n" {
				t.Errorf("assume_role_policy is not the API path's JSON byte for byte:\n%s", textdiff.Unified("api", "terraform", string(wantJSON)+"\n", got, 3))
			}
			doc, err := policy.Parse([]byte(got))
			if err != nil || !policy.Equivalent(doc, want) {
				t.Errorf("assume_role_policy is not equivalent to the plan's trust policy (%v):\n%s", err, got)
			}
			if got := tfConst(t, role, "max_session_duration"); !got.Equals(cty.NumberIntVal(int64(p.MaxSessionSeconds))).True() {
				t.Errorf("max_session_duration = %#v", got)
			}

			var arns []string
			for key, b := range blocks {
				if strings.HasPrefix(key, "resource aws_iam_role_policy_attachment ") {
					arns = append(arns, tfConst(t, b, "policy_arn").AsString())
				}
			}
			slices.Sort(arns)
			if wantARNs := slices.Sorted(slices.Values(p.PolicyARNs)); !slices.Equal(arns, wantARNs) {
				t.Errorf("attached %v, want %v", arns, wantARNs)
			}
			roleName := strings.Fields(roleKey)[2]
			inline := 0
			for key, b := range blocks {
				if !strings.HasPrefix(key, "resource aws_iam_role_policy ") {
					continue
				}
				inline++
				name := tfConst(t, b, "name").AsString()
				i := slices.IndexFunc(p.InlinePolicies, func(ip InlinePolicy) bool { return ip.Name == name })
				if i < 0 {
					t.Fatalf("inline policy %q is not in the plan", name)
				}
				if got := tfEval(t, tfAttr(t, b, "policy"), nil); got != strings.TrimRight(p.InlinePolicies[i].Document, "\n")+"\n" {
					t.Errorf("inline policy %s evaluates to\n%s\nwant the plan's document verbatim", name, got)
				}
			}
			if inline != len(p.InlinePolicies) {
				t.Errorf("%d inline policies, want %d", inline, len(p.InlinePolicies))
			}
			checkTFVariable(t, p, blocks, roleName)
		})
	}
}

func checkTFVariable(t *testing.T, p Plan, blocks map[string]*hclsyntax.Block, roleName string) {
	t.Helper()
	kind, owner, ownerValue := "gitlab_project_variable", "project", "4242"
	if p.Variable.Scope == "group" {
		kind, owner, ownerValue = "gitlab_group_variable", "group", p.Variable.Group
	}
	_, v := findBlock(t, blocks, "resource "+kind+" ")
	if got := tfConst(t, v, owner).AsString(); got != ownerValue {
		t.Errorf("%s = %q, want %q", owner, got, ownerValue)
	}
	roleARN := "aws_iam_role." + roleName + ".arn"
	if got := tfEval(t, tfAttr(t, v, "value"), map[string]string{roleARN: p.RoleARN()}); got != p.RoleARN() {
		t.Errorf("variable value = %q, want the role ARN", got)
	}
	if got := tfConst(t, v, "protected"); got.True() != p.Variable.Protected {
		t.Errorf("protected = %#v, want %v", got, p.Variable.Protected)
	}
	if tfConst(t, v, "masked").True() {
		t.Error("masked = true; an ARN is not a secret and is too short-lived a concern to mask")
	}
	if got := tfConst(t, v, "environment_scope").AsString(); got != p.Variable.EnvironmentScope {
		t.Errorf("environment_scope = %q", got)
	}
}

func findBlock(t *testing.T, blocks map[string]*hclsyntax.Block, prefix string) (string, *hclsyntax.Block) {
	t.Helper()
	for key, b := range blocks {
		if strings.HasPrefix(key, prefix) {
			return key, b
		}
	}
	t.Fatalf("no block %q…", prefix)
	return "", nil
}

func countPrefix(blocks map[string]*hclsyntax.Block, prefix string) int {
	n := 0
	for key := range blocks {
		if strings.HasPrefix(key, prefix) {
			n++
		}
	}
	return n
}

func TestTFHeredocRoundTrips(t *testing.T) {
	tests := map[string]string{
		"policy json":          "{\n  \"Version\": \"2012-10-17\"\n}",
		"policy variable":      "{\"Resource\": \"arn:aws:s3:::b/${aws:username}/*\"}",
		"template directive":   "%{ if true }x%{ endif }",
		"all lines indented":   "  {\n    \"a\": 1\n  }",
		"blank line":           "{\n\n  \"a\": 1\n}",
		"a line equal to EOT":  "{\nEOT\n}",
		"tabs and a dollar":    "\t$x = 1\n\t${",
		"single unterminated$": "$",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			f := hclwrite.NewEmptyFile()
			f.Body().SetAttributeRaw("x", tfHeredoc(tfEscape(text), "    "))
			src := hclwrite.Format(f.Bytes())
			file, diags := hclparse.NewParser().ParseHCL(src, "x.tf")
			if diags.HasErrors() {
				t.Fatalf("parse:\n%s\n%s", src, diags.Error())
			}
			attrs, _ := file.Body.JustAttributes()
			if got := tfEval(t, attrs["x"].Expr, nil); got != text+"\n" {
				t.Errorf("heredoc evaluates to %q, want %q\n%s", got, text+"\n", src)
			}
		})
	}
}

func TestTFNames(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"role name":      {"gitlab-acme-payments-main", "gitlab_acme_payments_main"},
		"issuer host":    {"git.example.com/gitlab", "git_example_com_gitlab"},
		"leading digit":  {"9lives", "r_9lives"},
		"iam characters": {"a+b=c,d.e@f", "a_b_c_d_e_f"},
		"upper case":     {"ReadOnlyAccess", "readonlyaccess"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tfIdent(tc.in); got != tc.want {
				t.Errorf("tfIdent(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	p := Plan{RoleName: "r", Instance: Instance{IssuerURL: "https://gitlab.com"},
		PolicyARNs:     []string{"arn:aws:iam::aws:policy/ReadOnly", "arn:aws:iam::1:policy/ReadOnly"},
		InlinePolicies: []InlinePolicy{{Name: "readonly"}}}
	n := newTFNames(p)
	all := append([]string{n.role, n.variable}, append(n.attachments, n.inline...)...)
	seen := map[string]bool{}
	for _, name := range all[1:] {
		if seen[name] {
			t.Errorf("resource name %q is used twice in %v", name, all)
		}
		seen[name] = true
	}
}

func TestExportRefusesTrustWithoutSub(t *testing.T) {
	tests := map[string]struct {
		mutate  func(*Plan)
		wantErr string
	}{
		"no allow":    {mutate: func(p *Plan) { p.Allow = nil }, wantErr: "no --allow"},
		"no audience": {mutate: func(p *Plan) { p.Audience = "" }, wantErr: "no audience"},
		"protected on self-managed without ref_protected": {
			mutate: func(p *Plan) {
				p.Instance = Instance{URL: "https://git.example.com", IssuerURL: "https://git.example.com"}
				p.Allow = []Allow{{Kind: AllowProtected}}
			},
			wantErr: "needs ref_protected"},
	}
	exporters := map[string]func(Plan, ExportOptions) ([]byte, error){
		"terraform": ExportTerraform, "cloudformation": ExportCloudFormation,
	}
	for name, tc := range tests {
		for exName, export := range exporters {
			t.Run(name+" "+exName, func(t *testing.T) {
				p := gitLabComMainPlan(t)
				tc.mutate(&p)
				out, err := export(p, ExportOptions{})
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				if out != nil {
					t.Errorf("an export came out despite the error:\n%s", out)
				}
			})
		}
	}
}

func TestRequireSub(t *testing.T) {
	withSub := policy.Statement{Conditions: []policy.Condition{{Operator: "StringEquals", Key: "gitlab.com:sub", Values: []string{"x"}}}}
	audOnly := policy.Statement{Conditions: []policy.Condition{{Operator: "StringEquals", Key: "gitlab.com:aud", Values: []string{"x"}}}}
	emptySub := policy.Statement{Conditions: []policy.Condition{{Operator: "StringLike", Key: "gitlab.com:sub"}}}
	tests := map[string]struct {
		stmts []policy.Statement
		ok    bool
	}{
		"sub pinned":            {stmts: []policy.Statement{withSub}, ok: true},
		"no statement":          {stmts: nil},
		"aud only":              {stmts: []policy.Statement{audOnly}},
		"second statement open": {stmts: []policy.Statement{withSub, audOnly}},
		"sub without values":    {stmts: []policy.Statement{emptySub}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := requireSub(&policy.Document{Statements: tc.stmts}, "gitlab.com:sub")
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrNoSub)) {
				t.Errorf("requireSub = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// cfnRefProblems lists every Ref, Fn::GetAtt and Fn::Sub variable of a
// template that names neither a resource nor a parameter, and every
// short-form tag (which generic YAML tools cannot read).
func cfnRefProblems(src []byte) []string {
	var problems []string
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return []string{"not YAML: " + err.Error()}
	}
	var walkTags func(n *yaml.Node)
	walkTags = func(n *yaml.Node) {
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			problems = append(problems, "short-form tag "+n.Tag)
		}
		for _, c := range n.Content {
			walkTags(c)
		}
	}
	walkTags(&root)
	var tmpl map[string]any
	if err := yaml.Unmarshal(src, &tmpl); err != nil {
		return append(problems, "not a mapping: "+err.Error())
	}
	resources, _ := tmpl["Resources"].(map[string]any)
	params, _ := tmpl["Parameters"].(map[string]any)
	defined := func(name string) bool {
		return resources[name] != nil || params[name] != nil || strings.HasPrefix(name, "AWS::")
	}
	subVar := regexp.MustCompile(`\$\{([^!}][^}]*)\}`)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["Ref"]; ok {
				if s, _ := ref.(string); !defined(s) {
					problems = append(problems, fmt.Sprintf("Ref %v is not defined", ref))
				}
			}
			if ga, ok := v["Fn::GetAtt"]; ok {
				if l, _ := ga.([]any); len(l) != 2 || resources[fmt.Sprint(l[0])] == nil {
					problems = append(problems, fmt.Sprintf("Fn::GetAtt %v names no resource", ga))
				}
			}
			if sub, ok := v["Fn::Sub"].(string); ok {
				for _, m := range subVar.FindAllStringSubmatch(sub, -1) {
					if name, _, _ := strings.Cut(m[1], "."); !defined(name) {
						problems = append(problems, "Fn::Sub variable ${"+m[1]+"} is not defined")
					}
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(tmpl)
	slices.Sort(problems)
	return problems
}

func TestCFNRefProblemsCatchesDanglingReferences(t *testing.T) {
	tests := map[string]struct {
		src  string
		want int
	}{
		"all defined":     {src: "Parameters: {P: {Type: String}}\nResources: {R: {Type: X, Properties: {A: {Ref: P}, B: {Fn::GetAtt: [R, Arn]}, C: {Fn::Sub: 'x ${R.Arn} ${!Literal} ${AWS::Region}'}}}}\n"},
		"dangling ref":    {src: "Resources: {R: {Type: X, Properties: {A: {Ref: Missing}}}}\n", want: 1},
		"dangling getatt": {src: "Resources: {R: {Type: X, Properties: {A: {Fn::GetAtt: [Missing, Arn]}}}}\n", want: 1},
		"dangling sub":    {src: "Resources: {R: {Type: X, Properties: {A: {Fn::Sub: '${Missing.Arn}'}}}}\n", want: 1},
		"short form tag":  {src: "Resources: {R: {Type: X, Properties: {A: !Ref R}}}\n", want: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := cfnRefProblems([]byte(tc.src)); len(got) != tc.want {
				t.Errorf("problems = %q, want %d", got, tc.want)
			}
		})
	}
}

// cfnResolve replaces {"Ref": X} with resolve(X) throughout v.
func cfnResolve(v any, resolve func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
			return resolve(ref)
		}
		out := map[string]any{}
		for k, c := range v {
			out[k] = cfnResolve(c, resolve)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, c := range v {
			out[i] = cfnResolve(c, resolve)
		}
		return out
	}
	return v
}

func TestExportCloudFormationMatchesPlan(t *testing.T) {
	for name, tc := range exportCases {
		t.Run(name, func(t *testing.T) {
			p := tc.plan(t)
			opts := tc.opts(p)
			out, err := ExportCloudFormation(p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if problems := cfnRefProblems(out); len(problems) > 0 {
				t.Fatalf("template problems: %q\n%s", problems, out)
			}
			var tmpl struct {
				Parameters map[string]struct {
					Default string `yaml:"Default"`
				} `yaml:"Parameters"`
				Resources map[string]struct {
					Type       string         `yaml:"Type"`
					Properties map[string]any `yaml:"Properties"`
				} `yaml:"Resources"`
				Outputs map[string]any `yaml:"Outputs"`
			}
			if err := yaml.Unmarshal(out, &tmpl); err != nil {
				t.Fatal(err)
			}
			var roleProps, provProps map[string]any
			provID := ""
			for id, r := range tmpl.Resources {
				switch r.Type {
				case "AWS::IAM::Role":
					roleProps = r.Properties
				case "AWS::IAM::OIDCProvider":
					provProps, provID = r.Properties, id
				}
			}
			if roleProps == nil {
				t.Fatal("no AWS::IAM::Role")
			}
			if (provProps == nil) != (opts.ExistingProviderARN != "") {
				t.Fatalf("OIDC provider resource present = %v with ExistingProviderARN %q", provProps != nil, opts.ExistingProviderARN)
			}
			if provProps != nil {
				if provProps["Url"] != p.Instance.IssuerURL {
					t.Errorf("Url = %v", provProps["Url"])
				}
				if _, has := provProps["ThumbprintList"]; has != (len(p.Thumbprints) > 0) {
					t.Errorf("ThumbprintList present = %v with %d thumbprints", has, len(p.Thumbprints))
				}
			}
			// AWS::IAM::OIDCProvider's Ref is its ARN; a parameter's is its value.
			resolve := func(id string) string {
				if id == provID {
					return p.ProviderARN()
				}
				if prm, ok := tmpl.Parameters[id]; ok {
					return prm.Default
				}
				t.Errorf("Ref %s in the trust policy is neither the provider nor a parameter", id)
				return ""
			}
			trustJSON, err := json.Marshal(cfnResolve(roleProps["AssumeRolePolicyDocument"], resolve))
			if err != nil {
				t.Fatal(err)
			}
			got, err := policy.Parse(trustJSON)
			if err != nil {
				t.Fatalf("AssumeRolePolicyDocument: %v", err)
			}
			want, _ := p.TrustPolicy()
			if !policy.Equivalent(got, want) {
				t.Errorf("AssumeRolePolicyDocument is not the plan's trust policy:\n%s", policy.Diff(want, got))
			}
			if roleProps["RoleName"] != p.RoleName || roleProps["MaxSessionDuration"] != int(p.MaxSessionSeconds) {
				t.Errorf("RoleName/MaxSessionDuration = %v/%v", roleProps["RoleName"], roleProps["MaxSessionDuration"])
			}
			var arns []string
			for _, a := range asList(roleProps["ManagedPolicyArns"]) {
				arns = append(arns, fmt.Sprint(a))
			}
			if !slices.Equal(arns, p.PolicyARNs) {
				t.Errorf("ManagedPolicyArns = %v, want %v", arns, p.PolicyARNs)
			}
			for i, raw := range asList(roleProps["Policies"]) {
				pol := raw.(map[string]any)
				js, _ := json.Marshal(pol["PolicyDocument"])
				got, err := policy.Parse(js)
				want, werr := policy.Parse([]byte(p.InlinePolicies[i].Document))
				if err != nil || werr != nil || pol["PolicyName"] != p.InlinePolicies[i].Name || !policy.Equivalent(got, want) {
					t.Errorf("Policies[%d] = %v, want %s", i, pol, p.InlinePolicies[i].Document)
				}
			}
			if _, ok := tmpl.Outputs["RoleArn"]; !ok {
				t.Error("no RoleArn output")
			}
			glab, _ := variableCommands(p, p.RoleARN())
			if !strings.Contains(string(out), "#   "+glab+"\n") {
				t.Errorf("the leading comments lack the command %q", glab)
			}
		})
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func TestVariableCommands(t *testing.T) {
	arn := "arn:aws:iam::1:role/r"
	tests := map[string]struct {
		plan     Plan
		glab     string
		curlPart string
	}{
		"gitlab.com project": {
			plan: Plan{Instance: Instance{URL: "https://gitlab.com"}, Project: ProjectInfo{ID: 7, Path: "a/b"},
				Variable: VariablePlan{Key: "AWS_ROLE_ARN", Scope: "project", EnvironmentScope: "*", Protected: true}},
			glab:     "glab variable set AWS_ROLE_ARN --value arn:aws:iam::1:role/r --repo a/b --scope '*' --protected=true --masked=false",
			curlPart: "https://gitlab.com/api/v4/projects/7/variables",
		},
		"self-managed group": {
			plan: Plan{Instance: Instance{URL: "https://git.example.com/"}, Project: ProjectInfo{ID: 7, Path: "a/b/c"},
				Variable: VariablePlan{Key: "AWS_ROLE_ARN", Scope: "group", Group: "a/b", EnvironmentScope: "prod"}},
			glab:     "glab variable set AWS_ROLE_ARN --value arn:aws:iam::1:role/r --group a/b --scope prod --protected=false --masked=false",
			curlPart: "https://git.example.com/api/v4/groups/a%2Fb/variables",
		},
		"self-managed project": {
			plan: Plan{Instance: Instance{URL: "https://git.example.com"}, Project: ProjectInfo{Path: "a/b"},
				Variable: VariablePlan{Key: "K", Scope: "project", EnvironmentScope: "*"}},
			glab:     "glab variable set K --value arn:aws:iam::1:role/r --repo https://git.example.com/a/b --scope '*' --protected=false --masked=false",
			curlPart: "https://git.example.com/api/v4/projects/a%2Fb/variables",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			glab, curl := variableCommands(tc.plan, arn)
			if glab != tc.glab {
				t.Errorf("glab = %s\nwant   %s", glab, tc.glab)
			}
			if !strings.Contains(curl, tc.curlPart) || !strings.Contains(curl, `"PRIVATE-TOKEN: $GITLAB_TOKEN"`) {
				t.Errorf("curl = %s, want it to post to %s with the token from the environment", curl, tc.curlPart)
			}
		})
	}
}

// TestExportCloudFormationPassesCfnLint runs AWS's own template linter over
// every export case when it is installed (it is on the project's machines;
// the test skips elsewhere and under -short, as it takes seconds).
func TestExportCloudFormationPassesCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil || testing.Short() {
		t.Skip("cfn-lint is not installed (or -short)")
	}
	dir := t.TempDir()
	var files []string
	for name, tc := range exportCases {
		p := tc.plan(t)
		out, err := ExportCloudFormation(p, tc.opts(p))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	slices.Sort(files)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, lint, files...).CombinedOutput(); err != nil {
		t.Errorf("cfn-lint rejects the templates (%v):\n%s", err, out)
	}
}
