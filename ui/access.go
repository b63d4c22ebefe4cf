package ui

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/steps"
)

// audienceSTS is the audience AWS's own examples use; offered beside the
// issuer URL (GitLab's documented default).
const audienceSTS = "sts.amazonaws.com"

// roleNamePattern is what IAM accepts as a role name.
var roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// allowOption is one row of the "which jobs" list.
type allowOption struct {
	allow steps.Allow
	label string
	note  string
	warn  bool
}

// Access screen fields, in tab order.
const (
	accessFieldList = iota
	accessFieldCustom
	accessFieldAudience
	accessFieldRole
	accessFieldCount
)

// accessScreen asks who may assume the role, and says the answer in words
// and as the exact sub values the trust policy will allow.
type accessScreen struct {
	s         *session
	options   []allowOption
	selected  map[string]bool
	field     int
	cursor    int
	custom    textinput.Model
	customErr string
	audiences []string
	role      textinput.Model
	// roleEdited is set once the user typed a role name; until then the
	// name follows the selection (gitlab-acme-payments-main, ...).
	roleEdited bool
	blocked    string
}

func newAccessScreen(s *session) *accessScreen {
	a := &accessScreen{s: s, selected: map[string]bool{}}
	a.custom = newInput(s.st, "branch:NAME or tag:PATTERN")
	a.role = newInput(s.st, "role name")
	a.options = accessOptions(s.conn)
	for _, al := range s.choices.Allow {
		a.addOption(al)
		a.selected[al.String()] = true
	}
	a.audiences = []string{s.conn.Issuer.URL, audienceSTS}
	if aud := s.choices.Audience; aud != "" && !slices.Contains(a.audiences, aud) {
		a.audiences = append(a.audiences, aud)
	}
	if s.choices.RoleName != "" {
		a.roleEdited = true
		a.role.SetValue(s.choices.RoleName)
	}
	a.apply()
	return a
}

// accessOptions builds the list from what the connection found: the
// default branch first (preselected by the default choices), protected
// branches, any protected branch, protected tags, then "any branch".
func accessOptions(conn *steps.Connection) []allowOption {
	proj := conn.Project
	def := proj.DefaultBranch
	if def == "" {
		def = "main"
	}
	defNote := "default branch"
	if steps.RefProtected(steps.Allow{Kind: steps.AllowBranch, Pattern: def}, proj) {
		defNote += " · protected"
	}
	opts := []allowOption{{allow: steps.Allow{Kind: steps.AllowBranch, Pattern: def}, label: def, note: defNote}}
	for _, b := range proj.ProtectedBranches {
		if b == def || b == "*" {
			continue
		}
		note := "protected branch"
		if strings.ContainsAny(b, "*?") {
			note = "protected branches (pattern)"
		}
		opts = append(opts, allowOption{allow: steps.Allow{Kind: steps.AllowBranch, Pattern: b}, label: b, note: note})
	}
	protNote := "gitlab.com only: pins ref_protected"
	if !(steps.Instance{IssuerURL: conn.Issuer.URL}).IsGitLabCom() {
		protNote = "needs ref_protected in sub (self-managed)"
		if slices.Contains(proj.SubComponents, "ref_protected") {
			protNote = "via ref_protected in sub"
		}
	}
	opts = append(opts, allowOption{allow: steps.Allow{Kind: steps.AllowProtected}, label: "any protected branch", note: protNote})
	for _, t := range proj.ProtectedTags {
		label := "tag " + t
		if strings.ContainsAny(t, "*?") {
			label = "tags " + t
		}
		opts = append(opts, allowOption{allow: steps.Allow{Kind: steps.AllowTag, Pattern: t}, label: label, note: "protected tag"})
	}
	opts = append(opts, allowOption{allow: steps.Allow{Kind: steps.AllowBranch, Pattern: "*"}, label: "any branch", note: "⚠ any developer's push can deploy", warn: true})
	return opts
}

// addOption adds a custom allow to the list unless it is already there.
func (a *accessScreen) addOption(al steps.Allow) {
	for _, o := range a.options {
		if o.allow == al {
			return
		}
	}
	a.options = append(a.options, allowOption{allow: al, label: al.String(), note: "custom · " + refPhrase(al), warn: al.Pattern == "*"})
}

// apply writes the screen's answers into the shared choices and re-plans.
func (a *accessScreen) apply() {
	var allow []steps.Allow
	for _, o := range a.options {
		if a.selected[o.allow.String()] {
			allow = append(allow, o.allow)
		}
	}
	ch := &a.s.choices
	ch.Allow = allow
	if a.roleEdited {
		ch.RoleName = strings.TrimSpace(a.role.Value())
	} else {
		ch.RoleName = ""
	}
	if len(allow) == 0 {
		a.s.planErr = fmt.Errorf("choose at least one ref: a trust policy without a sub condition would let every project in")
		return
	}
	a.s.replan()
	if !a.roleEdited {
		a.role.Placeholder = a.derivedRoleName()
		if !a.role.Focused() {
			a.role.SetValue(a.role.Placeholder)
		}
	}
}

