package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Name is how findings and errors refer to the statement: its Sid, or
// "statement #N" (1-based) when it has none.
func (s Statement) Name() string {
	if s.Sid != "" {
		return s.Sid
	}
	return "statement #" + strconv.Itoa(s.Index+1)
}

// Equivalent reports whether two documents mean the same thing (ignoring key
// order, string-vs-list, and value order inside a condition).
//
// Statements are compared as a multiset, ignoring their order, Sid and
// Index (none of which changes what IAM allows). Action names and condition
// keys compare case-insensitively, as IAM treats them; a bare 12-digit
// account in an AWS principal equals its ":root" ARN. Version and Id must
// be equal.
func Equivalent(a, b *Document) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Version != b.Version || a.ID != b.ID || len(a.Statements) != len(b.Statements) {
		return false
	}
	ka := make([]string, len(a.Statements))
	kb := make([]string, len(b.Statements))
	for i := range a.Statements {
		ka[i] = canonical(a.Statements[i])
		kb[i] = canonical(b.Statements[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// ContainsStatement reports whether d already has a statement equivalent to s.
func ContainsStatement(d *Document, s Statement) bool {
	if d == nil {
		return false
	}
	want := canonical(s)
	for _, st := range d.Statements {
		if canonical(st) == want {
			return true
		}
	}
	return false
}

// AddStatement returns a copy of d with s appended (Sid made unique), leaving
// every existing statement intact.
//
// A clashing Sid gets the smallest numeric suffix that makes it unique
// ("GitLab" becomes "GitLab2"): IAM rejects duplicate Sids, and renaming the
// new statement never disturbs what already works. A nil d yields a new
// 2012-10-17 document.
func AddStatement(d *Document, s Statement) *Document {
	out := Clone(d)
	if out == nil {
		out = &Document{Version: "2012-10-17"}
	}
	ns := cloneStatement(s)
	ns.Index = len(out.Statements)
	if ns.Sid != "" {
		taken := map[string]bool{}
		for _, st := range out.Statements {
			taken[st.Sid] = true
		}
		base := ns.Sid
		for n := 2; taken[ns.Sid]; n++ {
			ns.Sid = base + strconv.Itoa(n)
		}
	}
	out.Statements = append(out.Statements, ns)
	return out
}

// Clone returns a deep copy of d, so callers can change it without touching
// the original.
func Clone(d *Document) *Document {
	if d == nil {
		return nil
	}
	out := &Document{Version: d.Version, ID: d.ID, Warnings: slices.Clone(d.Warnings)}
	for _, st := range d.Statements {
		out.Statements = append(out.Statements, cloneStatement(st))
	}
	return out
}

func cloneStatement(s Statement) Statement {
	out := s
	out.Principal = clonePrincipal(s.Principal)
	out.NotPrincipal = clonePrincipal(s.NotPrincipal)
	out.Actions = slices.Clone(s.Actions)
	out.NotActions = slices.Clone(s.NotActions)
	out.Resources = slices.Clone(s.Resources)
	out.NotResources = slices.Clone(s.NotResources)
	out.Conditions = nil
	for _, c := range s.Conditions {
		c.Values = slices.Clone(c.Values)
		out.Conditions = append(out.Conditions, c)
	}
	return out
}

func clonePrincipal(p *Principal) *Principal {
	if p == nil {
		return nil
	}
	return &Principal{
		Any:           p.Any,
		AWS:           slices.Clone(p.AWS),
		CanonicalUser: slices.Clone(p.CanonicalUser),
		Federated:     slices.Clone(p.Federated),
		Service:       slices.Clone(p.Service),
	}
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// canonical renders what a statement means as a string: equal strings,
// equal meaning.
func canonical(s Statement) string {
	var b strings.Builder
	fmt.Fprintf(&b, "E=%s\n", s.Effect)
	fmt.Fprintf(&b, "P=%s\nNP=%s\n", canonicalPrincipal(s.Principal), canonicalPrincipal(s.NotPrincipal))
	fmt.Fprintf(&b, "A=%s\nNA=%s\n", set(s.Actions, true), set(s.NotActions, true))
	fmt.Fprintf(&b, "R=%s\nNR=%s\n", set(s.Resources, false), set(s.NotResources, false))
	conds := make([]string, 0, len(s.Conditions))
	for _, c := range s.Conditions {
		conds = append(conds, fmt.Sprintf("%q %q %s", c.Operator, strings.ToLower(c.Key), set(c.Values, false)))
	}
	slices.Sort(conds)
	b.WriteString(strings.Join(conds, "\n"))
	return b.String()
}

func canonicalPrincipal(p *Principal) string {
	if p == nil {
		return "-"
	}
	if p.Any {
		return "*"
	}
	aws := make([]string, len(p.AWS))
	for i, a := range p.AWS {
		if accountID.MatchString(a) {
			a = "arn:aws:iam::" + a + ":root"
		}
		aws[i] = a
	}
	return fmt.Sprintf("AWS%s CU%s F%s S%s", set(aws, false), set(p.CanonicalUser, false), set(p.Federated, false), set(p.Service, false))
}

// set renders a list as a sorted, de-duplicated set; nil (absent) differs
// from empty.
func set(list []string, fold bool) string {
	if list == nil {
		return "-"
	}
	s := make([]string, len(list))
	for i, v := range list {
		if fold {
			v = strings.ToLower(v)
		}
		s[i] = strconv.Quote(v)
	}
	slices.Sort(s)
	return "[" + strings.Join(slices.Compact(s), ",") + "]"
}
