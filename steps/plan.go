package steps

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token"
)

// Allow kinds: which refs' jobs may assume the role.
const (
	AllowBranch    = "branch"    // a branch name or pattern
	AllowTag       = "tag"       // a tag name or pattern
	AllowProtected = "protected" // any protected branch
)

// Allow is one parsed --allow spec.
type Allow struct {
	Kind    string `json:"kind"`
	Pattern string `json:"pattern,omitempty"` // empty for AllowProtected
}

// ParseAllow parses "branch:main", "tag:v*", "branch:*" or "protected".
func ParseAllow(spec string) (Allow, error) {
	spec = strings.TrimSpace(spec)
	if spec == AllowProtected {
		return Allow{Kind: AllowProtected}, nil
	}
	kind, pattern, ok := strings.Cut(spec, ":")
	if !ok || (kind != AllowBranch && kind != AllowTag) {
		return Allow{}, fmt.Errorf("--allow %q: expected branch:NAME, tag:NAME (NAME may use * and ?) or protected", spec)
	}
	if pattern == "" {
		return Allow{}, fmt.Errorf("--allow %q: the %s name is empty; use %s:* for any %s (not recommended)", spec, kind, kind, kind)
	}
	if strings.ContainsAny(pattern, ": \t\n\\~^[") {
		return Allow{}, fmt.Errorf("--allow %q: %q is not a valid git ref name or pattern", spec, pattern)
	}
	return Allow{Kind: kind, Pattern: pattern}, nil
}

// String renders the allow back in --allow syntax.
func (a Allow) String() string {
	if a.Kind == AllowProtected {
		return AllowProtected
	}
	return a.Kind + ":" + a.Pattern
}

// Wildcard reports whether the allow matches more than one ref.
func (a Allow) Wildcard() bool {
	return a.Kind == AllowProtected || strings.ContainsAny(a.Pattern, "*?")
}

// RefType is the token's ref_type for jobs this allow admits.
func (a Allow) RefType() string {
	if a.Kind == AllowTag {
		return "tag"
	}
	return "branch"
}

// Describe says in words which jobs the allow admits.
func (a Allow) Describe() string {
	switch {
	case a.Kind == AllowProtected:
		return "any protected branch"
	case a.Pattern == "*":
		return "any " + a.Kind + " (any developer's push can use the role)"
	case a.Wildcard():
		return map[string]string{AllowBranch: "branches", AllowTag: "tags"}[a.Kind] + " matching " + a.Pattern
	default:
		return a.Kind + " " + a.Pattern
	}
}

// Instance is the GitLab instance and the issuer of its ID tokens.
type Instance struct {
	// URL is the GitLab base URL, e.g. https://gitlab.com.
	URL string `json:"url"`
	// IssuerURL is the tokens' iss, e.g. https://gitlab.com (no trailing slash).
	IssuerURL string `json:"issuer_url"`
}

// KeyPrefix is the issuer without its scheme: the IAM provider's name and the
// prefix of its condition keys ("gitlab.com", "git.example.com/gitlab").
func (i Instance) KeyPrefix() string {
	return NormalizeProviderURL(i.IssuerURL)
}

// IsGitLabCom reports whether tokens come from gitlab.com, the only GitLab
// provider for which AWS passes claims other than aud and sub.
func (i Instance) IsGitLabCom() bool { return i.KeyPrefix() == "gitlab.com" }

// ValidateIssuer checks what IAM requires of a provider URL.
func ValidateIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return fmt.Errorf("issuer %q is not a URL; pass --issuer-url https://gitlab.example.com", issuer)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("issuer %q must use https: IAM accepts only https:// provider URLs", issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q must not have a query or fragment", issuer)
	}
	if len(issuer) > 255 {
		return fmt.Errorf("issuer %q is longer than IAM's 255 characters", issuer)
	}
	return nil
}

// GitLabComClaimKeys are the claims AWS passes as condition keys for the
// gitlab.com provider besides aud and sub (Service Authorization Reference).
var GitLabComClaimKeys = []string{
	"namespace_id", "pipeline_source", "project_id", "ref_protected",
	"runner_environment", "user_access_level", "user_email", "user_id", "user_login",
}

// ProjectInfo is what the plan needs to know about the GitLab project.
type ProjectInfo struct {
	ID                int64    `json:"id"`
	Path              string   `json:"path"`
	DefaultBranch     string   `json:"default_branch,omitempty"`
	SubComponents     []string `json:"sub_components"`
	ProtectedBranches []string `json:"protected_branches,omitempty"`
	ProtectedTags     []string `json:"protected_tags,omitempty"`
}

// VariablePlan is the CI/CD variable setup writes.
type VariablePlan struct {
	Key              string `json:"key"`
	Scope            string `json:"scope"` // project or group
	Group            string `json:"group,omitempty"`
	EnvironmentScope string `json:"environment_scope"`
	Protected        bool   `json:"protected"`
}