func (a *accessScreen) init() tea.Cmd {
	a.apply()
	return a.focusField(a.field)
}

func (a *accessScreen) typing() bool {
	return a.field == accessFieldCustom || a.field == accessFieldRole
}

// derivedRoleName is the role name that follows the selection until the
// user types one.
func (a *accessScreen) derivedRoleName() string {
	if a.s.planErr == nil && a.s.plan.RoleName != "" {
		return a.s.plan.RoleName
	}
	return steps.DefaultRoleName(a.s.conn.Project.Path, a.s.choices.Allow)
}

// focusField moves the focus, giving the text fields their cursor.
func (a *accessScreen) focusField(f int) tea.Cmd {
	a.field = (f + accessFieldCount) % accessFieldCount
	a.custom.Blur()
	a.role.Blur()
	if !a.roleEdited {
		// A cleared name goes back to the derived one when left.
		a.role.SetValue(a.derivedRoleName())
	}
	switch a.field {
	case accessFieldCustom:
		return a.custom.Focus()
	case accessFieldRole:
		return a.role.Focus()
	}
	return nil
}

func (a *accessScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	k := a.s.keys
	km, isKey := msg.(tea.KeyPressMsg)
	if !isKey {
		return a, a.updateInputs(msg)
	}
	a.blocked = ""
	switch {
	case key.Matches(km, k.Field):
		return a, a.focusField(a.field + 1)
	case key.Matches(km, k.PrevField):
		return a, a.focusField(a.field - 1)
	case key.Matches(km, k.Up):
		return a, a.move(-1)
	case key.Matches(km, k.Down):
		return a, a.move(1)
	case key.Matches(km, k.Toggle) && a.field == accessFieldList:
		id := a.options[a.cursor].allow.String()
		a.selected[id] = !a.selected[id]
		a.apply()
		return a, nil
	case key.Matches(km, k.Toggle) && a.field == accessFieldAudience:
		a.nextAudience()
		return a, nil
	case key.Matches(km, k.Next):
		if a.field == accessFieldCustom && strings.TrimSpace(a.custom.Value()) != "" {
			a.addCustom()
			return a, nil
		}
		return a, a.next()
	}
	return a, a.updateInputs(msg)
}

// move goes up or down through the list rows and then the fields below.
func (a *accessScreen) move(d int) tea.Cmd {
	if a.field == accessFieldList {
		n := a.cursor + d
		if n >= 0 && n < len(a.options) {
			a.cursor = n
			return nil
		}
		if n < 0 {
			return nil
		}
		return a.focusField(accessFieldCustom)
	}
	if a.field == accessFieldCustom && d < 0 {
		a.cursor = len(a.options) - 1
		return a.focusField(accessFieldList)
	}
	if a.field+d >= accessFieldCount {
		return nil
	}
	return a.focusField(a.field + d)
}

func (a *accessScreen) nextAudience() {
	i := slices.Index(a.audiences, a.s.choices.Audience)
	a.s.choices.Audience = a.audiences[(i+1)%len(a.audiences)]
	a.apply()
}

// addCustom parses the custom entry with the same rules as --allow.
func (a *accessScreen) addCustom() {
	al, err := steps.ParseAllow(a.custom.Value())
	if err != nil {
		a.customErr = strings.TrimPrefix(err.Error(), "--allow ")
		return
	}
	a.customErr = ""
	a.addOption(al)
	a.selected[al.String()] = true
	a.custom.Reset()
	a.apply()
}

// updateInputs passes typing to the focused text field.
func (a *accessScreen) updateInputs(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch a.field {
	case accessFieldCustom:
		a.custom, cmd = a.custom.Update(msg)
	case accessFieldRole:
		before := a.role.Value()
		a.role, cmd = a.role.Update(msg)
		if a.role.Value() != before {
			a.roleEdited = strings.TrimSpace(a.role.Value()) != ""
			a.apply()
		}
	}
	return cmd
}

// next validates the answers and moves on to Permissions.
func (a *accessScreen) next() tea.Cmd {
	if name := strings.TrimSpace(a.role.Value()); a.roleEdited && !roleNamePattern.MatchString(name) {
		a.blocked = fmt.Sprintf("role name %q: IAM allows 1 to 64 of A-Z a-z 0-9 and +=,.@_-", name)
		return nil
	}
	if a.s.planErr != nil {
		a.blocked = a.s.planErr.Error()
		return nil
	}
	return navigate(stepPermissions)
}

func (a *accessScreen) keys() []key.Binding {
	k := a.s.keys
	next := k.Next
	next.SetHelp("enter", "permissions")
	switch a.field {
	case accessFieldList:
		return []key.Binding{k.Toggle, next, k.Field}
	case accessFieldCustom:
		add := k.Add
		return []key.Binding{add, k.Field}
	case accessFieldAudience:
		sw := k.Toggle
		sw.SetHelp("space", "switch")
		return []key.Binding{sw, next, k.Field}
	}
	return []key.Binding{next, k.Field}
}

