package policy

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Parse reads a policy document from JSON. It also accepts the URL-encoded
// form that IAM's GetRole returns. Errors say what is wrong and where.
//
// Parse is as strict as IAM about the grammar (element names and Effect are
// case-sensitive, Action and NotAction are exclusive) so that a document it
// accepts is one IAM would accept too. Things IAM accepts but that are likely
// mistakes, like duplicate JSON keys, become Document.Warnings.
func Parse(data []byte) (*Document, error) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return nil, errors.New("parse policy: the document is empty")
	}
	if data[0] == '%' {
		return parseEncoded(data)
	}
	return parseJSON(data)
}

// parseEncoded decodes the percent-encoded document IAM returns from GetRole
// and ListRoles. Percent-decoding keeps '+' (IAM encodes a literal plus as
// %2B and spaces as %20); form decoding, where '+' is a space, is the
// fallback for tools that encoded it that way.
func parseEncoded(data []byte) (*Document, error) {
	plain, err := url.PathUnescape(string(data))
	if err != nil {
		return nil, fmt.Errorf("parse policy: the document looks URL-encoded but does not decode: %v", err)
	}
	doc, err := parseJSON([]byte(plain))
	if err == nil || !strings.Contains(plain, "+") {
		return doc, err
	}
	if form, ferr := url.QueryUnescape(string(data)); ferr == nil {
		if doc, ferr := parseJSON([]byte(form)); ferr == nil {
			return doc, nil
		}
	}
	return nil, err
}

func parseJSON(data []byte) (*Document, error) {
	tree, err := parseTree(data)
	if err != nil {
		return nil, fmt.Errorf("parse policy: %w", err)
	}
	p := &parser{}
	doc, err := p.document(tree)
	if err != nil {
		return nil, fmt.Errorf("parse policy: %w", err)
	}
	doc.Warnings = p.warnings
	return doc, nil
}

type parser struct {
	warnings []string
}

