package token

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultSubComponents is GitLab's sub claim when the project has not set
// ci_id_token_sub_claim_components.
var DefaultSubComponents = []string{"project_path", "ref_type", "ref"}

// AllowedSubComponents are the claims GitLab accepts in
// ci_id_token_sub_claim_components (environment_protected and deployment_tier
// since 18.7).
var AllowedSubComponents = []string{
	"project_path", "project_id", "ref_type", "ref", "ref_protected",
	"environment_protected", "deployment_tier",
}

// subLeaders are the components GitLab allows first.
var subLeaders = []string{"project_path", "project_id"}

// ValidateSubComponents applies GitLab's validation of a custom sub claim and
// returns its messages word for word, so that setup can refuse what the
// GitLab API would refuse.
func ValidateSubComponents(components []string) error {
	var errs []error
	if len(components) == 0 || !slices.Contains(subLeaders, components[0]) {
		errs = append(errs, errors.New("project_path or project_id must be the first element of the sub claim"))
	}
	for _, c := range components {
		if !slices.Contains(AllowedSubComponents, c) {
			errs = append(errs, fmt.Errorf("%s is not an allowed sub claim component", c))
		}
	}
	return errors.Join(errs...)
}

// BuildSub builds a sub claim the way GitLab does: each component becomes
// name:value, joined by ':'. GitLab drops components whose value is nil; in a
// map a missing key and an empty string both stand for that, since GitLab
// never emits an empty value for these claims.
func BuildSub(components []string, values map[string]string) string {
	var b strings.Builder
	for _, c := range components {
		v := values[c]
		if v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(c)
		b.WriteByte(':')
		b.WriteString(v)
	}
	return b.String()
}

// SubPart is one name:value component of a sub claim. Offset is the byte
// offset of Name in the sub, and End the offset just after Value, so that a
// display can highlight the part.
type SubPart struct {
	Name   string
	Value  string
	Offset int
	End    int
}

// ParseSub splits a sub claim into its name:value components. Values never
// contain ':' in a real sub (project paths and git ref names cannot), but
// patterns and hand-written subs may; so after a name the next field is
// always its value, and further fields are appended to that value until a
// field that is a known component name.
func ParseSub(sub string) []SubPart {
	if sub == "" {
		return nil
	}
	fields := strings.Split(sub, ":")
	var parts []SubPart
	pos := 0
	for i := 0; i < len(fields); {
		p := SubPart{Name: fields[i], Offset: pos}
		pos += len(fields[i]) + 1
		i++
		if i < len(fields) {
			p.Value = fields[i]
			pos += len(fields[i]) + 1
			i++
		}
		for i < len(fields) && !slices.Contains(AllowedSubComponents, fields[i]) {
			p.Value += ":" + fields[i]
			pos += len(fields[i]) + 1
			i++
		}
		p.End = min(pos-1, len(sub))
		parts = append(parts, p)
	}
	return parts
}

// SubValues gives the values of the sub claim components present in the
// claims, for BuildSub.
func (c Claims) SubValues() map[string]string {
	values := make(map[string]string, len(AllowedSubComponents))
	for _, name := range AllowedSubComponents {
		if v, ok := c.Value(name); ok && len(v) == 1 {
			values[name] = v[0]
		}
	}
	return values
}

// FirstDifference finds where two sub claims first differ: the byte offset
// (the same in both, since they share everything before it) and the name of
// the component that contains it, taken from a, or from b when a ends there.
// It returns ("", -1) when they are equal.
func FirstDifference(a, b string) (component string, offset int) {
	if a == b {
		return "", -1
	}
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	if c := componentAt(a, n); c != "" {
		return c, n
	}
	return componentAt(b, n), n
}

// componentAt names the component of sub that spans byte offset at
// (a separator belongs to the component after it), or "" past the end.
func componentAt(sub string, at int) string {
	if at >= len(sub) {
		return ""
	}
	for _, p := range ParseSub(sub) {
		if at < p.End {
			return p.Name
		}
	}
	return ""
}
