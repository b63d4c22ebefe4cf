package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token"
)

// trustEval is one evaluation of the role's trust policy against the token.
type trustEval struct {
	ev        *Evidence
	doc       *policy.Document
	claims    token.Claims
	prefix    string
	principal string
	dec       policy.Decision
}

// trustRules are section D: the role and its trust policy, evaluated the way
// IAM evaluates it for this token.
func trustRules(ev *Evidence) []Finding {
	if ev.Role == nil || ev.Role.Trust == nil {
		return nil
	}
	out := invalidOperators(ev.Role.Trust)
	c := ev.claims()
	if c == nil {
		// Without claims one cause is still certain: GitLab refs cannot
		// hold * or ?, so such a value under StringEquals never matches.
		return append(out, literalWildcards(ev)...)
	}
	te := newTrustEval(ev, *c)
	if te.dec.ExplicitDeny {
		out = append(out, te.denyFindings()...)
	}
	if te.dec.Allowed {
		return out
	}
	return append(out, te.allowFindings()...)
}

func newTrustEval(ev *Evidence, c token.Claims) *trustEval {
	prefix, ctx := ConditionContext(c)
	te := &trustEval{ev: ev, doc: ev.Role.Trust, claims: c, prefix: prefix}
	te.principal = expectedPrincipal(ev, prefix, te.doc)
	te.dec = policy.Evaluate(te.doc, policy.Request{Action: policy.ActionWebIdentity, Federated: te.principal, Context: ctx})
	return te
}

// expectedPrincipal is the provider ARN STS resolves from the token's iss:
// the provider in the role's account. Without the account (a trust policy
// from a file and no role ARN), a Federated ARN in the policy with the right
// provider path stands in, so that only the path is judged.
func expectedPrincipal(ev *Evidence, prefix string, doc *policy.Document) string {
	if ev.Role != nil && ev.Role.AccountID != "" {
		return ProviderARN(ev.Role.AccountID, prefix)
	}
	if p := providerFor(ev); p != nil && p.ARN != "" {
		return p.ARN
	}
	for _, st := range doc.Statements {
		if st.Principal == nil {
			continue
		}
		for _, f := range st.Principal.Federated {
			if strings.HasSuffix(f, ":oidc-provider/"+prefix) {
				return f
			}
		}
	}
	return ProviderARN("ACCOUNT_ID", prefix)
}

// judged reports whether a condition can be judged: a prediction does not
// know some claims (aud without a pipeline file, user_*), and a condition on
// them is given the benefit of the doubt.
func (te *trustEval) judged(cr policy.ConditionResult) bool {
	if !te.ev.Predicted {
		return true
	}
	kp, claim := splitKey(cr.Key)
	return !strings.EqualFold(kp, te.prefix) || !te.ev.unknownClaim(strings.ToLower(claim))
}

// failing returns the conditions of a statement result that fail and can be
// judged, leaving out unknown operators (reported on their own).
func (te *trustEval) failing(sr policy.StatementResult) []policy.ConditionResult {
	var out []policy.ConditionResult
	for _, cr := range sr.Conditions {
		if !cr.Matched && cr.KnownOperator && te.judged(cr) {
			out = append(out, cr)
		}
	}
	return out
}

// allowFindings explains why no Allow statement applies: no statement for
// the action, none for this provider, or the conditions of the closest one.
func (te *trustEval) allowFindings() []Finding {
	var webID, cands []policy.StatementResult
	for _, sr := range te.dec.Statements {
		if sr.Statement.Effect != "Allow" || !sr.ActionMatch {
			continue
		}
		webID = append(webID, sr)
		if sr.PrincipalMatch {
			cands = append(cands, sr)
		}
	}
	if len(webID) == 0 {
		return []Finding{te.noWebIdentity()}
	}
	if len(cands) == 0 {
		return []Finding{te.principalMismatch(webID)}
	}
	best := cands[0]
	for _, sr := range cands[1:] {
		if len(te.failing(sr)) < len(te.failing(best)) {
			best = sr
		}
	}
	var out []Finding
	for _, cr := range te.failing(best) {
		out = append(out, te.conditionFinding(best.Statement, cr))
	}
	if len(out) > 0 && len(cands) > 1 {
		note := fmt.Sprintf("closest of %d statements for this provider; the others fail too", len(cands))
		for i := range out {
			out[i].Evidence = append(out[i].Evidence, "note       "+note)
		}
	}
	return out
}

