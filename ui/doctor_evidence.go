package ui

import (
	"fmt"
	"strings"
	"time"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/issuer"
)

// probeBudget is how long STS waits for each issuer request; the probe
// timings are shown against it.
const probeBudget = issuer.DefaultTimeout

// evidenceView shows what doctor found before it judges anything: the
// token's claims that decide an exchange, the role and provider, the job
// and the STS error, then the issuer probes against STS's time budget.
func (m *DoctorModel) evidenceView(width int) string {
	st := m.st
	switch {
	case m.loading:
		return spinnerView(m.spin, st) + " Collecting evidence: the role and providers from IAM, the job from GitLab,\n  the issuer's discovery document and keys…"
	case m.err != nil:
		return st.err.Render("✗ Could not collect the evidence") + "\n\n" + st.err.Render(indentLines(m.err.Error(), "  ")) +
			"\n\n" + st.subtle.Render("Fix the input named above and run doctor again (q quits).")
	}
	ev := m.ev
	left := m.tokenBlock(ev)
	right := m.contextBlock(ev)
	var b strings.Builder
	b.WriteString(sideBySide(width, left, right))
	b.WriteString("\n\n" + m.issuerBlock(ev))
	if len(ev.Notes) > 0 {
		b.WriteString("\n\n" + st.heading.Render("Notes"))
		for _, n := range ev.Notes {
			b.WriteString("\n  " + st.subtle.Render("- "+n))
		}
	}
	b.WriteString("\n\n" + st.subtle.Render(fmt.Sprintf("%s · enter shows them", findingCount(m.findings))))
	return b.String()
}

