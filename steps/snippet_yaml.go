package steps

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// renderRules translates allowed refs into GitLab rules:if expressions. Exact
// names compare with ==; patterns become anchored regexes in which * matches
// any characters (also /, as in IAM's StringLike and GitLab's protected-ref
// wildcards) and ? one character.
func renderRules(rules []RefRule) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, r := range rules {
		var expr string
		switch r.Kind {
		case AllowProtected:
			expr = `$CI_COMMIT_REF_PROTECTED == "true"`
		case AllowBranch, AllowTag:
			if r.Pattern == "" {
				return nil, fmt.Errorf("snippet rule %s: the pattern is empty", r.Kind)
			}
			if strings.ContainsAny(r.Pattern, "\"\n") {
				return nil, fmt.Errorf("snippet rule %s:%s: a ref cannot contain quotes or newlines", r.Kind, r.Pattern)
			}
			v := "$CI_COMMIT_BRANCH"
			if r.Kind == AllowTag {
				v = "$CI_COMMIT_TAG"
			}
			if strings.ContainsAny(r.Pattern, "*?") {
				expr = fmt.Sprintf("%s =~ /%s/", v, globRegex(r.Pattern))
			} else {
				expr = fmt.Sprintf("%s == %q", v, r.Pattern)
			}
		default:
			return nil, fmt.Errorf("snippet rule kind %q: use branch, tag or protected", r.Kind)
		}
		if !seen[expr] {
			seen[expr] = true
			out = append(out, expr)
		}
	}
	return out, nil
}

// globRegex turns a ref glob into an anchored RE2 pattern for GitLab's =~,
// with the slash escaped because it delimits the pattern.
func globRegex(glob string) string {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '/':
			b.WriteString(`\/`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return b.String()
}

// yamlWriter writes block YAML by hand so that the file keeps comments and a
// stable layout; every scalar goes through scalar() so it parses back to
// exactly the intended string.
type yamlWriter struct{ sb strings.Builder }

func (w *yamlWriter) String() string { return w.sb.String() }

func (w *yamlWriter) blank() { w.sb.WriteByte('\n') }

func (w *yamlWriter) line(indent int, s string) {
	w.sb.WriteString(strings.Repeat("  ", indent))
	w.sb.WriteString(s)
	w.sb.WriteByte('\n')
}

func (w *yamlWriter) comment(indent int, s string) {
	w.line(indent, strings.TrimRight("# "+s, " "))
}

// kv writes "key: value". A value starting with [ is written as a flow
// sequence literally; everything else is a scalar.
func (w *yamlWriter) kv(indent int, key, value string) {
	if strings.HasPrefix(value, "[") {
		w.line(indent, key+": "+value)
		return
	}
	w.line(indent, key+": "+scalar(value))
}

func (w *yamlWriter) list(indent int, items []string) {
	for _, it := range items {
		w.line(indent, "- "+scalar(it))
	}
}

// scalar returns s as a plain YAML scalar when that parses back to the same
// string, and single-quoted otherwise (GitLab reads both alike).
func scalar(s string) string {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte("v: "+s), &m); err == nil {
		if back, ok := m["v"].(string); ok && back == s && !strings.Contains(s, "#") {
			return s
		}
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