func (te *trustEval) noWebIdentity() Finding {
	var evidence []string
	for _, sr := range te.dec.Statements {
		st := sr.Statement
		evidence = append(evidence, fmt.Sprintf("%-10s %s %s", st.Name(), st.Effect, actionsOf(st)))
	}
	return Finding{
		ID: "trust-no-web-identity-statement", Severity: SeverityError,
		Title:    "no Allow statement of the trust policy grants sts:AssumeRoleWithWebIdentity",
		Evidence: evidence,
		Fix:      "Add a statement for the web identity exchange (sts:AssumeRole is a different action):\n" + te.suggestedPolicy(),
	}
}

func (te *trustEval) principalMismatch(webID []policy.StatementResult) Finding {
	evidence := []string{"expected   " + te.principal + " (the provider for iss " + te.claims.Issuer + ")"}
	for _, sr := range webID {
		evidence = append(evidence, fmt.Sprintf("%-10s Principal %s", sr.Statement.Name(), principalText(sr.Statement.Principal)))
	}
	st := webID[0].Statement
	return Finding{
		ID: "trust-principal-mismatch", Severity: SeverityError,
		Title:    "the trust policy's Federated principal is not the provider for the token's issuer",
		Evidence: evidence,
		Fix:      fmt.Sprintf("In statement %s set the principal to the provider of the token's issuer:\n  \"Principal\": {\"Federated\": %q}", st.Name(), te.principal),
		Detail: &ConditionDetail{
			Statement: st.Name(), Key: "Principal.Federated", PolicyValue: federatedOf(st.Principal),
			TokenValue: te.principal, DiffAt: diffAt(te.principal, federatedOf(st.Principal)),
			Why: "STS looks the provider up by the token's iss; a statement naming another provider never applies",
		},
		Patch: te.principalPatch(st),
	}
}

// denyFindings names each Deny statement that applies.
func (te *trustEval) denyFindings() []Finding {
	var out []Finding
	for _, sr := range te.dec.Statements {
		if sr.Statement.Effect != "Deny" || !sr.Applies {
			continue
		}
		evidence := []string{fmt.Sprintf("statement  %s: Deny %s", sr.Statement.Name(), actionsOf(sr.Statement))}
		for _, cr := range sr.Conditions {
			evidence = append(evidence, fmt.Sprintf("matches    %s %s %s (token: %s)", cr.Operator, cr.Key, quoteList(cr.Values), presentValues(cr)))
		}
		out = append(out, Finding{
			ID: "explicit-deny", Severity: SeverityError,
			Title:    fmt.Sprintf("Deny statement %s matches this token: Deny wins over any Allow", sr.Statement.Name()),
			Evidence: evidence,
			Fix:      fmt.Sprintf("Remove statement %s from the trust policy, or narrow its conditions so that they do not match this job (IAM applies an explicit Deny before any Allow).", sr.Statement.Name()),
			Detail:   &ConditionDetail{Statement: sr.Statement.Name(), DiffAt: -1, Why: "an explicit Deny always wins"},
		})
	}
	return out
}

// literalWildcards reports sub values with * or ? under StringEquals in
// the web identity Allow statements, judged from the policy alone.
func literalWildcards(ev *Evidence) []Finding {
	var out []Finding
	for _, st := range ev.Role.Trust.Statements {
		if st.Effect != "Allow" {
			continue
		}
		for _, c := range st.Conditions {
			_, claim := splitKey(c.Key)
			if policy.ParseOperator(c.Operator).Base != "StringEquals" || !strings.EqualFold(claim, "sub") || !slices.ContainsFunc(c.Values, hasWildcard) {
				continue
			}
			fixed := policy.Clone(&policy.Document{Version: "2012-10-17", Statements: []policy.Statement{st}})
			for i := range fixed.Statements[0].Conditions {
				if fc := &fixed.Statements[0].Conditions[i]; fc.Key == c.Key && fc.Operator == c.Operator {
					fc.Operator = likeOperator(fc.Operator)
				}
			}
			out = append(out, Finding{
				ID: "sub-wildcard-needs-stringlike", Severity: SeverityError,
				Title:    fmt.Sprintf("%s holds a wildcard under StringEquals, which compares * and ? literally", c.Key),
				Evidence: []string{fmt.Sprintf("policy     %s %s %s (statement %s)", c.Operator, c.Key, quoteList(c.Values), st.Name()), "GitLab refs and paths cannot contain * or ?, so no token ever matches"},
				Fix:      fmt.Sprintf("Use StringLike for the wildcard values in statement %s:\n%s", st.Name(), marshalIndented(fixed)),
				Detail:   &ConditionDetail{Statement: st.Name(), Operator: c.Operator, Key: c.Key, PolicyValue: c.Values, DiffAt: -1, Why: "StringEquals compares * and ? literally"},
				Patch:    trustPatch(ev, st, "move "+c.Key+" to StringLike", toStringLike(policy.ConditionResult{Condition: c})),
			})
		}
	}
	return out
}

