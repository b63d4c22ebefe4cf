package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"gitlab-oidc/internal/policy"
)

// BlastRadius says in words who can assume a role through its trust
// policy: one phrase per GitLab statement, joined with "; ". A platform
// team reads this column first, so it names projects and refs rather than
// conditions ("every project on gitlab.com", "acme/app on branch main").
// It is empty when no statement trusts a GitLab provider.
func BlastRadius(doc *policy.Document, opts AuditOptions) string {
	var parts []string
	for _, ts := range gitlabStatements(doc, opts) {
		if w := ts.radiusWords(); !slices.Contains(parts, w) {
			parts = append(parts, w)
		}
	}
	return strings.Join(parts, "; ")
}

// radiusWords describes who one statement admits.
func (ts trustStatement) radiusWords() string {
	var who []string
	for _, c := range ts.subs {
		like := policy.ParseOperator(c.Operator).Base == "StringLike"
		for _, v := range c.Values {
			if w := ts.subWords(v, classifySub(v, like)); !slices.Contains(who, w) {
				who = append(who, w)
			}
		}
	}
	if len(who) == 0 {
		who = []string{ts.noSubWords()}
	}
	s := strings.Join(who, ", ")
	if ts.protected {
		s += " (protected refs only)"
	}
	return s
}

// noSubWords is the radius of a statement without a sub condition: the
// whole instance unless gitlab.com's project_id or namespace_id narrows it.
func (ts trustStatement) noSubWords() string {
	switch {
	case len(ts.projectIDs) > 0:
		return "any branch or tag of project ID " + strings.Join(ts.projectIDs, " or ")
	case len(ts.namespaceIDs) > 0:
		return "every project directly in namespace ID " + strings.Join(ts.namespaceIDs, " or ")
	}
	return "any project on " + ts.host
}

// subWords describes one allowed sub value.
func (ts trustStatement) subWords(v string, shape subShape) string {
	switch {
	case shape.kind == subBroad && len(ts.projectIDs) > 0:
		return "any branch or tag of project ID " + strings.Join(ts.projectIDs, " or ")
	case shape.kind == subBroad:
		return shape.radius(ts.host)
	case shape.kind == subAnyRef:
		return strings.TrimSuffix(shape.radius(ts.host), ",")
	case shape.lead == "":
		return fmt.Sprintf("sub %q", v) // custom sub components: say it as written
	}
	project := shape.project
	if shape.lead == "project_id:" {
		project = "project ID " + project
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(v, shape.lead+shape.project), ":")
	if rest == "" {
		return project
	}
	return project + " on " + refWords(rest)
}

// refWords turns the ref part of a default sub ("ref_type:branch:ref:main")
// into "branch main"; other shapes are returned as written.
func refWords(rest string) string {
	t, after, ok := strings.Cut(strings.TrimPrefix(rest, "ref_type:"), ":ref:")
	if !ok || !strings.HasPrefix(rest, "ref_type:") {
		return rest
	}
	if strings.ContainsAny(after, "*?") {
		plural := map[string]string{"branch": "branches", "tag": "tags"}[t]
		if plural == "" {
			plural = t + " refs"
		}
		return plural + " matching " + after
	}
	return t + " " + after
}
