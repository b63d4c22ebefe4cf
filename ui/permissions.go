package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/steps"
)

// adminPolicySuffix identifies AdministratorAccess in any partition.
const adminPolicySuffix = ":iam::aws:policy/AdministratorAccess"

// Row kinds of the Permissions screen, in display order.
const (
	permRowInput = iota
	permRowPolicy
	permRowTemplate
	permRowParam
	permRowSession
)

// permRow is one focusable row: the ARN entry, an added ARN, a template,
// one of a chosen template's parameters, or the session length.
type permRow struct {
	kind  int
	index int // policy or template index
	param int // parameter index for permRowParam
}

// permissionsScreen chooses what the role may do: managed policy ARNs and
// templates with their parameters, plus the maximum session length.
type permissionsScreen struct {
	s         *session
	input     textinput.Model
	inputErr  string
	policies  []string
	templates []steps.TemplateInfo
	chosen    map[string]bool
	params    map[string][]textinput.Model
	hours     int32
	cursor    int
	// adminStage counts AdministratorAccess confirmations (0 none pending,
	// 1 after the first question, 2 after the second).
	adminStage int
	adminARN   string
	blocked    string
}

func newPermissionsScreen(s *session) *permissionsScreen {
	p := &permissionsScreen{
		s:         s,
		input:     newInput(s.st, "arn:aws:iam::aws:policy/…"),
		policies:  append([]string(nil), s.choices.PolicyARNs...),
		templates: s.backend.Templates(),
		chosen:    map[string]bool{},
		params:    map[string][]textinput.Model{},
		hours:     max(1, s.choices.MaxSessionSeconds/3600),
	}
	for _, t := range p.templates {
		ins := make([]textinput.Model, len(t.Params))
		for i, name := range t.Params {
			ins[i] = newInput(s.st, name)
			ins[i].Prompt = name + " > "
		}
		p.params[t.ID] = ins
	}
	for _, tc := range s.choices.Templates {
		p.chosen[tc.ID] = true
		for i, name := range p.paramNames(tc.ID) {
			p.params[tc.ID][i].SetValue(tc.Params[name])
		}
	}
	return p
}

func (p *permissionsScreen) paramNames(id string) []string {
	for _, t := range p.templates {
		if t.ID == id {
			return t.Params
		}
	}
	return nil
}

// rows lists the focusable rows for the current state.
func (p *permissionsScreen) rows() []permRow {
	rows := []permRow{{kind: permRowInput}}
	for i := range p.policies {
		rows = append(rows, permRow{kind: permRowPolicy, index: i})
	}
	for i, t := range p.templates {
		rows = append(rows, permRow{kind: permRowTemplate, index: i})
		if p.chosen[t.ID] {
			for j := range t.Params {
				rows = append(rows, permRow{kind: permRowParam, index: i, param: j})
			}
		}
	}
	return append(rows, permRow{kind: permRowSession})
}

func (p *permissionsScreen) current() permRow {
	rows := p.rows()
	p.cursor = min(max(0, p.cursor), len(rows)-1)
	return rows[p.cursor]
}

// field returns the text field of a row, if it has one.
func (p *permissionsScreen) field(r permRow) *textinput.Model {
	switch r.kind {
	case permRowInput:
		return &p.input
	case permRowParam:
		return &p.params[p.templates[r.index].ID][r.param]
	}
	return nil
}

func (p *permissionsScreen) init() tea.Cmd {
	p.apply()
	return p.focus(p.cursor)
}

func (p *permissionsScreen) typing() bool {
	return p.adminStage > 0 || p.field(p.current()) != nil
}

// focus moves the cursor and gives the row's text field (if any) the focus.
func (p *permissionsScreen) focus(i int) tea.Cmd {
	if f := p.field(p.current()); f != nil {
		f.Blur()
	}
	p.cursor = i
	if f := p.field(p.current()); f != nil {
		return f.Focus()
	}
	return nil
}

// apply writes the answers into the shared choices and re-plans.
func (p *permissionsScreen) apply() {
	ch := &p.s.choices
	ch.PolicyARNs = append([]string(nil), p.policies...)
	ch.MaxSessionSeconds = p.hours * 3600
	ch.Templates = nil
	for _, t := range p.templates {
		if !p.chosen[t.ID] {
			continue
		}
		tc := steps.TemplateChoice{ID: t.ID, Params: map[string]string{}}
		for i, name := range t.Params {
			tc.Params[name] = strings.TrimSpace(p.params[t.ID][i].Value())
		}
		ch.Templates = append(ch.Templates, tc)
	}
	p.s.replan()
}