// invalidOperators reports condition operators IAM does not define.
func invalidOperators(doc *policy.Document) []Finding {
	var out []Finding
	for _, st := range doc.Statements {
		for _, c := range st.Conditions {
			if policy.KnownOperator(c.Operator) {
				continue
			}
			fix := "Use a defined condition operator (operator names are case-sensitive)."
			if s := suggestOperator(c.Operator); s != "" {
				fix = fmt.Sprintf("In statement %s replace %q with %q.", st.Name(), c.Operator, s)
			}
			out = append(out, Finding{
				ID: "invalid-operator", Severity: SeverityError,
				Title:    fmt.Sprintf("statement %s uses the unknown condition operator %q", st.Name(), c.Operator),
				Evidence: []string{fmt.Sprintf("condition  %s %s %s", c.Operator, c.Key, quoteList(c.Values)), "IAM refuses to store such a policy and never matches the condition"},
				Fix:      fix,
				Detail:   &ConditionDetail{Statement: st.Name(), Operator: c.Operator, Key: c.Key, PolicyValue: c.Values, DiffAt: -1, Why: "unknown operator"},
			})
		}
	}
	return out
}

// conditionFinding classifies one failing condition of the closest
// statement.
func (te *trustEval) conditionFinding(st policy.Statement, cr policy.ConditionResult) Finding {
	kp, claim := splitKey(cr.Key)
	claim = strings.ToLower(claim)
	switch {
	case isGlobalKey(kp) || kp == "":
		return te.otherMismatch(st, cr)
	case !strings.EqualFold(kp, te.prefix):
		return te.keyPrefix(st, cr, claim)
	case !slices.Contains(SupportedClaims(te.prefix), claim):
		return te.unsupported(st, cr, claim)
	case claim == "aud":
		return te.audMismatch(st, cr)
	case claim == "sub":
		return te.subFinding(st, cr)
	}
	return te.otherMismatch(st, cr)
}

func (te *trustEval) keyPrefix(st policy.Statement, cr policy.ConditionResult, claim string) Finding {
	kp, _ := splitKey(cr.Key)
	want := te.prefix + ":" + claim
	return Finding{
		ID: "trust-condition-key-prefix", Severity: SeverityError,
		Title: fmt.Sprintf("condition key %q does not name the provider, so IAM never finds it", cr.Key),
		Evidence: []string{
			fmt.Sprintf("policy     %s %s %s (statement %s)", cr.Operator, cr.Key, quoteList(cr.Values), st.Name()),
			"provider   " + te.prefix + " (keys are the issuer without https://, then :claim)",
			"expected   " + want,
		},
		Fix:    fmt.Sprintf("Rename the keys in statement %s to the provider's prefix %s:\n%s", st.Name(), te.prefix, te.renamedPrefix(st, kp)),
		Detail: te.detail(st, cr, cr.Key, want, "the key's prefix is not the provider's host and path"),
		Patch:  te.prefixPatch(st, kp),
	}
}

