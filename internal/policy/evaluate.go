package policy

import "strings"

// Request is what IAM evaluates a trust policy against.
type Request struct {
	Action    string // "sts:AssumeRoleWithWebIdentity"
	Federated string // the provider ARN STS resolved from the token's iss
	// Context maps condition keys (any case) to their values; a key absent
	// from the map is absent from the request.
	Context map[string][]string
}

// ConditionResult is the outcome of one condition of a statement.
type ConditionResult struct {
	Condition
	KnownOperator bool     // false for misspelt/unknown operators
	Present       bool     // the key had at least one value in the request
	RequestValues []string // the request's values for the key
	Matched       bool
}

// StatementResult is the outcome of one statement.
type StatementResult struct {
	Statement      Statement
	ActionMatch    bool
	PrincipalMatch bool
	Conditions     []ConditionResult
	// Applies is true when action, principal and every condition match.
	Applies bool
}

// Decision is the outcome of evaluating a whole document.
type Decision struct {
	Allowed bool
	// ExplicitDeny is true when a Deny statement applies (Deny wins).
	ExplicitDeny bool
	Statements   []StatementResult
}

// Evaluate evaluates the document against the request exactly as IAM does
// for a role trust policy: an explicit Deny wins, otherwise any applying
// Allow allows, otherwise implicit deny.
//
// Every statement and every condition is evaluated, even after the outcome
// is known, so that the doctor can name each statement's failing parts.
func Evaluate(d *Document, req Request) Decision {
	var dec Decision
	if d == nil {
		return dec
	}
	ctx := foldContext(req.Context)
	allowed := false
	for _, st := range d.Statements {
		sr := evalStatement(st, req, ctx)
		dec.Statements = append(dec.Statements, sr)
		if !sr.Applies {
			continue
		}
		switch st.Effect {
		case "Deny":
			dec.ExplicitDeny = true
		case "Allow":
			allowed = true
		}
	}
	dec.Allowed = allowed && !dec.ExplicitDeny
	return dec
}

// foldContext lower-cases the request's keys because IAM condition keys are
// case-insensitive; values of keys that differ only in case are merged.
func foldContext(in map[string][]string) map[string][]string {
	out := make(map[string][]string, len(in))
	for k, v := range in {
		lk := strings.ToLower(k)
		out[lk] = append(out[lk], v...)
	}
	return out
}

func evalStatement(st Statement, req Request, ctx map[string][]string) StatementResult {
	sr := StatementResult{
		Statement:      st,
		ActionMatch:    actionMatches(st, req.Action),
		PrincipalMatch: principalMatches(st, req.Federated),
	}
	applies := sr.ActionMatch && sr.PrincipalMatch
	for _, c := range st.Conditions {
		cr := EvaluateCondition(c, ctx[strings.ToLower(c.Key)])
		sr.Conditions = append(sr.Conditions, cr)
		applies = applies && cr.Matched
	}
	sr.Applies = applies
	return sr
}

// actionMatches applies Action or NotAction; action names are
// case-insensitive and may hold * and ? wildcards.
func actionMatches(st Statement, action string) bool {
	if action == "" {
		return false
	}
	la := strings.ToLower(action)
	matchAny := func(patterns []string) bool {
		for _, p := range patterns {
			if Like(strings.ToLower(p), la) {
				return true
			}
		}
		return false
	}
	switch {
	case st.Actions != nil:
		return matchAny(st.Actions)
	case st.NotActions != nil:
		return !matchAny(st.NotActions)
	}
	return false
}

// principalMatches applies Principal or NotPrincipal to a federated caller.
// A statement with neither names nobody (IAM requires one in a trust policy).
// Principal ARNs do not take wildcards; "*" alone (or {"AWS": "*"}, which IAM
// documents as equivalent) matches every caller.
func principalMatches(st Statement, federated string) bool {
	switch {
	case st.Principal != nil:
		return principalHas(st.Principal, federated)
	case st.NotPrincipal != nil:
		return !principalHas(st.NotPrincipal, federated)
	}
	return false
}

func principalHas(p *Principal, federated string) bool {
	if p.Any {
		return true
	}
	for _, a := range p.AWS {
		if a == "*" {
			return true
		}
	}
	if federated == "" {
		return false
	}
	for _, f := range p.Federated {
		if f == federated {
			return true
		}
	}
	return false
}

// EvaluateCondition evaluates one condition against the request's values for
// its key (nil or empty when the key is absent). It follows IAM's rules:
//
//   - several policy values are ORed;
//   - a missing key makes the condition false, except that negated
//     operators (StringNotEquals, ...) are true, ...IfExists is true,
//     ForAllValues: is true and ForAnyValue: is false;
//   - ForAnyValue: needs at least one request value to match, ForAllValues:
//     needs every request value to match (for a negated operator, "match"
//     means "equals none of the policy values");
//   - a plain operator on a multi-valued key (an array aud, for instance) is
//     a documented gray area; we choose the conservative reading that IAM
//     applies the operator to the set as a whole: a positive operator
//     matches when any request value matches, and a negated one only when no
//     request value matches any policy value;
//   - an unknown operator never matches (IAM rejects such a policy).
func EvaluateCondition(c Condition, requestValues []string) ConditionResult {
	op := ParseOperator(c.Operator)
	cr := ConditionResult{
		Condition:     c,
		KnownOperator: op.Known,
		Present:       len(requestValues) > 0,
		RequestValues: requestValues,
	}
	if !op.Known {
		return cr
	}
	if op.Base == "Null" {
		cr.Matched = nullMatches(c.Values, cr.Present)
		return cr
	}
	if !cr.Present {
		switch {
		case op.IfExists:
			cr.Matched = true
		case op.Set == SetForAllValues:
			cr.Matched = true
		case op.Set == SetForAnyValue:
			cr.Matched = false
		default:
			cr.Matched = op.Negated
		}
		return cr
	}
	match := baseOps[op.Base].match
	// hit reports whether the request value matches any policy value under
	// the positive form of the operator.
	hit := func(rv string) bool {
		for _, pv := range c.Values {
			if match(pv, rv) {
				return true
			}
		}
		return false
	}
	// ok is the per-value outcome including negation.
	ok := func(rv string) bool { return hit(rv) != op.Negated }
	switch op.Set {
	case SetForAllValues:
		cr.Matched = true
		for _, rv := range requestValues {
			if !ok(rv) {
				cr.Matched = false
				break
			}
		}
	case SetForAnyValue:
		for _, rv := range requestValues {
			if ok(rv) {
				cr.Matched = true
				break
			}
		}
	default:
		anyHit := false
		for _, rv := range requestValues {
			if hit(rv) {
				anyHit = true
				break
			}
		}
		cr.Matched = anyHit != op.Negated
	}
	return cr
}

// nullMatches implements the Null operator: "true" asks for the key to be
// absent, "false" for it to be present; several values are ORed.
func nullMatches(values []string, present bool) bool {
	for _, v := range values {
		switch strings.ToLower(v) {
		case "true":
			if !present {
				return true
			}
		case "false":
			if present {
				return true
			}
		}
	}
	return false
}
