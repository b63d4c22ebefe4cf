package ui

import (
	"strings"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/token"
)

// fixView shows the fix ready to copy and, when it changes the role's trust
// policy, the exact commands that apply it. When the finding carries a
// patch and the command can apply it, a shows the exact difference and
// applies it once confirmed (see doctor_apply.go).
func (m *DoctorModel) fixView(width int) string {
	st := m.st
	f := m.finding()
	if f == nil {
		return st.subtle.Render("No finding selected.")
	}
	var b strings.Builder
	b.WriteString(m.findingHeader(f) + "\n\n")
	if m.note != "" {
		// Near the top, where the key was pressed, not below a long fix.
		b.WriteString(st.success.Render(m.note) + "\n\n")
	}
	if av := m.applyView(f); av != "" {
		// The difference and the question come before the long fix text,
		// so that they fit the first screen.
		b.WriteString(av + "\n\n")
	}
	b.WriteString(st.heading.Render("Fix") + st.subtle.Render("  (c copies it)") + "\n")
	if f.Fix == "" {
		b.WriteString("  " + st.subtle.Render("No fix to suggest: the evidence above says what to look at.") + "\n")
	}
	for _, l := range strings.Split(strings.TrimRight(f.Fix, "\n"), "\n") {
		if looksLikeJSON(l) {
			l = highlightJSONLine(st, l)
		}
		if f.Fix != "" {
			b.WriteString("  " + l + "\n")
		}
	}
	if cmds := applyCommands(m.ev, f); len(cmds) > 0 {
		b.WriteString("\n" + st.heading.Render("Apply it") + "\n")
		for _, c := range cmds {
			b.WriteString("  " + st.subtle.Render(c.say) + "\n")
			for _, l := range shellLines(c.run, width-4) {
				b.WriteString("    " + st.accent.Render(l) + "\n")
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// looksLikeJSON reports whether a fix line is part of a policy document
// (indented JSON), which is then coloured like the Review screen's.
func looksLikeJSON(l string) bool {
	t := strings.TrimSpace(l)
	return t != "" && strings.HasPrefix(l, " ") && strings.ContainsAny(t[:1], "{}[]\"")
}

// applyCommand is one way to apply a fix: what it does, and the command.
type applyCommand struct {
	say string
	run string
}

// trustFixes are the finding IDs whose fix edits the role's trust policy.
var trustFixes = map[string]bool{
	"sub-ref-type-mismatch": true, "sub-mismatch": true, "sub-case-mismatch": true,
	"sub-wildcard-needs-stringlike": true, "sub-custom-components": true,
	"aud-condition-mismatch": true, "trust-condition-key-prefix": true, "trust-principal-mismatch": true,
	"trust-no-web-identity-statement": true, "condition-claim-unsupported": true,
	"condition-other-mismatch": true, "invalid-operator": true,
}

// applyCommands says how to apply a trust-policy fix: with setup, which
// rewrites the role's trust policy for the refs given (it shows the plan
// and asks; --yes answers for it), or with the AWS CLI once the edited
// policy is saved. Other fixes are applied where the fix text says.
func applyCommands(ev *diagnose.Evidence, f *diagnose.Finding) []applyCommand {
	if ev == nil || !trustFixes[f.ID] {
		return nil
	}
	role := "ROLE_NAME"
	if ev.Role != nil && ev.Role.Name != "" {
		role = ev.Role.Name
	}
	var out []applyCommand
	if strings.HasPrefix(f.ID, "sub-") && f.Detail != nil && ev.Token != nil {
		if allows := setupAllows(f.Detail, ev.Token.Claims); len(allows) > 0 {
			project := ev.Token.Claims.ProjectPath
			if project == "" {
				project = "GROUP/PROJECT"
			}
			run := "gitlab-oidc setup --project " + project + " --role-name " + role
			for _, a := range allows {
				run += " --allow " + shellWord(a)
			}
			out = append(out, applyCommand{
				say: "with setup, which rewrites the role's trust policy for these refs:",
				run: run + " --no-tui --yes",
			})
		}
	}
	out = append(out, applyCommand{
		say: "or with the AWS CLI, with the edited policy saved as trust-policy.json:",
		run: "aws iam update-assume-role-policy --role-name " + role + " --policy-document file://trust-policy.json",
	})
	return out
}

// setupAllows turns the refs the sub condition allows, plus the token's own
// ref, into setup's --allow values (branch:main, tag:v2.3.0). It returns nil
// when a value is not of the default project_path:...:ref_type:...:ref:...
// shape, which --allow cannot express.
func setupAllows(d *diagnose.ConditionDetail, c token.Claims) []string {
	var out []string
	add := func(sub string) bool {
		var refType, ref string
		for _, p := range token.ParseSub(sub) {
			switch p.Name {
			case "ref_type":
				refType = p.Value
			case "ref":
				ref = p.Value
			}
		}
		if refType == "" || ref == "" {
			return false
		}
		a := refType + ":" + ref
		for _, o := range out {
			if o == a {
				return true
			}
		}
		out = append(out, a)
		return true
	}
	for _, v := range d.PolicyValue {
		if !add(v) {
			return nil
		}
	}
	if !add(c.Subject) {
		return nil
	}
	return out
}

// shellWord quotes a value for a POSIX shell when it holds characters the
// shell would expand.
func shellWord(s string) string {
	if strings.ContainsAny(s, "*?[]$ '\"\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// shellLines breaks a command before its flags so that every line fits
// width, ending continued lines with a backslash: the command stays
// copyable as it is shown, instead of being wrapped in the middle of a flag.
func shellLines(cmd string, width int) []string {
	words := strings.Split(cmd, " ")
	var out []string
	line := ""
	for i := 0; i < len(words); i++ {
		w := words[i]
		// Keep a flag with its value.
		if strings.HasPrefix(w, "--") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
			w += " " + words[i+1]
			i++
		}
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w)+2 > width:
			out = append(out, line+" \\")
			line = "  " + w
		default:
			line += " " + w
		}
	}
	return append(out, line)
}
