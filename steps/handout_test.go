package steps

import (
	"path/filepath"
	"strings"
	"testing"

	"gitlab-oidc/internal/policy"
)

// appliedChanges is what setup reports after a first run on gitlab.com.
func appliedChanges(p Plan) []Change {
	return []Change{
		{Action: ActionCreate, Resource: "IAM OIDC provider", Name: p.ProviderARN(), Detail: "client ID " + p.Audience, Applied: true},
		{Action: ActionCreate, Resource: "IAM role", Name: p.RoleARN(), Detail: "max session 1 h", Applied: true},
		{Action: ActionAttach, Resource: "managed policy", Name: "arn:aws:iam::aws:policy/ReadOnlyAccess", Applied: true},
		{Action: ActionCreate, Resource: "CI/CD variable", Name: p.Variable.Key, Detail: "protected, all environments", Applied: true},
		{Action: ActionWrite, Resource: "file", Name: p.SnippetPath, Applied: true},
		{Action: ActionEdit, Resource: "file", Name: p.CIFile, Detail: "+2 lines: include", Applied: true},
	}
}

type handoutCase struct {
	plan    func(*testing.T) Plan
	changes func(Plan) []Change
	// status is the line the page must carry about whether anything exists.
	status string
}

var handoutCases = map[string]handoutCase{
	"gitlab-com-applied": {plan: gitLabComMainPlan, changes: appliedChanges, status: "Status: applied."},
	"self-managed-planned": {plan: selfManagedTagsPlan, changes: func(Plan) []Change { return nil },
		status: "Status: planned: nothing has been created yet."},
	"gitlab-com-preview": {plan: gitLabComMainPlan, changes: func(p Plan) []Change {
		cs := appliedChanges(p)
		for i := range cs {
			cs[i].Applied = false
		}
		cs[0].Action = ActionKeep
		return cs
	}, status: "Status: planned (a preview): nothing has been created yet."},
}

// handoutSnippet is a fixture: the hand-out embeds whatever snippet it is
// given, so its golden files do not follow RenderSnippet's changes.
func handoutSnippetFixture(t *testing.T) string {
	t.Helper()
	return readTestdata(t, "handout", "snippet.yml")
}

func TestRenderHandoutGolden(t *testing.T) {
	for name, tc := range handoutCases {
		t.Run(name, func(t *testing.T) {
			p := tc.plan(t)
			got := RenderHandout(p, handoutSnippetFixture(t), tc.changes(p))
			checkGolden(t, filepath.Join("testdata", "handout", name+".md.golden"), []byte(got))
			if again := RenderHandout(p, handoutSnippetFixture(t), tc.changes(p)); again != got {
				t.Error("RenderHandout is not deterministic")
			}
		})
	}
}

func TestRenderHandoutContent(t *testing.T) {
	for name, tc := range handoutCases {
		t.Run(name, func(t *testing.T) {
			p := tc.plan(t)
			snippet := handoutSnippetFixture(t)
			got := RenderHandout(p, snippet, tc.changes(p))
			trust, err := p.TrustPolicy()
			if err != nil {
				t.Fatal(err)
			}
			trustJSON, _ := policy.Marshal(trust)
			mustContain := []string{
				tc.status,
				"`" + p.ProviderARN() + "`",
				"`" + p.RoleARN() + "`",
				"gitlab-oidc doctor --role-arn " + p.RoleARN() + " --job <job URL>",
				"```json\n" + string(trustJSON) + "\n```",
				"```yaml\n" + strings.TrimRight(snippet, "\n") + "\n```",
				"arn:aws:sts::" + p.AccountID + ":assumed-role/" + p.RoleName + "/gitlab-4242-<job ID>",
				"`aws-oidc-check`",
				AccessSummary(p)[1:],
				"`" + p.Variable.Key + "`",
				"AccessDenied",
				"InvalidIdentityToken",
			}
			for _, w := range p.Warnings {
				mustContain = append(mustContain, "> **Warning:** "+w)
			}
			for _, s := range append(exactSubs(t, p), p.Audience) {
				mustContain = append(mustContain, "`"+s+"`")
			}
			for _, want := range mustContain {
				if !strings.Contains(got, want) {
					t.Errorf("the hand-out lacks %q", want)
				}
			}
			if strings.Count(got, "```")%2 != 0 {
				t.Error("a code fence is left open")
			}
			for i, line := range strings.Split(got, "\n") {
				if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != strings.Count(tableHeader(got, i), "|") {
					t.Errorf("table row %d has another column count than its header: %q", i+1, line)
				}
			}
		})
	}
}

// exactSubs are the sub values the page must quote.
func exactSubs(t *testing.T, p Plan) []string {
	t.Helper()
	exact, like, err := p.SubValues()
	if err != nil {
		t.Fatal(err)
	}
	return append(exact, like...)
}

// tableHeader returns the header row of the Markdown table that holds line i.
func tableHeader(page string, i int) string {
	lines := strings.Split(page, "\n")
	for ; i > 0 && strings.HasPrefix(lines[i-1], "|"); i-- {
	}
	return lines[i]
}

func TestRenderHandoutWithoutTrustPolicy(t *testing.T) {
	p := gitLabComMainPlan(t)
	p.Allow = nil
	got := RenderHandout(p, "", nil)
	for _, want := range []string{"The plan cannot build a trust policy: ", "No snippet was generated", "Status: planned"} {
		if !strings.Contains(got, want) {
			t.Errorf("the hand-out lacks %q", want)
		}
	}
	if strings.Contains(got, "```json") {
		t.Error("a trust policy was shown although the plan cannot build one")
	}
}

func TestCodeFence(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":          {"a: b", "```"},
		"inline code":    {"# run `x`", "```"},
		"a fence inside": {"# ```sh\n# x\n# ```", "````"},
		"a longer fence": {"`````", "``````"},
		"separate ticks": {"` ` `", "```"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := codeFence(tc.in); got != tc.want {
				t.Errorf("codeFence(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestChangeVerb(t *testing.T) {
	tests := map[string]struct {
		change Change
		want   string
	}{
		"created":      {Change{Action: ActionCreate, Applied: true}, "created"},
		"attached":     {Change{Action: ActionAttach, Applied: true}, "attached"},
		"kept":         {Change{Action: ActionKeep}, "already in place"},
		"not yet":      {Change{Action: ActionUpdate}, "planned: update"},
		"future verbs": {Change{Action: "tag", Applied: true}, "tag"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := changeVerb(tc.change); got != tc.want {
				t.Errorf("changeVerb = %q, want %q", got, tc.want)
			}
		})
	}
}