func (p *permissionsScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	k := p.s.keys
	km, isKey := msg.(tea.KeyPressMsg)
	if !isKey {
		return p, p.updateField(msg)
	}
	if p.adminStage > 0 {
		p.confirmAdmin(key.Matches(km, k.Confirm))
		return p, nil
	}
	p.blocked = ""
	row := p.current()
	switch {
	case key.Matches(km, k.Field), key.Matches(km, k.Down):
		return p, p.focus(min(p.cursor+1, len(p.rows())-1))
	case key.Matches(km, k.PrevField), key.Matches(km, k.Up):
		return p, p.focus(max(p.cursor-1, 0))
	case key.Matches(km, k.Next) && row.kind == permRowInput && strings.TrimSpace(p.input.Value()) != "":
		p.addPolicy(strings.TrimSpace(p.input.Value()))
		return p, nil
	case key.Matches(km, k.Next):
		return p, p.next()
	case row.kind == permRowPolicy && key.Matches(km, k.Remove):
		p.policies = append(p.policies[:row.index], p.policies[row.index+1:]...)
		p.apply()
		return p, p.focus(p.cursor)
	case row.kind == permRowTemplate && key.Matches(km, k.Toggle):
		id := p.templates[row.index].ID
		p.chosen[id] = !p.chosen[id]
		p.apply()
		return p, nil
	case row.kind == permRowSession && key.Matches(km, k.Longer):
		p.hours = min(12, p.hours+1)
		p.apply()
		return p, nil
	case row.kind == permRowSession && key.Matches(km, k.Shorter):
		p.hours = max(1, p.hours-1)
		p.apply()
		return p, nil
	}
	return p, p.updateField(msg)
}

func (p *permissionsScreen) updateField(msg tea.Msg) tea.Cmd {
	f := p.field(p.current())
	if f == nil {
		return nil
	}
	before := f.Value()
	var cmd tea.Cmd
	*f, cmd = f.Update(msg)
	if f.Value() != before && p.current().kind == permRowParam {
		p.apply()
	}
	return cmd
}

// addPolicy checks an ARN and adds it; AdministratorAccess first asks twice.
func (p *permissionsScreen) addPolicy(arn string) {
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":policy/") {
		p.inputErr = fmt.Sprintf("%q is not a policy ARN: expected arn:aws:iam::ACCOUNT:policy/NAME (aws for AWS managed)", arn)
		return
	}
	p.inputErr = ""
	for _, have := range p.policies {
		if have == arn {
			p.input.Reset()
			return
		}
	}
	if strings.HasSuffix(arn, adminPolicySuffix) {
		p.adminStage, p.adminARN = 1, arn
		return
	}
	p.policies = append(p.policies, arn)
	p.input.Reset()
	p.apply()
}

// confirmAdmin takes one answer to the AdministratorAccess question: two
// yeses add the policy, anything else drops it.
func (p *permissionsScreen) confirmAdmin(yes bool) {
	if !yes {
		p.adminStage, p.adminARN = 0, ""
		p.inputErr = "AdministratorAccess was not added."
		return
	}
	if p.adminStage == 1 {
		p.adminStage = 2
		return
	}
	p.policies = append(p.policies, p.adminARN)
	p.adminStage, p.adminARN = 0, ""
	p.input.Reset()
	p.apply()
}

// next checks that every chosen template has its parameters, then goes on
// to Review.
func (p *permissionsScreen) next() tea.Cmd {
	for _, tc := range p.s.choices.Templates {
		for _, name := range p.paramNames(tc.ID) {
			if tc.Params[name] == "" {
				p.blocked = fmt.Sprintf("template %s needs %s", tc.ID, name)
				return nil
			}
		}
	}
	if p.s.planErr != nil {
		p.blocked = p.s.planErr.Error()
		return nil
	}
	return navigate(stepReview)
}

func (p *permissionsScreen) keys() []key.Binding {
	k := p.s.keys
	if p.adminStage > 0 {
		return []key.Binding{k.Confirm}
	}
	next := k.Next
	next.SetHelp("enter", "review")
	switch p.current().kind {
	case permRowInput:
		return []key.Binding{k.Add, k.Field}
	case permRowPolicy:
		return []key.Binding{k.Remove, next, k.Field}
	case permRowTemplate:
		return []key.Binding{k.Toggle, next, k.Field}
	case permRowSession:
		return []key.Binding{k.Longer, next, k.Field}
	}
	return []key.Binding{next, k.Field}
}