// focusLine is the body line of the cursor, for scrolling.
func (a *accessScreen) focusLine() int {
	switch a.field {
	case accessFieldList:
		return 1 + a.cursor
	case accessFieldCustom:
		return 1 + len(a.options)
	}
	line := 3 + len(a.options) + a.field - accessFieldAudience
	if a.customErr != "" {
		line++
	}
	return line
}

func (a *accessScreen) view() string {
	st := a.s.st
	var b strings.Builder
	b.WriteString(st.heading.Render("Which jobs may use this role?") + st.subtle.Render("  (space selects; several allowed)") + "\n")
	labelW := 0
	for _, o := range a.options {
		labelW = max(labelW, len([]rune(o.label)))
	}
	for i, o := range a.options {
		on := a.field == accessFieldList && a.cursor == i
		note := st.subtle.Render(o.note)
		if o.warn {
			note = st.warning.Render(o.note)
		}
		b.WriteString(pointer(st, on) + radio(st, a.selected[o.allow.String()]) + " " + pad(o.label, labelW+2) + note + "\n")
	}
	b.WriteString(pointer(st, a.field == accessFieldCustom) + "+ " + inputView(a.custom, st) + "\n")
	if a.customErr != "" {
		b.WriteString("    " + st.err.Render("✗ "+a.customErr) + "\n")
	}
	b.WriteString("\n")
	var auds []string
	for _, aud := range a.audiences {
		label := aud
		if aud == a.s.conn.Issuer.URL {
			label += " (issuer)"
		}
		auds = append(auds, radio(st, aud == a.s.choices.Audience)+" "+label)
	}
	b.WriteString(pointer(st, a.field == accessFieldAudience) + pad(st.heading.Render("Audience"), 11) + strings.Join(auds, "   ") + "\n")
	b.WriteString(pointer(st, a.field == accessFieldRole) + pad(st.heading.Render("Role name"), 11) + inputView(a.role, st))
	if a.blocked != "" {
		b.WriteString("\n" + st.err.Render("✗ "+a.blocked))
	}
	return b.String() + "\n\n" + a.allowedView()
}

// allowedView shows the sub values the plan allows and says them in words.
func (a *accessScreen) allowedView() string {
	st := a.s.st
	if a.s.planErr != nil {
		return st.err.Render("✗ " + a.s.planErr.Error())
	}
	p := a.s.plan
	exact, like, err := p.SubValues()
	if err != nil {
		return st.err.Render("✗ " + err.Error())
	}
	var b strings.Builder
	b.WriteString(st.heading.Render("Allowed sub values") + "\n")
	for _, v := range exact {
		b.WriteString("  " + st.subtle.Render("StringEquals ") + v + "\n")
	}
	for _, v := range like {
		b.WriteString("  " + st.subtle.Render("StringLike   ") + v + "\n")
	}
	prefix := p.Instance.KeyPrefix()
	if p.Instance.IsGitLabCom() && p.PinProjectID && p.Project.ID != 0 {
		b.WriteString("  " + st.subtle.Render("and ") + fmt.Sprintf("%s:project_id = %q", prefix, fmt.Sprint(p.Project.ID)) + "\n")
	}
	if p.Instance.IsGitLabCom() && onlyProtected(p.Allow) {
		b.WriteString("  " + st.subtle.Render("and ") + prefix + `:ref_protected = "true"` + "\n")
	}
	b.WriteString(st.accent.Render("In words: ") + inWords(p))
	for _, w := range p.Warnings {
		b.WriteString("\n" + st.warning.Render("⚠ "+w))
	}
	return b.String()
}

// onlyProtected reports whether every allow is "any protected branch", the
// case where gitlab.com's ref_protected key is pinned too.
func onlyProtected(allow []steps.Allow) bool {
	for _, al := range allow {
		if al.Kind != steps.AllowProtected {
			return false
		}
	}
	return len(allow) > 0
}

// inWords says which pipelines may assume the role, in one sentence.
func inWords(p steps.Plan) string {
	var refs []string
	for _, al := range p.Allow {
		refs = append(refs, refPhrase(al))
	}
	var list string
	switch len(refs) {
	case 0:
		list = "nothing"
	case 1:
		list = refs[0]
	default:
		list = strings.Join(refs[:len(refs)-1], ", ") + " or " + refs[len(refs)-1]
	}
	who := "only pipelines of " + p.Project.Path
	if p.Project.ID != 0 {
		who += fmt.Sprintf(" (project %d)", p.Project.ID)
	}
	return who + " running on " + list + "."
}

// refPhrase says one allow as the object of "running on ...".
func refPhrase(al steps.Allow) string {
	switch {
	case al.Kind == steps.AllowProtected:
		return "any protected branch"
	case al.Pattern == "*":
		return "any " + al.Kind + " (any developer who can push)"
	case al.Wildcard() && al.Kind == steps.AllowTag:
		return "tags matching " + al.Pattern
	case al.Wildcard():
		return "branches matching " + al.Pattern
	case al.Kind == steps.AllowTag:
		return "tag " + al.Pattern
	default:
		return al.Pattern
	}
}
