package diagnose

import (
	"slices"
	"strings"
	"testing"

	"gitlab-oidc/internal/fix"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token/tokentest"
)

// patchedCases are the rule cases whose first finding must carry an
// applicable patch once the trust policy comes from IAM; every other case
// must not (its fix is advice: a Deny to narrow, a changed sub shape, a
// missing statement).
var patchedCases = []string{
	"trust-principal-mismatch: provider of another host",
	"trust-condition-key-prefix: https:// in the key",
	"aud-condition-mismatch",
	"sub-wildcard-needs-stringlike",
	"sub-wildcard-needs-stringlike: from the policy alone, no token",
	"sub-ref-type-mismatch: tag job, branch-only policy",
	"sub-ref-type-mismatch: branch job, tag policy",
	"sub-case-mismatch",
	"sub-mismatch: other branch",
	"sub-mismatch: predicted from the job, no token",
}

// TestTrustPatches runs every rule case with the trust policy as GetRole
// returned it and checks each patch: it starts from the role's policy,
// keeps the other statements, still pins sub, and makes its finding go
// away when the evidence is judged again.
func TestTrustPatches(t *testing.T) {
	s := tokentest.NewSigner(t)
	for name, tc := range drCases() {
		t.Run(name, func(t *testing.T) {
			ev := tc.build(t, s)
			if ev.Role == nil || ev.Role.Trust == nil {
				return
			}
			ev.Role.TrustSource = "GetRole"
			fs := Diagnose(ev)
			if len(fs) == 0 || fs[0].ID != tc.first {
				t.Fatalf("first finding %v, want %s", ids(fs), tc.first)
			}
			p := fs[0].Patch
			if want := slices.Contains(patchedCases, name); (p != nil) != want {
				t.Fatalf("patch = %v, want one: %v", p != nil, want)
			}
			if p == nil {
				return
			}
			checkTrustPatch(t, ev, p)
			if again := ids(Diagnose(AfterPatch(ev, p))); slices.Contains(again, tc.first) {
				t.Errorf("after the patch the findings are still %v", again)
			}
		})
	}
}

func checkTrustPatch(t *testing.T, ev *Evidence, p *Patch) {
	t.Helper()
	if p.Kind != fix.KindTrustPolicy || p.RoleName != "gitlab-deploy" || p.RoleARN != drRoleARN || p.Summary == "" {
		t.Errorf("patch %+v", p)
	}
	if !policy.Equivalent(p.Before, ev.Role.Trust) {
		t.Error("Before is not the role's trust policy")
	}
	if st, open := fix.UnpinnedStatement(p.After); open {
		t.Errorf("After lets any sub in (statement %s)", st.Name())
	}
	if len(p.After.Statements) != len(p.Before.Statements) {
		t.Fatalf("After has %d statements, Before %d", len(p.After.Statements), len(p.Before.Statements))
	}
	changed := 0
	for i := range p.Before.Statements {
		one := func(d *policy.Document) *policy.Document {
			return &policy.Document{Version: d.Version, Statements: []policy.Statement{d.Statements[i]}}
		}
		if !policy.Equivalent(one(p.Before), one(p.After)) {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("the patch changes %d statements, want exactly one", changed)
	}
	if d := policy.Diff(p.Before, p.After); !strings.Contains(d, "\n+ ") && !strings.HasPrefix(d, "+ ") {
		t.Errorf("diff adds nothing:\n%s", d)
	}
}

func ids(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

// TestTrustPatchKeepsWhatWasAllowed: the patch adds the job's sub beside
// the values allowed before instead of replacing them, so no other job
// loses the role.
func TestTrustPatchKeepsWhatWasAllowed(t *testing.T) {
	s := tokentest.NewSigner(t)
	tag := map[string]any{"sub": "project_path:acme/payments:ref_type:tag:ref:v2.3.0", "ref": "v2.3.0", "ref_type": "tag"}
	ev := drRole(t, drToken(s, tag), "branches-only.json")
	ev.Role.TrustSource = "GetRole"
	fs := Diagnose(ev)
	if fs[0].Patch == nil {
		t.Fatalf("no patch on %s", fs[0].ID)
	}
	for _, sub := range []string{"project_path:acme/payments:ref_type:branch:ref:main", "project_path:acme/payments:ref_type:tag:ref:v2.3.0"} {
		main := drToken(s, map[string]any{"sub": sub})
		main.Role = &RoleFacts{ARN: drRoleARN, AccountID: "123456789012", Name: "gitlab-deploy", Trust: fs[0].Patch.After, TrustSource: "GetRole"}
		if got := Diagnose(main); HasError(got) {
			t.Errorf("%s is denied after the patch: %v", sub, ids(got))
		}
	}
}

// TestVariablePatches: role-arn-empty gets a patch only when GitLab said
// where the variable lives, and it changes the setting that empties it.
func TestVariablePatches(t *testing.T) {
	project := VariableFacts{Key: "AWS_ROLE_ARN", Exists: true, Level: "project"}
	project.Target.Kind, project.Target.ID = "project", "4242"
	tests := map[string]struct {
		v         VariableFacts
		env       string
		protected *bool
		scope     string
	}{
		"protected on an unprotected branch": {v: with(project, func(v *VariableFacts) { v.Protected = true; v.EnvironmentScope = "*" }), protected: new(bool)},
		"scoped to another environment":      {v: with(project, func(v *VariableFacts) { v.EnvironmentScope = "production" }), env: "staging", scope: "staging"},
		"scoped, job without environment":    {v: with(project, func(v *VariableFacts) { v.EnvironmentScope = "production" }), scope: "*"},
		"target unknown":                     {v: VariableFacts{Key: "AWS_ROLE_ARN", Exists: true, Protected: true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ev := drLog(drJob(&Evidence{Now: drNow}, "feature-x", false, false, tc.v), "aws: error: argument --role-arn: expected one argument")
			ev.Job.Environment = tc.env
			ev = drCI(t, ev, "good.yml")
			fs := Diagnose(ev)
			if len(fs) == 0 || fs[0].ID != "role-arn-empty" {
				t.Fatalf("findings %v", ids(fs))
			}
			p := fs[0].Patch
			if tc.protected == nil && tc.scope == "" {
				if p != nil {
					t.Fatalf("patch %+v without a target", p)
				}
				return
			}
			if p == nil || p.Kind != fix.KindVariable || p.Variable == nil {
				t.Fatalf("patch %+v", p)
			}
			vp := p.Variable
			if vp.Target != tc.v.Target || vp.Key != "AWS_ROLE_ARN" || vp.EnvironmentScope != tc.v.EnvironmentScope {
				t.Errorf("variable patch %+v", vp)
			}
			if (vp.Protected == nil) != (tc.protected == nil) || (vp.Protected != nil && *vp.Protected != *tc.protected) || vp.NewEnvironmentScope != tc.scope {
				t.Errorf("variable patch %+v, want protected %v scope %q", vp, tc.protected, tc.scope)
			}
			if again := ids(Diagnose(AfterPatch(ev, p))); slices.Contains(again, "role-arn-empty") {
				t.Errorf("after the patch the findings are still %v", again)
			}
			if ev.Log.RoleARNEmpty != true || ev.Job.Variables[0] != tc.v {
				t.Error("AfterPatch changed the evidence it was given")
			}
		})
	}
}

func with(v VariableFacts, edit func(*VariableFacts)) VariableFacts {
	edit(&v)
	return v
}
