package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"gitlab-oidc/internal/fix"
	"gitlab-oidc/internal/policy"
)

// trustPatch returns the role's whole trust policy with statement st
// edited, as an applicable Patch. It returns nil when the policy did not
// come from IAM (a --trust-policy file is a what-if, not the role), when
// edit declines or changes nothing, or when the result would leave a web
// identity statement without a sub condition: a fix never opens the role
// to every project of the instance. Every other statement is kept as it is.
func trustPatch(ev *Evidence, st policy.Statement, summary string, edit func(*policy.Statement) bool) *Patch {
	r := ev.Role
	if r == nil || r.Trust == nil || r.TrustSource != "GetRole" || r.Name == "" || r.ARN == "" {
		return nil
	}
	before := policy.Clone(r.Trust)
	after := policy.Clone(r.Trust)
	i := st.Index
	if i < 0 || i >= len(after.Statements) || after.Statements[i].Name() != st.Name() {
		return nil
	}
	if !edit(&after.Statements[i]) || policy.Equivalent(before, after) {
		return nil
	}
	if _, open := fix.UnpinnedStatement(after); open {
		return nil
	}
	return &Patch{Kind: fix.KindTrustPolicy, RoleName: r.Name, RoleARN: r.ARN, Before: before, After: after,
		Summary: fmt.Sprintf("%s in statement %s of role %s's trust policy", summary, st.Name(), r.Name)}
}

// editCondition applies edit to the condition of s with cr's operator and
// key; false when there is none.
func editCondition(cr policy.ConditionResult, edit func(*policy.Condition) bool) func(*policy.Statement) bool {
	return func(s *policy.Statement) bool {
		for i := range s.Conditions {
			if c := &s.Conditions[i]; c.Operator == cr.Operator && c.Key == cr.Key {
				return edit(c)
			}
		}
		return false
	}
}

// allowValues adds values to a positive string condition (StringEquals,
// StringLike and their IgnoreCase/IfExists/ForAnyValue forms). Adding to
// the list keeps every value allowed before, unlike replacing it. An exact
// value under StringLike matches only itself, since GitLab refs and paths
// cannot contain * or ?.
func allowValues(values ...string) func(*policy.Condition) bool {
	return func(c *policy.Condition) bool {
		op := policy.ParseOperator(c.Operator)
		if op.Negated || (op.Base != "StringEquals" && op.Base != "StringLike" && op.Base != "StringEqualsIgnoreCase") {
			return false
		}
		added := false
		for _, v := range values {
			if v != "" && !slices.Contains(c.Values, v) {
				c.Values = append(c.Values, v)
				added = true
			}
		}
		return added
	}
}

// toStringLike moves a condition from StringEquals to StringLike, unless
// the statement already has a StringLike condition on the key (two
// conditions on one key must both hold; merging them would widen it).
func toStringLike(cr policy.ConditionResult) func(*policy.Statement) bool {
	return func(s *policy.Statement) bool {
		like := likeOperator(cr.Operator)
		for _, c := range s.Conditions {
			if c.Operator == like && strings.EqualFold(c.Key, cr.Key) {
				return false
			}
		}
		return editCondition(cr, func(c *policy.Condition) bool { c.Operator = like; return true })(s)
	}
}

// fixCase replaces the values that equal sub but for letter case with sub
// itself; when none does exactly (a pattern), sub is added.
func fixCase(sub string) func(*policy.Condition) bool {
	return func(c *policy.Condition) bool {
		replaced := false
		for i, v := range c.Values {
			if !hasWildcard(v) && strings.EqualFold(v, sub) && v != sub {
				c.Values[i], replaced = sub, true
			}
		}
		return replaced || allowValues(sub)(c)
	}
}

// subPatch is the applicable form of a sub finding's fix, nil when the
// fix is only advice (a negated operator, a changed sub shape, a fork's
// merge request whose project the role does not know).
func (te *trustEval) subPatch(id string, st policy.Statement, cr policy.ConditionResult) *Patch {
	sub := te.claims.Subject
	switch id {
	case "sub-wildcard-needs-stringlike":
		return trustPatch(te.ev, st, "move "+cr.Key+" to StringLike", toStringLike(cr))
	case "sub-case-mismatch":
		return trustPatch(te.ev, st, "allow the exact spelling "+sub, editCondition(cr, fixCase(sub)))
	case "sub-ref-type-mismatch":
		return trustPatch(te.ev, st, "allow sub "+sub, editCondition(cr, allowValues(sub)))
	case "sub-mismatch":
		if te.claims.JobProjectPath != "" && te.claims.JobProjectPath != te.claims.ProjectPath {
			return nil
		}
		return trustPatch(te.ev, st, "allow sub "+sub, editCondition(cr, allowValues(sub)))
	}
	return nil
}