// findingCount says how many findings there are, in words.
func findingCount(fs []diagnose.Finding) string {
	switch len(fs) {
	case 0:
		return "No findings"
	case 1:
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", len(fs))
}

// doctorClaims are the claims that decide an exchange, in the order a
// reader checks them. The raw token and its signature are never shown.
var doctorClaims = []string{"iss", "aud", "sub", "ref", "ref_type", "ref_protected", "project_path", "project_id", "exp"}

// tokenBlock is the token's source, signature check and deciding claims.
func (m *DoctorModel) tokenBlock(ev *diagnose.Evidence) string {
	st := m.st
	var b strings.Builder
	b.WriteString(st.heading.Render("Token"))
	switch {
	case ev.Token == nil && ev.TokenErr != nil:
		b.WriteString("  " + st.err.Render("✗ not a JWT") + st.subtle.Render(" ("+ev.TokenSource+")"))
		return b.String()
	case ev.Token == nil:
		b.WriteString("  " + st.subtle.Render("none given, and no job to predict its claims from"))
		return b.String()
	case ev.Predicted:
		b.WriteString("  " + st.warning.Render("predicted") + st.subtle.Render(" from the job and the project's settings (no token given)"))
	default:
		b.WriteString("  " + st.subtle.Render("from "+ev.TokenSource))
	}
	b.WriteString("\n")
	if !ev.Predicted {
		b.WriteString("  " + m.signatureLine(ev) + "\n")
	}
	c := ev.Token.Claims
	values := map[string]string{
		"iss": c.Issuer, "aud": strings.Join(c.Audience, ", "), "sub": c.Subject,
		"ref": c.Ref, "ref_type": c.RefType, "ref_protected": c.RefProtected,
		"project_path": c.ProjectPath, "project_id": c.ProjectID,
	}
	for _, name := range doctorClaims {
		v := values[name]
		if name == "exp" {
			v = m.expiryText(ev)
		}
		if v == "" {
			v = st.subtle.Render("—")
			for _, u := range ev.Unknown {
				if u == name {
					v = st.subtle.Render("unknown (not predictable)")
				}
			}
		}
		b.WriteString("  " + pad(st.subtle.Render(name), 14) + v + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// signatureLine says whether the token's signature was checked and how it
// came out, with the algorithm and key ID (never the signature).
func (m *DoctorModel) signatureLine(ev *diagnose.Evidence) string {
	st := m.st
	h := ev.Token.Header
	alg := fmt.Sprintf("%s · kid %s", orDash(h.Alg), shorten(orDash(h.Kid), 16))
	s := ev.Signature
	switch {
	case s == nil:
		return st.subtle.Render("- signature not checked (no keys) · " + alg)
	case s.Err == "":
		return st.success.Render("✓") + " signature verified " + st.subtle.Render("· "+alg)
	default:
		return st.err.Render("✗ signature: "+s.Err) + st.subtle.Render(" · "+alg)
	}
}

// expiryText is exp as a time and, against the reference time, how long
// the token was still valid or how long ago it expired.
func (m *DoctorModel) expiryText(ev *diagnose.Evidence) string {
	exp := ev.Token.Claims.Expiry
	if exp == nil {
		return ""
	}
	text := exp.UTC().Format("2006-01-02 15:04 UTC")
	if ev.Now.IsZero() {
		return text
	}
	d := exp.Sub(ev.Now)
	when := "\n" + strings.Repeat(" ", 16) + m.st.subtle.Render("judged at "+ev.Now.UTC().Format("15:04:05")+", "+ev.NowSource)
	if d <= 0 {
		return text + " · " + m.st.err.Render("expired "+humanDuration(-d)+" ago") + when
	}
	return text + " · " + m.st.success.Render("valid for "+humanDuration(d)) + when
}

// humanDuration rounds a duration the way a person says it: 45s, 12m,
// 2h05m, 3d4h.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour && int(d.Minutes())%60 == 0:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// contextBlock is the role, the provider for the token's issuer, the job
// and the STS error: what the token is judged against.
func (m *DoctorModel) contextBlock(ev *diagnose.Evidence) string {
	st := m.st
	label := func(s string) string { return pad(st.heading.Render(s), 10) }
	more := func(s string) string { return pad("", 10) + st.subtle.Render(s) }
	var rows []string
	switch r := ev.Role; {
	case r == nil:
		rows = append(rows, label("Role")+st.subtle.Render("— (--role-arn or --trust-policy)"))
	case r.NotFound:
		rows = append(rows, label("Role")+st.err.Render("✗ "+orDash(r.Name)+" does not exist"))
	default:
		rows = append(rows, label("Role")+orDash(r.Name))
		var facts []string
		if r.Trust != nil {
			facts = append(facts, "trust policy from "+orDash(r.TrustSource))
		} else if r.TrustErr != "" {
			facts = append(facts, "trust policy unreadable")
		}
		if r.MaxSessionDuration > 0 {
			facts = append(facts, fmt.Sprintf("max session %s", humanDuration(time.Duration(r.MaxSessionDuration)*time.Second)))
		}
		for _, f := range facts {
			rows = append(rows, more(f))
		}
		if r.Err != "" {
			rows = append(rows, pad("", 10)+st.warning.Render("! "+r.Err))
		}
	}
	rows = append(rows, m.providerRows(ev, label, more)...)
	if j := ev.Job; j != nil {
		kind := "branch"
		if j.Tag {
			kind = "tag"
		}
		line := fmt.Sprintf("#%d %s · %s %s", j.JobID, orDash(j.Name), kind, j.Ref)
		if j.Status != "" {
			line += " · " + j.Status
		}
		rows = append(rows, label("Job")+line, more(j.ProjectPath+fmt.Sprintf(" (project %d)", j.ProjectID)))
	}
	if ev.Log != nil && ev.Log.STS != nil {
		e := ev.Log.STS
		line := st.err.Render(e.Code)
		if e.Tool != "" {
			line += st.subtle.Render(" · " + e.Tool)
		}
		rows = append(rows, label("STS")+line)
	}
	return strings.Join(rows, "\n")
}

// providerRows describe the provider IAM would pick for the token's issuer.
func (m *DoctorModel) providerRows(ev *diagnose.Evidence, label, more func(string) string) []string {
	st := m.st
	pf := ev.Providers
	if pf == nil {
		return []string{label("Provider") + st.subtle.Render("— not read")}
	}
	want := ""
	if ev.Token != nil {
		want = diagnose.KeyPrefix(ev.Token.Claims.Issuer)
	}
	for _, p := range pf.List {
		if want == "" || diagnose.KeyPrefix(p.URL) == want {
			return []string{label("Provider") + p.URL, more("client IDs " + orDash(strings.Join(p.ClientIDs, ", ")))}
		}
	}
	if pf.Listed {
		return []string{label("Provider") + st.err.Render("✗ none for "+orDash(want))}
	}
	return []string{label("Provider") + st.subtle.Render("— "+orDash(pf.Err))}
}

// issuerBlock shows the probes STS makes before it accepts a token, with
// their timings against the 5 s budget.
func (m *DoctorModel) issuerBlock(ev *diagnose.Evidence) string {
	st := m.st
	head := st.heading.Render("Issuer") + st.subtle.Render(fmt.Sprintf("  (STS allows %d s per request)", int(probeBudget.Seconds())))
	r := ev.Issuer
	if r == nil {
		why := "not probed"
		if ev.Offline {
			why = "not probed (--offline)"
		}
		return head + "\n  " + st.subtle.Render(why)
	}
	if r.Err != "" {
		return head + "\n  " + r.IssuerURL + "\n  " + st.err.Render("✗ "+r.Err)
	}
	rows := [][]string{
		m.fetchRow("discovery", r.Discovery),
		m.fetchRow("JWKS", r.JWKS),
	}
	lines := []string{head, "  " + r.IssuerURL, table(rows, "  ")}
	if r.PrivateOnly && !ev.PrivateIssuerOK {
		lines = append(lines, "  "+st.err.Render("✗ private addresses only: STS cannot reach them"))
	}
	if len(r.KeyIDs) > 0 {
		lines = append(lines, "  "+st.subtle.Render(fmt.Sprintf("%d signing key(s) published", len(r.KeyIDs))))
	}
	return strings.Join(lines, "\n")
}

// fetchRow is one probe: status, time and the share of the budget used.
func (m *DoctorModel) fetchRow(name string, f issuer.Fetch) []string {
	st := m.st
	if f.URL == "" && f.Err == "" && f.Status == 0 {
		return []string{st.subtle.Render(name), st.subtle.Render("not fetched")}
	}
	mark := st.success.Render("✓")
	status := fmt.Sprint(f.Status)
	if !f.OK() {
		mark = st.err.Render("✗")
		if f.Err != "" {
			status = shorten(f.Err, 40)
		}
	}
	ms := f.Duration.Milliseconds()
	share := fmt.Sprintf("%d ms of %d s", ms, int(probeBudget.Seconds()))
	timing := st.subtle.Render(share)
	if f.Duration >= 2*time.Second {
		timing = st.warning.Render("! " + share)
	}
	return []string{mark + " " + name, status, timing, budgetBar(f.Duration)}
}

// budgetBar draws the share of the 5 s budget a request took, ten cells
// wide, so slow probes stand out at a glance.
func budgetBar(d time.Duration) string {
	n := int(d * 10 / probeBudget)
	if d > 0 && n == 0 {
		n = 1
	}
	n = min(n, 10)
	return "▕" + strings.Repeat("█", n) + strings.Repeat("·", 10-n) + "▏"
}

// orDash shows an unknown value as a dash.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// shorten cuts s to n runes with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