func (te *trustEval) unsupported(st policy.Statement, cr policy.ConditionResult, claim string) Finding {
	fix := fmt.Sprintf("Remove the %s condition from statement %s; STS does not pass that claim for this provider. ", cr.Key, st.Name())
	if strings.EqualFold(te.prefix, "gitlab.com") {
		fix += "Pin the project with gitlab.com:sub (and gitlab.com:project_id), which STS does pass."
	} else if slices.Contains(token.AllowedSubComponents, claim) {
		fix += fmt.Sprintf("On self-managed GitLab only sub is passed: put %s into the sub claim (project setting ci_id_token_sub_claim_components) and match it in %s:sub.", claim, te.prefix)
	} else {
		fix += "On self-managed GitLab only sub is passed: express the restriction in the " + te.prefix + ":sub pattern."
	}
	return Finding{
		ID: "condition-claim-unsupported", Severity: SeverityError,
		Title: fmt.Sprintf("condition key %q is not passed by STS for this provider", cr.Key),
		Evidence: []string{
			fmt.Sprintf("policy     %s %s %s (statement %s)", cr.Operator, cr.Key, quoteList(cr.Values), st.Name()),
			"supported  " + te.prefix + ":" + strings.Join(SupportedClaims(te.prefix), ", "+te.prefix+":"),
		},
		Fix:    fix,
		Detail: te.detail(st, cr, cr.Key, "", "IAM finds no value for this key, so the condition is false"),
	}
}

func (te *trustEval) audMismatch(st policy.Statement, cr policy.ConditionResult) Finding {
	aud := strings.Join(te.claims.Audience, ", ")
	fix := fmt.Sprintf("Either allow the token's aud in statement %s:\n%s\nor request the policy's audience in .gitlab-ci.yml:\n%s",
		st.Name(), te.editedStatement(st, cr, func(c *policy.Condition) { c.Values = te.claims.Audience }),
		idTokensSnippet(tokenVarName(te.ev), firstOr(cr.Values, "sts.amazonaws.com")))
	return Finding{
		ID: "aud-condition-mismatch", Severity: SeverityError,
		Title: fmt.Sprintf("the trust policy's %s condition does not match the token's aud %q", cr.Key, aud),
		Evidence: []string{
			fmt.Sprintf("policy     %s %s %s (statement %s)", cr.Operator, cr.Key, quoteList(cr.Values), st.Name()),
			"token aud  " + orNone(aud),
		},
		Fix:    fix,
		Detail: te.detail(st, cr, aud, closest(aud, cr.Values), "the aud condition decides"),
		Patch:  trustPatch(te.ev, st, "allow aud "+aud, editCondition(cr, allowValues(te.claims.Audience...))),
	}
}

func (te *trustEval) otherMismatch(st policy.Statement, cr policy.ConditionResult) Finding {
	got := presentValues(cr)
	fix := fmt.Sprintf("If this job should be allowed, change the %s condition of statement %s", cr.Key, st.Name())
	if len(cr.RequestValues) > 0 {
		fix += ":\n" + te.editedStatement(st, cr, func(c *policy.Condition) { c.Values = cr.RequestValues })
	} else {
		fix += ": the request has no value for this key (" + requestKeyHint(cr.Key) + "), so remove the condition or make it ...IfExists."
	}
	return Finding{
		ID: "condition-other-mismatch", Severity: SeverityError,
		Title: fmt.Sprintf("condition %s on %s fails for this request", cr.Operator, cr.Key),
		Evidence: []string{
			fmt.Sprintf("policy     %s %s %s (statement %s)", cr.Operator, cr.Key, quoteList(cr.Values), st.Name()),
			"request    " + got,
		},
		Fix:    fix,
		Detail: te.detail(st, cr, strings.Join(cr.RequestValues, ", "), closest(strings.Join(cr.RequestValues, ", "), cr.Values), "this condition is false"),
	}
}

// requestKeyHint says where a global key's value would come from.
func requestKeyHint(key string) string {
	switch strings.ToLower(key) {
	case "sts:rolesessionname":
		return "the --role-session-name of the call"
	case "aws:requestedregion":
		return "the region of the STS endpoint"
	}
	return "not known offline"
}

// renamedPrefix renders the statement with every key under the wrong
// prefix moved to the provider's prefix.
func (te *trustEval) renamedPrefix(st policy.Statement, wrong string) string {
	doc := policy.Clone(&policy.Document{Version: "2012-10-17", Statements: []policy.Statement{st}})
	for i, c := range doc.Statements[0].Conditions {
		if kp, claim := splitKey(c.Key); strings.EqualFold(kp, wrong) {
			doc.Statements[0].Conditions[i].Key = te.prefix + ":" + claim
		}
	}
	return marshalIndented(doc)
}

