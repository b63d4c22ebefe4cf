package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/token"
)

// AWSIdentity is who the AWS credentials belong to.
type AWSIdentity struct {
	Account   string `json:"account"`
	ARN       string `json:"arn"`
	Partition string `json:"partition"`
	Region    string `json:"region"`
	Profile   string `json:"profile,omitempty"`
}

// GitLabIdentity is who the GitLab token belongs to.
type GitLabIdentity struct {
	URL         string                `json:"url"`
	Username    string                `json:"username"`
	AccessLevel gitlabapi.AccessLevel `json:"access_level"`
	TokenSource string                `json:"token_source"` // "GITLAB_TOKEN", "glab config", ...
}

// IssuerStatus is what the issuer probe found, as shown on the Connect screen.
type IssuerStatus struct {
	URL             string `json:"url"`
	Source          string `json:"source"` // "discovery", "--issuer-url", "GitLab URL"
	DiscoveryMillis int64  `json:"discovery_ms"`
	JWKSMillis      int64  `json:"jwks_ms"`
	PubliclyTrusted bool   `json:"publicly_trusted"`
	Thumbprint      string `json:"thumbprint,omitempty"`
	OK              bool   `json:"ok"`
	Warning         string `json:"warning,omitempty"`
}

// IssuerProbe looks at an issuer the way STS will and reports what it found.
// The real one wraps internal/issuer; the demo and tests pass their own.
type IssuerProbe func(ctx context.Context, issuerURL string) IssuerStatus

// Existing is what already exists for the default choices.
type Existing struct {
	ProviderARN       string              `json:"provider_arn,omitempty"`
	ProviderClientIDs []string            `json:"provider_client_ids,omitempty"`
	RoleARN           string              `json:"role_arn,omitempty"`
	Variable          *gitlabapi.Variable `json:"variable,omitempty"`
}

// Connection is everything the Connect screen shows, found before asking
// the user anything.
type Connection struct {
	Simulated     bool           `json:"simulated"`
	AWS           AWSIdentity    `json:"aws"`
	GitLab        GitLabIdentity `json:"gitlab"`
	Project       ProjectInfo    `json:"project"`
	ProjectSource string         `json:"project_source"`
	Issuer        IssuerStatus   `json:"issuer"`
	Existing      Existing       `json:"existing"`
	// Problems are things that will make setup fail (missing access), said
	// in words with what to do.
	Problems []string `json:"problems,omitempty"`
}

// TemplateChoice selects a permissions template with its parameters.
type TemplateChoice struct {
	ID     string            `json:"id"`
	Params map[string]string `json:"params"`
}

// Choices are the user's answers (flags or wizard screens).
type Choices struct {
	Allow             []Allow
	Audience          string
	RoleName          string
	PolicyARNs        []string
	Templates         []TemplateChoice
	MaxSessionSeconds int32
	VariableKey       string
	VariableScope     string // project (default) or group
	Group             string
	EnvironmentScope  string
	// Protected overrides the default (protected only when every allowed ref is).
	Protected     *bool
	SubComponents []string
	// PinProjectID pins gitlab.com:project_id (default true on gitlab.com).
	PinProjectID *bool
	SnippetStyle string
	SnippetPath  string
	CIFile       string
}

// DefaultChoices are the least-privilege defaults for a connection: the
// project's default branch only.
func DefaultChoices(conn *Connection) Choices {
	branch := conn.Project.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	return Choices{
		Allow:             []Allow{{Kind: AllowBranch, Pattern: branch}},
		Audience:          conn.Issuer.URL,
		MaxSessionSeconds: 3600,
		VariableKey:       "AWS_ROLE_ARN",
		VariableScope:     "project",
		EnvironmentScope:  "*",
		SnippetStyle:      "explicit",
		SnippetPath:       ".gitlab/ci/aws-oidc.yml",
		CIFile:            ".gitlab-ci.yml",
	}
}