func (p *parser) warnf(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

// warnDups records duplicate keys of an object found at where.
func (p *parser) warnDups(n node, where string) []member {
	members, dups := n.dedup()
	for _, k := range dups {
		msg := fmt.Sprintf("%s: key %q appears more than once; IAM keeps only the last one", where, k)
		if lost := n.dropped(k); len(lost) > 0 {
			msg += fmt.Sprintf(", so the earlier %s are ignored (merge them into one block)", quoteList(lost))
		}
		p.warnings = append(p.warnings, msg)
	}
	return members
}

func (p *parser) document(n node) (*Document, error) {
	if n.kind != kindObject {
		return nil, fmt.Errorf("the document must be a JSON object, got %s", n.kind)
	}
	doc := &Document{}
	haveStatement := false
	for _, m := range p.warnDups(n, "document") {
		switch m.key {
		case "Version":
			if m.val.kind != kindString {
				return nil, fmt.Errorf("the Version element must be a string, got %s", m.val.kind)
			}
			if m.val.text != "2012-10-17" && m.val.text != "2008-10-17" {
				return nil, fmt.Errorf("the Version element must be \"2012-10-17\" (or the older \"2008-10-17\"), got %q", m.val.text)
			}
			doc.Version = m.val.text
		case "Id":
			if m.val.kind != kindString {
				return nil, fmt.Errorf("the Id element must be a string, got %s", m.val.kind)
			}
			doc.ID = m.val.text
		case "Statement":
			haveStatement = true
			items := []node{m.val}
			if m.val.kind == kindArray {
				items = m.val.items
			}
			for i, item := range items {
				st, err := p.statement(item, i)
				if err != nil {
					return nil, err
				}
				doc.Statements = append(doc.Statements, st)
			}
		default:
			return nil, fmt.Errorf("unknown top-level element %q (IAM accepts Version, Id and Statement, case-sensitively)", m.key)
		}
	}
	if !haveStatement {
		return nil, errors.New("the document has no Statement element")
	}
	return doc, nil
}

func (p *parser) statement(n node, index int) (Statement, error) {
	st := Statement{Index: index}
	where := fmt.Sprintf("statement %d", index+1)
	if n.kind != kindObject {
		return st, fmt.Errorf("%s: must be an object, got %s", where, n.kind)
	}
	members := p.warnDups(n, where)
	for _, m := range members {
		if m.key == "Sid" {
			if m.val.kind != kindString {
				return st, fmt.Errorf("%s: Sid must be a string, got %s", where, m.val.kind)
			}
			st.Sid = m.val.text
			where = fmt.Sprintf("statement %d (Sid %q)", index+1, st.Sid)
		}
	}
	var err error
	for _, m := range members {
		switch m.key {
		case "Sid":
		case "Effect":
			if m.val.kind != kindString || (m.val.text != "Allow" && m.val.text != "Deny") {
				return st, fmt.Errorf("%s: Effect must be \"Allow\" or \"Deny\" (case-sensitive), got %s", where, describe(m.val))
			}
			st.Effect = m.val.text
		case "Principal", "NotPrincipal":
			var pr *Principal
			if pr, err = p.principal(m.val, where+": "+m.key); err != nil {
				return st, err
			}
			if m.key == "Principal" {
				st.Principal = pr
			} else {
				st.NotPrincipal = pr
			}
		case "Action":
			st.Actions, err = stringList(m.val, where+": Action")
		case "NotAction":
			st.NotActions, err = stringList(m.val, where+": NotAction")
		case "Resource":
			st.Resources, err = stringList(m.val, where+": Resource")
		case "NotResource":
			st.NotResources, err = stringList(m.val, where+": NotResource")
		case "Condition":
			st.Conditions, err = p.conditions(m.val, where)
		default:
			return st, fmt.Errorf("%s: unknown element %q (IAM accepts Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource and Condition, case-sensitively)", where, m.key)
		}
		if err != nil {
			return st, err
		}
	}
	switch {
	case st.Effect == "":
		return st, fmt.Errorf("%s: Effect is missing (must be \"Allow\" or \"Deny\")", where)
	case st.Actions == nil && st.NotActions == nil:
		return st, fmt.Errorf("%s: needs an Action or a NotAction element", where)
	case st.Actions != nil && st.NotActions != nil:
		return st, fmt.Errorf("%s: has both Action and NotAction; IAM allows only one", where)
	case st.Principal != nil && st.NotPrincipal != nil:
		return st, fmt.Errorf("%s: has both Principal and NotPrincipal; IAM allows only one", where)
	case st.Resources != nil && st.NotResources != nil:
		return st, fmt.Errorf("%s: has both Resource and NotResource; IAM allows only one", where)
	}
	return st, nil
}

func (p *parser) principal(n node, where string) (*Principal, error) {
	if n.kind == kindString {
		if n.text == "*" {
			return &Principal{Any: true}, nil
		}
		return nil, fmt.Errorf("%s: a plain string must be \"*\"; name principals as an object such as {\"Federated\": \"arn:aws:iam::123456789012:oidc-provider/gitlab.com\"}, got %q", where, n.text)
	}
	if n.kind != kindObject {
		return nil, fmt.Errorf("%s: must be \"*\" or an object, got %s", where, n.kind)
	}
	pr := &Principal{}
	for _, m := range p.warnDups(n, where) {
		vals, err := stringList(m.val, where+"."+m.key)
		if err != nil {
			return nil, err
		}
		switch m.key {
		case "AWS":
			pr.AWS = vals
		case "CanonicalUser":
			pr.CanonicalUser = vals
		case "Federated":
			pr.Federated = vals
		case "Service":
			pr.Service = vals
		default:
			return nil, fmt.Errorf("%s: unknown principal type %q (IAM accepts AWS, CanonicalUser, Federated and Service)", where, m.key)
		}
	}
	return pr, nil
}

// conditions flattens a Condition block into one Condition per operator and
// key, in document order.
func (p *parser) conditions(n node, where string) ([]Condition, error) {
	if n.kind != kindObject {
		return nil, fmt.Errorf("%s: Condition must be an object of operators, got %s", where, n.kind)
	}
	var out []Condition
	for _, op := range p.warnDups(n, where+": Condition") {
		opWhere := fmt.Sprintf("%s: Condition %q", where, op.key)
		if op.val.kind != kindObject {
			return nil, fmt.Errorf("%s: must be an object of condition keys, got %s", opWhere, op.val.kind)
		}
		if !ParseOperator(op.key).Known {
			p.warnf("%s: unknown condition operator; IAM rejects the policy (operators are case-sensitive, e.g. StringEquals, StringLike)", opWhere)
		}
		for _, k := range p.warnDups(op.val, opWhere) {
			vals, err := conditionValues(k.val, fmt.Sprintf("%s key %q", opWhere, k.key))
			if err != nil {
				return nil, err
			}
			out = append(out, Condition{Operator: op.key, Key: k.key, Values: vals})
		}
	}
	return out, nil
}

// stringList accepts IAM's string-or-list of strings.
func stringList(n node, where string) ([]string, error) {
	switch n.kind {
	case kindString:
		return []string{n.text}, nil
	case kindArray:
		out := make([]string, 0, len(n.items))
		for i, item := range n.items {
			if item.kind != kindString {
				return nil, fmt.Errorf("%s: item %d must be a string, got %s", where, i+1, item.kind)
			}
			out = append(out, item.text)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: must be a string or a list of strings, got %s", where, n.kind)
}

// conditionValues accepts a scalar or a list of scalars. Numbers and
// booleans keep their JSON text: IAM compares "12" and 12 alike.
func conditionValues(n node, where string) ([]string, error) {
	scalar := func(v node) bool {
		return v.kind == kindString || v.kind == kindNumber || v.kind == kindBool
	}
	if scalar(n) {
		return []string{n.text}, nil
	}
	if n.kind != kindArray {
		return nil, fmt.Errorf("%s: value must be a string, number, boolean or a list of them, got %s", where, n.kind)
	}
	out := make([]string, 0, len(n.items))
	for i, item := range n.items {
		if !scalar(item) {
			return nil, fmt.Errorf("%s: item %d must be a string, number or boolean, got %s", where, i+1, item.kind)
		}
		out = append(out, item.text)
	}
	return out, nil
}

func describe(n node) string {
	if n.kind == kindString {
		return fmt.Sprintf("%q", n.text)
	}
	return n.kind.String()
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "conditions on " + strings.Join(q, ", ")
}