// suggestedPolicy is a complete trust policy that allows exactly this token.
func (te *trustEval) suggestedPolicy() string {
	aud := te.claims.Audience
	if len(aud) == 0 {
		aud = []string{"sts.amazonaws.com"}
	}
	spec := policy.TrustSpec{
		Sid: "GitLabOIDC", ProviderARN: te.principal, KeyPrefix: te.prefix,
		Audiences: aud, ExactSubs: []string{te.claims.Subject},
	}
	if strings.EqualFold(te.prefix, "gitlab.com") && te.claims.ProjectID != "" {
		spec.ExtraEquals = map[string][]string{"gitlab.com:project_id": {te.claims.ProjectID}}
	}
	doc, err := policy.BuildTrust(spec)
	if err != nil {
		return "  (cannot build a policy: " + err.Error() + ")"
	}
	return marshalIndented(doc)
}

// editedStatement renders the statement with one condition changed: the
// exact JSON to put into the policy.
func (te *trustEval) editedStatement(st policy.Statement, cr policy.ConditionResult, edit func(*policy.Condition)) string {
	doc := policy.Clone(&policy.Document{Version: "2012-10-17", Statements: []policy.Statement{st}})
	s := &doc.Statements[0]
	for i := range s.Conditions {
		c := &s.Conditions[i]
		if c.Operator == cr.Operator && c.Key == cr.Key {
			edit(c)
			break
		}
	}
	return marshalIndented(doc)
}

func marshalIndented(doc *policy.Document) string {
	b, err := policy.Marshal(doc)
	if err != nil {
		return "  (cannot render: " + err.Error() + ")"
	}
	return indent(string(b), "  ")
}

// detail fills the side-by-side view of a condition.
func (te *trustEval) detail(st policy.Statement, cr policy.ConditionResult, tokenValue, policyValue, why string) *ConditionDetail {
	d := &ConditionDetail{
		Statement: st.Name(), Operator: cr.Operator, Key: cr.Key, PolicyValue: cr.Values,
		TokenValue: tokenValue, DiffAt: -1, Why: why,
	}
	if policyValue != "" {
		_, d.DiffAt = token.FirstDifference(tokenValue, policyValue)
	}
	return d
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return pre + strings.Join(lines, "\n"+pre)
}

func actionsOf(st policy.Statement) string {
	if st.Actions != nil {
		return strings.Join(st.Actions, ", ")
	}
	return "NotAction " + strings.Join(st.NotActions, ", ")
}

func principalText(p *policy.Principal) string {
	switch {
	case p == nil:
		return "(none)"
	case p.Any:
		return "*"
	case len(p.Federated) > 0:
		return "Federated " + strings.Join(p.Federated, ", ")
	case len(p.AWS) > 0:
		return "AWS " + strings.Join(p.AWS, ", ")
	case len(p.Service) > 0:
		return "Service " + strings.Join(p.Service, ", ")
	}
	return "(empty)"
}

func federatedOf(p *policy.Principal) []string {
	if p == nil {
		return nil
	}
	return p.Federated
}

func presentValues(cr policy.ConditionResult) string {
	if !cr.Present {
		return "(absent: IAM has no value for this key)"
	}
	return strings.Join(cr.RequestValues, ", ")
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// closest picks the value with the longest common prefix with s.
func closest(s string, values []string) string {
	best, bestN := "", -1
	for _, v := range values {
		n := 0
		for n < len(s) && n < len(v) && s[n] == v[n] {
			n++
		}
		if n > bestN {
			best, bestN = v, n
		}
	}
	return best
}

func diffAt(s string, values []string) int {
	_, at := token.FirstDifference(s, closest(s, values))
	return at
}

func firstOr(vs []string, def string) string {
	if len(vs) > 0 {
		return vs[0]
	}
	return def
}

// suggestOperator finds the defined operator a misspelt one was meant to be.
func suggestOperator(op string) string {
	set, base, hasSet := strings.Cut(op, ":")
	if !hasSet {
		base, set = op, ""
	}
	best, bestD := "", 1<<30
	for _, known := range knownOperatorNames {
		d := editDistance(strings.ToLower(base), strings.ToLower(known))
		if strings.HasPrefix(strings.ToLower(known), strings.ToLower(base)) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = known, d
		}
	}
	if bestD > len(base)/2+1 {
		return ""
	}
	if hasSet {
		for _, s := range []string{policy.SetForAnyValue, policy.SetForAllValues} {
			if strings.EqualFold(s, set) {
				return s + ":" + best
			}
		}
	}
	return best
}

var knownOperatorNames = []string{
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
	"StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan",
	"NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
	"DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
	"Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals",
	"ArnNotLike", "Null",
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
