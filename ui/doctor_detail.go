package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/policy"
)

// detailView shows one finding: the deciding condition beside the token's
// claim with the first difference marked, why IAM decided so, and the
// evidence.
func (m *DoctorModel) detailView(width int) string {
	st := m.st
	f := m.finding()
	if f == nil {
		return st.subtle.Render("No finding selected.")
	}
	var b strings.Builder
	b.WriteString(m.findingHeader(f) + "\n")
	if d := f.Detail; d != nil {
		head := "Deciding condition"
		if d.Statement != "" {
			head += st.subtle.Render(" · statement " + d.Statement)
		}
		b.WriteString("\n" + st.heading.Render(head) + "\n")
		for _, l := range conditionLines(st, d, width) {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n" + st.heading.Render("Why IAM decided so") + "\n")
		b.WriteString(indentLines(whyText(d), "  ") + "\n")
	}
	if len(f.Evidence) > 0 {
		b.WriteString("\n" + st.heading.Render("Evidence") + "\n")
		for _, e := range f.Evidence {
			b.WriteString("  " + e + "\n")
		}
	}
	if f.Fix != "" {
		b.WriteString("\n" + st.subtle.Render("enter shows the fix"))
	}
	return strings.TrimRight(b.String(), "\n")
}

// diffMarker is the text after the carets under the first difference.
const diffMarker = "first difference"

// conditionLines renders the deciding condition beside the token's claim.
// When the terminal is wide enough they stand side by side, as the policy
// reads ("policy  StringEquals gitlab.com:sub  value"); otherwise the
// operator and key get their own line and the values line up under it.
// The differing component is highlighted in the closest allowed value and
// in the token's value, and carets under the token's value mark where they
// first differ (DiffAt), so the spot reads without colour too.
func conditionLines(st *styles, d *diagnose.ConditionDetail, width int) []string {
	claim := d.Key
	if i := strings.LastIndex(claim, ":"); i >= 0 {
		claim = claim[i+1:]
	}
	values := d.PolicyValue
	if len(values) == 0 {
		values = []string{""}
	}
	longest := len(d.TokenValue)
	for _, v := range values {
		longest = max(longest, len(v))
	}
	var out []string
	var policyLead, otherLead, tokenLead string
	wide := 8 + len(d.Operator) + 1 + len(d.Key) + 2
	if wide+longest <= width {
		policyLead = "policy  " + d.Operator + " " + d.Key + "  "
		otherLead = strings.Repeat(" ", wide)
		tokenLead = "token   " + strings.Repeat(" ", len(d.Operator)+1) + pad(claim, len(d.Key)) + "  "
	} else {
		out = append(out, "  "+st.bold.Render(d.Operator)+" "+d.Key)
		policyLead, otherLead, tokenLead = "policy  ", "        ", "token   "
	}
	near := closestValue(d)
	seg := func(s string) (int, int) { return diffSegment(s, d.DiffAt) }
	for i, v := range values {
		lead := otherLead
		if i == 0 {
			lead = policyLead
		}
		text := v
		switch {
		case v == "":
			text = st.subtle.Render("(no value)")
		case i == near && d.DiffAt >= 0:
			a, e := seg(v)
			text = highlightRange(v, a, e, st.success.Render)
		case i != near:
			text = st.subtle.Render(v)
		}
		out = append(out, "  "+subtleLead(st, lead, i == 0)+text)
	}
	tok := d.TokenValue
	if tok == "" {
		out = append(out, "  "+subtleLead(st, tokenLead, true)+st.subtle.Render("(the token has no "+claim+" claim)"))
		return out
	}
	if d.DiffAt >= 0 {
		a, e := seg(tok)
		out = append(out, "  "+subtleLead(st, tokenLead, true)+highlightRange(tok, a, e, st.err.Render))
		col := ansi.StringWidth(tokenLead) + ansi.StringWidth(tok[:min(d.DiffAt, len(tok))])
		carets := strings.Repeat("^", max(1, ansi.StringWidth(tok[a:e])))
		marker := strings.Repeat(" ", col) + st.err.Render(carets) + " " + st.subtle.Render(diffMarker)
		if col+len(carets)+1+len(diffMarker) > width-2 && col >= len(diffMarker)+1 {
			// Near the right edge the words go before the carets.
			marker = strings.Repeat(" ", col-len(diffMarker)-1) + st.subtle.Render(diffMarker) + " " + st.err.Render(carets)
		}
		out = append(out, "  "+marker)
		return out
	}
	out = append(out, "  "+subtleLead(st, tokenLead, true)+tok)
	return out
}

// subtleLead dims the label part of a lead ("policy", "token") and keeps
// the operator and key readable.
func subtleLead(st *styles, lead string, label bool) string {
	if !label || len(lead) < 8 {
		return lead
	}
	return st.subtle.Render(lead[:8]) + lead[8:]
}

// closestValue is the index of the policy value the token was compared
// with: the one sharing exactly DiffAt leading bytes with it, else the one
// sharing the most.
func closestValue(d *diagnose.ConditionDetail) int {
	best, bestLen := 0, -1
	for i, v := range d.PolicyValue {
		n := commonPrefix(v, d.TokenValue)
		if n == d.DiffAt {
			return i
		}
		if n > bestLen {
			best, bestLen = i, n
		}
	}
	return best
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// diffSegment is the byte range of s to highlight: from the first
// difference to the end of that sub component (the next colon).
func diffSegment(s string, at int) (int, int) {
	if at < 0 || at >= len(s) {
		return len(s), len(s)
	}
	end := len(s)
	if i := strings.IndexByte(s[at:], ':'); i > 0 {
		end = at + i
	}
	return at, end
}

// highlightRange styles s[a:e] and leaves the rest plain.
func highlightRange(s string, a, e int, style func(...string) string) string {
	if a >= e {
		return s
	}
	return s[:a] + style(s[a:e]) + s[e:]
}

// whyText explains in plain words how IAM evaluated the condition, then the
// rule's own reason.
func whyText(d *diagnose.ConditionDetail) string {
	op := policy.ParseOperator(d.Operator)
	var how string
	switch {
	case op.Negated:
		how = fmt.Sprintf("%s denies a token whose %s matches any listed value.", d.Operator, d.Key)
	case op.Base == "StringLike":
		how = fmt.Sprintf("%s matches %s against each value, with * and ? as wildcards and case-sensitively; none matched.", d.Operator, d.Key)
	case op.Base == "StringEquals":
		how = fmt.Sprintf("%s compares %s with each value exactly and case-sensitively (no wildcards); none was equal.", d.Operator, d.Key)
	default:
		how = fmt.Sprintf("%s on %s did not hold for the token.", d.Operator, d.Key)
	}
	how += " Every condition of a statement must hold, so the statement does not allow the token, and with no statement allowing it IAM denies by default."
	// The rules' own reason adds nothing when it only names the finding.
	if d.Why != "" && !strings.Contains(d.Why, " decides") {
		how += "\n" + d.Why
	}
	return how
}
