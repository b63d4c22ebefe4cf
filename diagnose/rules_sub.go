package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token"
)

// subFinding classifies a failing sub condition precisely: a wildcard under
// StringEquals, a tag where branches are allowed (or the reverse), a
// difference in letter case, a sub of another shape (custom components), or
// any other difference.
func (te *trustEval) subFinding(st policy.Statement, cr policy.ConditionResult) Finding {
	sub := te.claims.Subject
	op := policy.ParseOperator(cr.Operator)
	near := closest(sub, cr.Values)
	comp, at := token.FirstDifference(sub, near)
	evidence := []string{
		fmt.Sprintf("policy     %s %s (statement %s)", cr.Operator, cr.Key, st.Name()),
	}
	for _, v := range cr.Values {
		evidence = append(evidence, "  allows   "+v)
	}
	evidence = append(evidence, "token sub  "+sub)
	if te.ev.Predicted {
		evidence = append(evidence, "note       the sub is predicted from the job and the project's settings (no token given)")
	}
	if at >= 0 {
		evidence = append(evidence, fmt.Sprintf("differ at  byte %d, in %s (closest: %s)", at, orNone(comp), near))
	}
	f := Finding{Severity: SeverityError, Evidence: evidence}
	allowExact := func(c *policy.Condition) {
		c.Operator = "StringEquals"
		c.Values = []string{sub}
	}
	switch {
	case op.Negated:
		f.ID = "sub-mismatch"
		f.Title = fmt.Sprintf("%s excludes the token's sub", cr.Operator)
		f.Fix = fmt.Sprintf("Statement %s forbids this sub with a negated operator; narrow the excluded values if this job should be allowed.", st.Name())
	case op.Base == "StringEquals" && slices.ContainsFunc(cr.Values, func(v string) bool { return hasWildcard(v) && policy.Like(v, sub) }):
		f.ID = "sub-wildcard-needs-stringlike"
		f.Title = fmt.Sprintf("%s holds a wildcard under StringEquals, which compares * and ? literally", cr.Key)
		f.Fix = fmt.Sprintf("Move the wildcard values of %s to StringLike (keep exact values under StringEquals, in a separate statement if both are needed):\n%s",
			cr.Key, te.editedStatement(st, cr, func(c *policy.Condition) { c.Operator = likeOperator(cr.Operator) }))
	case slices.ContainsFunc(cr.Values, func(v string) bool { return intendedMatch(strings.ToLower(v), strings.ToLower(sub)) }):
		f.ID = "sub-case-mismatch"
		f.Title = "the token's sub differs from an allowed value only in letter case"
		f.Fix = fmt.Sprintf("StringEquals and StringLike are case-sensitive and GitLab keeps the project path's case; use the token's exact spelling in statement %s:\n%s",
			st.Name(), te.editedStatement(st, cr, allowExact))
	case te.refTypeMismatch(cr.Values):
		f.ID = "sub-ref-type-mismatch"
		f.Title = te.refTypeTitle(cr.Values)
		f.Fix = te.refTypeFix(st, cr)
	case te.shapeDiffers(cr.Values):
		f.ID = "sub-custom-components"
		f.Title = fmt.Sprintf("the token's sub has the components %s, the policy expects %s", componentNames(sub), componentNames(near))
		f.Fix = te.customFix(st, cr)
		if comps := te.subComponents(); comps != nil {
			f.Evidence = append(f.Evidence, "project    ci_id_token_sub_claim_components = "+fmt.Sprint(comps))
		}
	default:
		f.ID = "sub-mismatch"
		f.Title = fmt.Sprintf("the token's sub is not allowed: its %s differs", orNone(comp))
		if te.claims.JobProjectPath != "" && te.claims.JobProjectPath != te.claims.ProjectPath {
			f.Evidence = append(f.Evidence, fmt.Sprintf("note       fork merge request: project_path %s is the source project, the job runs in %s", te.claims.ProjectPath, te.claims.JobProjectPath))
		}
		f.Fix = fmt.Sprintf("If this job should be allowed, allow its exact sub in statement %s:\n%s", st.Name(), te.editedStatement(st, cr, func(c *policy.Condition) {
			if op.Base == "StringEquals" {
				c.Values = append(slices.Clone(c.Values), sub)
				return
			}
			allowExact(c)
		}))
	}
	f.Detail = te.detail(st, cr, sub, near, "the sub condition decides: "+f.ID)
	if !op.Negated {
		f.Patch = te.subPatch(f.ID, st, cr)
	}
	return f
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// intendedMatch is how the author meant a value: a pattern when it holds a
// wildcard, else an exact value.
func intendedMatch(v, sub string) bool {
	if hasWildcard(v) {
		return policy.Like(v, sub)
	}
	return v == sub
}

// likeOperator turns StringEquals (with its modifiers) into StringLike.
func likeOperator(op string) string {
	return strings.Replace(op, "StringEquals", "StringLike", 1)
}

// subPart returns the value of a component of a sub, or ok false.
func subPart(sub, name string) (string, bool) {
	for _, p := range token.ParseSub(sub) {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// refTypeMismatch is true when the values that name the token's project all
// allow another ref type: the job ran for a tag and only branches are
// allowed, or the reverse.
func (te *trustEval) refTypeMismatch(values []string) bool {
	sub := te.claims.Subject
	tokenType, ok := subPart(sub, "ref_type")
	if !ok {
		return false
	}
	parts := token.ParseSub(sub)
	if len(parts) == 0 {
		return false
	}
	lead := parts[0]
	sameProject := 0
	for _, v := range values {
		vp := token.ParseSub(v)
		if len(vp) == 0 || vp[0].Name != lead.Name || !intendedMatch(vp[0].Value, lead.Value) {
			continue
		}
		vt, has := subPart(v, "ref_type")
		if !has {
			continue
		}
		sameProject++
		if intendedMatch(vt, tokenType) {
			return false
		}
	}
	return sameProject > 0
}

func (te *trustEval) refTypeTitle(values []string) string {
	c := te.claims
	rt, _ := subPart(c.Subject, "ref_type")
	ref, _ := subPart(c.Subject, "ref")
	var allowed []string
	for _, v := range values {
		if t, ok := subPart(v, "ref_type"); ok && !slices.Contains(allowed, t) {
			allowed = append(allowed, t)
		}
	}
	return fmt.Sprintf("the job ran for %s %s; the role allows %s only", rt, ref, pluralRefTypes(allowed))
}

func pluralRefTypes(ts []string) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t + "es"
		if t == "tag" {
			out[i] = "tags"
		}
	}
	return strings.Join(out, " and ")
}

func (te *trustEval) refTypeFix(st policy.Statement, cr policy.ConditionResult) string {
	sub := te.claims.Subject
	fix := fmt.Sprintf("If jobs for this ref should get the role, allow its exact sub in statement %s:\n%s", st.Name(),
		te.editedStatement(st, cr, func(c *policy.Condition) {
			if policy.ParseOperator(c.Operator).Base == "StringEquals" {
				c.Values = append(slices.Clone(c.Values), sub)
			} else {
				c.Operator, c.Values = "StringEquals", []string{sub}
			}
		}))
	if rt, _ := subPart(sub, "ref_type"); rt == "tag" {
		if i := strings.LastIndex(sub, ":ref:"); i >= 0 {
			fix += fmt.Sprintf("\nor, for every release tag, a StringLike statement with %q (protect the tags with Settings > Repository > Protected tags).", sub[:i+5]+"v*")
		}
	}
	return fix + "\nOtherwise run the job only for the allowed refs (rules: in .gitlab-ci.yml)."
}

// shapeDiffers is true when the token's sub names other components, in
// another order, than the closest allowed value. For a pattern only the
// components before its first wildcard are compared.
func (te *trustEval) shapeDiffers(values []string) bool {
	names := componentNames(te.claims.Subject)
	for _, v := range values {
		vn := componentNames(v)
		if !hasWildcard(v) {
			if slices.Equal(vn, names) {
				return false
			}
			continue
		}
		var fixed []string
		for _, p := range token.ParseSub(v) {
			if hasWildcard(p.Name + ":" + p.Value) {
				break
			}
			fixed = append(fixed, p.Name)
		}
		if len(fixed) <= len(names) && slices.Equal(fixed, names[:len(fixed)]) {
			return false
		}
	}
	return true
}

func componentNames(sub string) []string {
	var out []string
	for _, p := range token.ParseSub(sub) {
		out = append(out, p.Name)
	}
	return out
}

// subComponents is the project's custom sub claim, when GitLab reported it.
func (te *trustEval) subComponents() []string {
	if te.ev.Job != nil {
		return te.ev.Job.SubComponents
	}
	return nil
}

func (te *trustEval) customFix(st policy.Statement, cr policy.ConditionResult) string {
	sub := te.claims.Subject
	fix := fmt.Sprintf("Write the policy for the sub GitLab now issues, in statement %s:\n%s", st.Name(),
		te.editedStatement(st, cr, func(c *policy.Condition) {
			c.Operator, c.Values = "StringEquals", []string{sub}
		}))
	project := "PROJECT_ID"
	base := "https://GITLAB_HOST"
	if te.ev.Job != nil {
		if te.ev.Job.ProjectID != 0 {
			project = fmt.Sprint(te.ev.Job.ProjectID)
		}
		if te.ev.Job.BaseURL != "" {
			base = te.ev.Job.BaseURL
		}
	} else if te.claims.ProjectID != "" {
		project = te.claims.ProjectID
		base = te.claims.Issuer
	}
	wanted := componentNames(closest(sub, cr.Values))
	if token.ValidateSubComponents(wanted) != nil {
		wanted = token.DefaultSubComponents
	}
	quoted := make([]string, len(wanted))
	for i, w := range wanted {
		quoted[i] = fmt.Sprintf("%q", w)
	}
	fix += fmt.Sprintf("\nor set the project's sub claim back to the shape the policy expects (Maintainer):\n  curl --request PUT --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" --header \"Content-Type: application/json\" \\\n    --data '{\"ci_id_token_sub_claim_components\":[%s]}' %s/api/v4/projects/%s",
		strings.Join(quoted, ","), base, project)
	return fix
}