// principalPatch points a statement's one Federated principal at the
// provider for the token's issuer. It needs the role's account (the
// provider ARN is then certain) and leaves a statement with several
// principals alone.
func (te *trustEval) principalPatch(st policy.Statement) *Patch {
	if te.ev.Role == nil || te.ev.Role.AccountID == "" {
		return nil
	}
	return trustPatch(te.ev, st, "set the Federated principal to "+te.principal, func(s *policy.Statement) bool {
		p := s.Principal
		if p == nil || len(p.Federated) != 1 || len(p.AWS)+len(p.Service)+len(p.CanonicalUser) > 0 || p.Any {
			return false
		}
		p.Federated = []string{te.principal}
		return true
	})
}

// prefixPatch renames the keys of a statement under a wrong prefix to the
// provider's.
func (te *trustEval) prefixPatch(st policy.Statement, wrong string) *Patch {
	return trustPatch(te.ev, st, "rename the "+wrong+":* keys to "+te.prefix+":*", func(s *policy.Statement) bool {
		changed := false
		for i, c := range s.Conditions {
			if kp, claim := splitKey(c.Key); strings.EqualFold(kp, wrong) {
				s.Conditions[i].Key = te.prefix + ":" + claim
				changed = true
			}
		}
		return changed
	})
}

// variablePatch is the applicable form of role-arn-empty's fix when
// GitLab said where the variable lives: unprotect it, or add a copy in the
// scope of the job's environment ("*" when the job has none).
func variablePatch(v *VariableFacts, job *JobFacts, unprotect bool) *Patch {
	if v.Target.Kind == "" || v.Target.ID == "" {
		return nil
	}
	vp := &VariablePatch{Target: v.Target, Key: v.Key, EnvironmentScope: v.EnvironmentScope}
	where := fmt.Sprintf("%s (%s)", v.Key, v.Target)
	p := &Patch{Kind: fix.KindVariable, Variable: vp}
	if unprotect {
		off := false
		vp.Protected = &off
		p.Summary = "clear \"Protect variable\" on " + where
		return p
	}
	vp.NewEnvironmentScope = job.Environment
	if vp.NewEnvironmentScope == "" {
		vp.NewEnvironmentScope = "*"
	}
	p.Summary = fmt.Sprintf("add %s for environment scope %s, with the value of the one scoped to %s (which is kept)", where, vp.NewEnvironmentScope, v.EnvironmentScope)
	return p
}

// AfterPatch returns a copy of ev as it stands once p is applied: the role
// with p.After as its trust policy, or the variable with its new settings.
// The failed run's symptoms (the STS error, an empty role ARN in the log)
// are dropped, since they describe the state before the fix; everything
// else is kept. Diagnose(AfterPatch(ev, p)) says whether the fix is enough.
// ev itself is not changed.
func AfterPatch(ev *Evidence, p *Patch) *Evidence {
	if ev == nil || p == nil {
		return ev
	}
	out := *ev
	out.ErrorText = ""
	if ev.Log != nil {
		log := *ev.Log
		log.STS, log.RoleARNEmpty, log.RoleARNLine = nil, false, ""
		out.Log = &log
	}
	switch {
	case p.Kind == fix.KindTrustPolicy && ev.Role != nil:
		role := *ev.Role
		role.Trust = p.After
		out.Role = &role
	case p.Kind == fix.KindVariable && p.Variable != nil && ev.Job != nil:
		job := *ev.Job
		job.Variables = slices.Clone(ev.Job.Variables)
		for i, v := range job.Variables {
			if v.Key != p.Variable.Key || v.Target != p.Variable.Target {
				continue
			}
			if p.Variable.Protected != nil {
				job.Variables[i].Protected = *p.Variable.Protected
			}
			if p.Variable.NewEnvironmentScope != "" {
				job.Variables[i].EnvironmentScope = p.Variable.NewEnvironmentScope
			}
		}
		out.Job = &job
	}
	return &out
}
