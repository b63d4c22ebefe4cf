package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Marshal renders the document as indented JSON in IAM's canonical shape
// (single values as strings, lists as arrays), keys in a stable order.
//
// The order is Version, Id, Statement; within a statement Sid, Effect,
// Principal, NotPrincipal, Action, NotAction, Resource, NotResource,
// Condition; condition operators and keys are sorted. Statement is always a
// list. Two conditions with the same operator and key cannot be written
// (they would be a duplicate JSON key, and IAM would keep only the last), so
// Marshal refuses them instead of silently dropping one.
func Marshal(d *Document) ([]byte, error) {
	if d == nil {
		return nil, fmt.Errorf("marshal policy: the document is nil")
	}
	out := jsonDoc{Version: d.Version, ID: d.ID, Statement: make([]jsonStmt, 0, len(d.Statements))}
	for i, st := range d.Statements {
		js := jsonStmt{
			Sid:          st.Sid,
			Effect:       st.Effect,
			Principal:    principalJSON(st.Principal),
			NotPrincipal: principalJSON(st.NotPrincipal),
			Action:       optList(st.Actions),
			NotAction:    optList(st.NotActions),
			Resource:     optList(st.Resources),
			NotResource:  optList(st.NotResources),
		}
		for _, c := range st.Conditions {
			if js.Condition == nil {
				js.Condition = map[string]map[string]strList{}
			}
			block := js.Condition[c.Operator]
			if block == nil {
				block = map[string]strList{}
				js.Condition[c.Operator] = block
			}
			if _, dup := block[c.Key]; dup {
				return nil, fmt.Errorf("marshal policy: statement %d has two %s conditions on %q; merge their values into one list", i+1, c.Operator, c.Key)
			}
			block[c.Key] = strList(c.Values)
		}
		out.Statement = append(out.Statement, js)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("marshal policy: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// jsonDoc and jsonStmt fix the element order through their field order;
// encoding/json sorts the condition maps' keys.
type jsonDoc struct {
	Version   string     `json:"Version,omitempty"`
	ID        string     `json:"Id,omitempty"`
	Statement []jsonStmt `json:"Statement"`
}

type jsonStmt struct {
	Sid          string                        `json:"Sid,omitempty"`
	Effect       string                        `json:"Effect"`
	Principal    any                           `json:"Principal,omitempty"`
	NotPrincipal any                           `json:"NotPrincipal,omitempty"`
	Action       *strList                      `json:"Action,omitempty"`
	NotAction    *strList                      `json:"NotAction,omitempty"`
	Resource     *strList                      `json:"Resource,omitempty"`
	NotResource  *strList                      `json:"NotResource,omitempty"`
	Condition    map[string]map[string]strList `json:"Condition,omitempty"`
}

type jsonPrincipal struct {
	AWS           strList `json:"AWS,omitempty"`
	CanonicalUser strList `json:"CanonicalUser,omitempty"`
	Federated     strList `json:"Federated,omitempty"`
	Service       strList `json:"Service,omitempty"`
}

// principalJSON returns nil for no principal (so omitempty drops it), "*"
// for Any, otherwise the typed object.
func principalJSON(p *Principal) any {
	switch {
	case p == nil:
		return nil
	case p.Any:
		return "*"
	}
	return jsonPrincipal{AWS: p.AWS, CanonicalUser: p.CanonicalUser, Federated: p.Federated, Service: p.Service}
}

// strList is written as a plain string when it has exactly one value, as
// IAM itself does, and as an array otherwise.
type strList []string

// optList keeps the difference between an absent element (nil, omitted)
// and an empty list (written as []).
func optList(l []string) *strList {
	if l == nil {
		return nil
	}
	s := strList(l)
	return &s
}

// MarshalJSON implements json.Marshaler.
func (l strList) MarshalJSON() ([]byte, error) {
	if len(l) == 1 {
		return marshalNoEscape(l[0])
	}
	if l == nil {
		l = strList{}
	}
	return marshalNoEscape([]string(l))
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