// Plan is everything setup will create, fully resolved: the review screen and
// --dry-run show it, and the steps apply exactly it.
type Plan struct {
	AccountID string   `json:"account_id"`
	Partition string   `json:"partition"`
	Region    string   `json:"region"`
	Instance  Instance `json:"instance"`
	Audience  string   `json:"audience"`

	Project ProjectInfo `json:"project"`
	// MoreProjects are further projects one group-wide role admits, each by
	// its exact sub (setup --group ... --group-role).
	MoreProjects []ProjectInfo `json:"more_projects,omitempty"`
	// Environment, when set, makes this the role of one deployment
	// environment: the variable is scoped to it and the snippet gets a
	// template job that declares it.
	Environment string `json:"environment,omitempty"`
	// DeploymentTier is the environment's tier, used when the project's sub
	// claim includes deployment_tier.
	DeploymentTier string  `json:"deployment_tier,omitempty"`
	Allow          []Allow `json:"allow"`
	// NewSubComponents, when set, is written to the project's
	// ci_id_token_sub_claim_components before the role is created.
	NewSubComponents []string `json:"new_sub_components,omitempty"`
	PinProjectID     bool     `json:"pin_project_id"`

	RoleName          string            `json:"role_name"`
	MaxSessionSeconds int32             `json:"max_session_seconds"`
	PolicyARNs        []string          `json:"policy_arns,omitempty"`
	InlinePolicies    []InlinePolicy    `json:"inline_policies,omitempty"`
	Thumbprints       []string          `json:"thumbprints,omitempty"`
	Variable          VariablePlan      `json:"variable"`
	SnippetStyle      string            `json:"snippet_style"`
	SnippetPath       string            `json:"snippet_path"`
	CIFile            string            `json:"ci_file"`
	Warnings          []string          `json:"warnings,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
}

// ProviderARN is the ARN of the IAM OIDC provider for the issuer.
func (p Plan) ProviderARN() string {
	return fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", p.partition(), p.AccountID, p.Instance.KeyPrefix())
}

// RoleARN is the ARN the role will have.
func (p Plan) RoleARN() string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", p.partition(), p.AccountID, p.RoleName)
}

func (p Plan) partition() string {
	if p.Partition == "" {
		return "aws"
	}
	return p.Partition
}

// SubComponents is the sub shape the tokens will have after setup.
func (p Plan) SubComponents() []string {
	if len(p.NewSubComponents) > 0 {
		return p.NewSubComponents
	}
	if len(p.Project.SubComponents) > 0 {
		return p.Project.SubComponents
	}
	return token.DefaultSubComponents
}

// SubValues returns the sub values the trust policy allows: exact ones
// (StringEquals) and patterns (StringLike).
func (p Plan) SubValues() (exact, like []string, err error) {
	comps := p.SubComponents()
	seen := map[string]bool{}
	for _, proj := range p.Projects() {
		for _, a := range p.Allow {
			sub, err := p.subFor(comps, proj, a)
			if err != nil {
				return nil, nil, err
			}
			if seen[sub] {
				continue
			}
			seen[sub] = true
			if strings.ContainsAny(sub, "*?") {
				like = append(like, sub)
			} else {
				exact = append(exact, sub)
			}
		}
	}
	if len(exact)+len(like) == 0 {
		return nil, nil, errors.New("no --allow given: say which refs may assume the role, e.g. --allow branch:main (a trust policy without a sub condition would let every project in)")
	}
	return exact, like, nil
}

// Projects lists every project the role admits.
func (p Plan) Projects() []ProjectInfo {
	return append([]ProjectInfo{p.Project}, p.MoreProjects...)
}

// subFor builds the sub value admitting jobs of proj on the refs of a.
func (p Plan) subFor(comps []string, proj ProjectInfo, a Allow) (string, error) {
	values := map[string]string{
		"project_path": proj.Path,
		"project_id":   strconv.FormatInt(proj.ID, 10),
		"ref_type":     a.RefType(),
	}
	switch a.Kind {
	case AllowProtected:
		values["ref"] = "*"
		values["ref_protected"] = "true"
		if !p.Instance.IsGitLabCom() && !slices.Contains(comps, "ref_protected") {
			return "", errors.New("--allow protected on a self-managed instance needs ref_protected in the sub claim: AWS passes only aud and sub for it; pass --sub-components project_path,ref_type,ref,ref_protected (or lead with project_id)")
		}
	default:
		values["ref"] = a.Pattern
		if slices.Contains(comps, "ref_protected") {
			values["ref_protected"] = protectedValue(a, proj)
		}
	}
	if p.Environment != "" {
		// GitLab adds these components only to jobs with an environment;
		// when the tier or protection is unknown, any value is admitted.
		values["deployment_tier"] = cmp.Or(p.DeploymentTier, "*")
		values["environment_protected"] = "*"
	}
	return token.BuildSub(comps, values), nil
}

// protectedValue is the ref_protected component for an allow: "true" when
// every ref it admits is protected, "*" when it cannot be known.
func protectedValue(a Allow, proj ProjectInfo) string {
	if a.Wildcard() {
		return "*"
	}
	if RefProtected(a, proj) {
		return "true"
	}
	return "false"
}

// RefProtected reports whether every ref the allow admits is protected,
// judging by the project's protected branch and tag patterns.
func RefProtected(a Allow, proj ProjectInfo) bool {
	switch a.Kind {
	case AllowProtected:
		return true
	case AllowBranch:
		return matchesAnyProtected(a.Pattern, proj.ProtectedBranches)
	default:
		return matchesAnyProtected(a.Pattern, proj.ProtectedTags)
	}
}

// matchesAnyProtected reports whether a ref is protected by one of the
// project's protected names or wildcards. For a pattern it is conservative:
// only "*" or the identical pattern covers every ref the pattern admits.
func matchesAnyProtected(ref string, protected []string) bool {
	wildcard := strings.ContainsAny(ref, "*?")
	return slices.ContainsFunc(protected, func(p string) bool {
		return p == ref || p == "*" || (!wildcard && gitlabapi.WildcardMatch(p, ref))
	})
}

// TrustPolicy builds the role's trust policy: aud and sub always pinned,
// project_id and ref_protected pinned too where AWS passes them.
func (p Plan) TrustPolicy() (*policy.Document, error) {
	exact, like, err := p.SubValues()
	if err != nil {
		return nil, err
	}
	extra := map[string][]string{}
	prefix := p.Instance.KeyPrefix()
	if p.Instance.IsGitLabCom() {
		if p.PinProjectID && p.Project.ID != 0 {
			for _, proj := range p.Projects() {
				extra[prefix+":project_id"] = append(extra[prefix+":project_id"], strconv.FormatInt(proj.ID, 10))
			}
		}
		if p.onlyProtected() {
			extra[prefix+":ref_protected"] = []string{"true"}
		}
	}
	return policy.BuildTrust(policy.TrustSpec{
		Sid:         "GitLabOIDC" + sanitizeSid(p.Project.Path),
		ProviderARN: p.ProviderARN(),
		KeyPrefix:   prefix,
		Audiences:   []string{p.Audience},
		ExactSubs:   exact,
		LikeSubs:    like,
		ExtraEquals: extra,
	})
}

// onlyProtected reports whether the plan admits only protected refs via the
// "protected" allow (then gitlab.com's ref_protected key is pinned).
func (p Plan) onlyProtected() bool {
	if len(p.Allow) == 0 {
		return false
	}
	for _, a := range p.Allow {
		if a.Kind != AllowProtected {
			return false
		}
	}
	return true
}

// AllRefsProtected reports whether every allowed ref is protected, which
// decides whether the variable can be protected.
func (p Plan) AllRefsProtected() bool {
	for _, a := range p.Allow {
		if !RefProtected(a, p.Project) {
			return false
		}
	}
	return len(p.Allow) > 0
}

func sanitizeSid(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}

var roleNameUnsafe = regexp.MustCompile(`[^\w+=,.@-]+`)

// DefaultRoleName derives a valid IAM role name (at most 64 characters of
// [\w+=,.@-]) from the project path and the allowed refs, e.g.
// "gitlab-acme-payments-main". Long names are cut and get a short hash so
// two projects never collide.
func DefaultRoleName(projectPath string, allow []Allow) string {
	parts := []string{"gitlab", strings.ReplaceAll(projectPath, "/", "-")}
	if len(allow) == 1 {
		switch a := allow[0]; {
		case a.Kind == AllowProtected:
			parts = append(parts, "protected")
		case a.Pattern == "*":
			parts = append(parts, "any-"+a.Kind)
		default:
			parts = append(parts, strings.NewReplacer("*", "x", "?", "x", "/", "-").Replace(a.Pattern))
		}
	}
	return fitRoleName(strings.Join(parts, "-"))
}

// fitRoleName makes name a valid IAM role name: unsafe characters become
// '-', and a name over 64 characters is cut and gets a short hash of the
// whole, so two long names never collide.
func fitRoleName(name string) string {
	name = strings.Trim(roleNameUnsafe.ReplaceAllString(name, "-"), "-")
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:55], "-") + "-" + hex.EncodeToString(sum[:])[:8]
}

// SortedTagKeys returns the plan's tag keys in order (for stable output).
func (p Plan) SortedTagKeys() []string {
	keys := make([]string, 0, len(p.Tags))
	for k := range p.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