// focusLine is the body line of the cursor, for scrolling: rows map to
// lines in order after the heading, with the templates heading between.
func (p *permissionsScreen) focusLine() int {
	line := 1
	for i, r := range p.rows() {
		if r.kind == permRowTemplate && r.index == 0 {
			line += 2
		}
		if r.kind == permRowSession {
			line++
		}
		if i == p.cursor {
			return line
		}
		line++
		if r.kind == permRowTemplate {
			line++ // its description
		}
		if r.kind == permRowInput && p.inputErr != "" {
			line++
		}
	}
	return line
}

func (p *permissionsScreen) view() string {
	st := p.s.st
	var b strings.Builder
	b.WriteString(st.heading.Render("Managed policies") + st.subtle.Render("  (by ARN; enter adds)") + "\n")
	rows := p.rows()
	for i, r := range rows {
		on := i == p.cursor && p.adminStage == 0
		switch r.kind {
		case permRowInput:
			b.WriteString(pointer(st, on) + inputView(p.input, st) + "\n")
			if p.inputErr != "" {
				b.WriteString("    " + st.err.Render("✗ "+p.inputErr) + "\n")
			}
		case permRowPolicy:
			arn := p.policies[r.index]
			line := st.success.Render("✓") + " " + arn
			if strings.HasSuffix(arn, adminPolicySuffix) {
				line += " " + st.warning.Render("⚠ full access")
			}
			b.WriteString(pointer(st, on) + "  " + line + "\n")
		case permRowTemplate:
			if r.index == 0 {
				b.WriteString("\n" + st.heading.Render("Templates") + st.subtle.Render("  (inline policies for one resource)") + "\n")
			}
			t := p.templates[r.index]
			// The description gets its own dim line: titles differ in
			// length, and side by side they ran into each other.
			b.WriteString(pointer(st, on) + radio(st, p.chosen[t.ID]) + " " + t.Title + "\n")
			b.WriteString("    " + st.subtle.Render(t.Description) + "\n")
		case permRowParam:
			in := p.params[p.templates[r.index].ID][r.param]
			b.WriteString(pointer(st, on) + "    " + inputView(in, st) + "\n")
		case permRowSession:
			b.WriteString("\n" + pointer(st, on) + st.heading.Render("Max session") + fmt.Sprintf("  %d h", p.hours) + st.subtle.Render("  (+/- changes; 1 to 12 h)") + "\n")
		}
	}
	if p.adminStage > 0 {
		b.WriteString("\n" + p.adminQuestion())
	} else if len(p.policies) == 0 && len(p.s.choices.Templates) == 0 {
		b.WriteString("\n" + st.subtle.Render("No permissions yet: the role will be assumable but can do nothing until you attach some."))
	}
	if p.blocked != "" {
		b.WriteString("\n" + st.err.Render("✗ "+p.blocked))
	}
	return strings.TrimRight(b.String(), "\n")
}

// adminQuestion is the confirmation text for AdministratorAccess.
func (p *permissionsScreen) adminQuestion() string {
	st := p.s.st
	scope := "the pipelines allowed on the Access screen"
	if p.s.planErr == nil {
		scope = inWordsShort(p.s.plan)
	}
	acct := "this account"
	if p.s.conn != nil {
		acct = "account " + p.s.conn.AWS.Account
	}
	if p.adminStage == 1 {
		return st.warning.Render(fmt.Sprintf("⚠ AdministratorAccess lets %s do anything in %s, including deleting it.", scope, acct)) +
			"\n" + st.bold.Render("Attach it anyway? y confirms (1 of 2), any other key cancels.")
	}
	return st.err.Render("⚠ Second confirmation: a leaked job token or a malicious commit on an allowed ref gets full admin.") +
		"\n" + st.bold.Render("Really attach AdministratorAccess? y confirms (2 of 2), any other key cancels.")
}

// inWordsShort names the allowed pipelines without the sentence frame.
func inWordsShort(p steps.Plan) string {
	s := strings.TrimSuffix(inWords(p), ".")
	return strings.TrimPrefix(s, "only ")
}