// NewPlan resolves choices against the connection into a complete plan.
func NewPlan(conn *Connection, ch Choices) (Plan, error) {
	def := DefaultChoices(conn)
	if len(ch.Allow) == 0 {
		ch.Allow = def.Allow
	}
	ch.Audience = cmp.Or(ch.Audience, def.Audience)
	ch.MaxSessionSeconds = cmp.Or(ch.MaxSessionSeconds, def.MaxSessionSeconds)
	ch.VariableKey = cmp.Or(ch.VariableKey, def.VariableKey)
	ch.VariableScope = cmp.Or(ch.VariableScope, def.VariableScope)
	ch.EnvironmentScope = cmp.Or(ch.EnvironmentScope, def.EnvironmentScope)
	ch.SnippetStyle = cmp.Or(ch.SnippetStyle, def.SnippetStyle)
	ch.SnippetPath = cmp.Or(ch.SnippetPath, def.SnippetPath)
	ch.CIFile = cmp.Or(ch.CIFile, def.CIFile)
	inst := Instance{URL: conn.GitLab.URL, IssuerURL: strings.TrimSuffix(conn.Issuer.URL, "/")}
	if err := ValidateIssuer(inst.IssuerURL); err != nil {
		return Plan{}, err
	}
	p := Plan{
		AccountID:         conn.AWS.Account,
		Partition:         conn.AWS.Partition,
		Region:            conn.AWS.Region,
		Instance:          inst,
		Audience:          ch.Audience,
		Project:           conn.Project,
		Allow:             ch.Allow,
		NewSubComponents:  ch.SubComponents,
		PinProjectID:      inst.IsGitLabCom(),
		RoleName:          ch.RoleName,
		MaxSessionSeconds: ch.MaxSessionSeconds,
		PolicyARNs:        ch.PolicyARNs,
		SnippetStyle:      ch.SnippetStyle,
		SnippetPath:       ch.SnippetPath,
		CIFile:            ch.CIFile,
		Tags:              map[string]string{"managed-by": "gitlab-oidc", "gitlab-project": conn.Project.Path},
	}
	if ch.PinProjectID != nil {
		p.PinProjectID = *ch.PinProjectID && inst.IsGitLabCom()
	}
	if p.RoleName == "" {
		p.RoleName = DefaultRoleName(conn.Project.Path, ch.Allow)
	}
	if p.MaxSessionSeconds < 3600 || p.MaxSessionSeconds > 43200 {
		return Plan{}, fmt.Errorf("--max-session %d: IAM allows 3600 to 43200 seconds (1 to 12 hours)", p.MaxSessionSeconds)
	}
	if ch.SnippetStyle != "explicit" && ch.SnippetStyle != "native" {
		return Plan{}, fmt.Errorf("--snippet-style %q: use explicit or native", ch.SnippetStyle)
	}
	if ch.VariableScope != "project" && ch.VariableScope != "group" {
		return Plan{}, fmt.Errorf("--variable-scope %q: use project or group", ch.VariableScope)
	}
	p.Variable = VariablePlan{Key: ch.VariableKey, Scope: ch.VariableScope, Group: ch.Group, EnvironmentScope: ch.EnvironmentScope}
	if ch.VariableScope == "group" && p.Variable.Group == "" {
		p.Variable.Group = parentPath(conn.Project.Path)
	}
	if len(ch.SubComponents) > 0 {
		if err := token.ValidateSubComponents(ch.SubComponents); err != nil {
			return Plan{}, fmt.Errorf("--sub-components: %w", err)
		}
	}
	p.Variable.Protected = p.AllRefsProtected()
	if ch.Protected != nil {
		p.Variable.Protected = *ch.Protected
	}
	p.Warnings = planWarnings(p)
	if _, _, err := p.SubValues(); err != nil {
		return Plan{}, err
	}
	return p, nil
}

func parentPath(projectPath string) string {
	if i := strings.LastIndex(projectPath, "/"); i > 0 {
		return projectPath[:i]
	}
	return projectPath
}

// planWarnings says what is risky about the plan in words.
func planWarnings(p Plan) []string {
	var w []string
	for _, a := range p.Allow {
		if a.Kind != AllowProtected && a.Pattern == "*" {
			w = append(w, fmt.Sprintf("%s:* lets any %s of %s assume the role: any developer who can push can use it", a.Kind, a.Kind, p.Project.Path))
		} else if a.Kind != AllowProtected && a.Wildcard() {
			w = append(w, fmt.Sprintf("%s uses StringLike: every %s matching %q can assume the role", a, a.Kind, a.Pattern))
		}
	}
	var unprotected []string
	for _, a := range p.Allow {
		if !RefProtected(a, p.Project) {
			unprotected = append(unprotected, a.Describe())
		}
	}
	if msg := ProtectedVariableWarning(p.Variable.Key, p.Variable.Protected, unprotected); msg != "" {
		w = append(w, msg)
	}
	if len(p.NewSubComponents) > 0 {
		w = append(w, fmt.Sprintf("the project's sub claim will become %s: other roles that match the old shape (%s) will stop matching",
			strings.Join(p.NewSubComponents, ","), strings.Join(p.Project.SubComponents, ",")))
	}
	if !p.Instance.IsGitLabCom() && !slices.Contains(p.SubComponents(), "project_id") {
		w = append(w, "access is pinned by project path: a renamed or deleted project's path can be taken over; consider --sub-components project_id,ref_type,ref")
	}
	return w
}

// Step is one apply step the wizard shows as a checklist line.
type Step struct {
	ID    string
	Title string
	Run   func(ctx context.Context) ([]Change, error)
}

// ErrNoSub is returned whenever a trust policy without a sub condition would
// be created.
var ErrNoSub = errors.New("refusing to create a trust policy without a sub condition: it would let every project on the instance assume the role")

// FileDiff is a pending change to a file in the checkout.
type FileDiff struct {
	Path string `json:"path"`
	Diff string `json:"diff"`
}

// Preview is what the Review screen and --dry-run show: every change, the
// exact trust policy, the snippet and the file diffs, computed with reads only.
type Preview struct {
	Changes     []Change         `json:"changes"`
	TrustPolicy string           `json:"trust_policy"`
	Snippet     string           `json:"snippet"`
	FileDiffs   []FileDiff       `json:"file_diffs,omitempty"`
	Conflicts   []*ConflictError `json:"conflicts,omitempty"`
}

// TemplateInfo describes a permissions template for the Permissions screen.
type TemplateInfo struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Params      []string `json:"params"`
}
