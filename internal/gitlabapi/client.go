// Package gitlabapi is the narrow view of the GitLab REST API that
// gitlab-oidc needs: the current user, projects and their sub-claim
// components, protected refs, CI/CD variables, jobs, pipelines and logs.
package gitlabapi

import "context"

// Client is everything gitlab-oidc asks of GitLab. The real implementation
// wraps gitlab.com/gitlab-org/api/client-go/v2; tests use internal/gitlabfake.
type Client interface {
	BaseURL() string
	CurrentUser(ctx context.Context) (User, error)
	// Project accepts a numeric ID or a full path ("group/sub/project").
	Project(ctx context.Context, idOrPath string) (Project, error)
	Group(ctx context.Context, idOrPath string) (Group, error)
	GroupProjects(ctx context.Context, group string, includeSubgroups bool) ([]Project, error)
	ProtectedBranches(ctx context.Context, projectID int64) ([]ProtectedRef, error)
	ProtectedTags(ctx context.Context, projectID int64) ([]ProtectedRef, error)
	// SetSubClaimComponents sets ci_id_token_sub_claim_components (PUT /projects/:id).
	SetSubClaimComponents(ctx context.Context, projectID int64, components []string) error

	// Variable returns the variable, or (nil, nil) when it does not exist.
	Variable(ctx context.Context, target VariableTarget, key, environmentScope string) (*Variable, error)
	CreateVariable(ctx context.Context, target VariableTarget, v Variable) (Variable, error)
	UpdateVariable(ctx context.Context, target VariableTarget, v Variable) (Variable, error)

	Job(ctx context.Context, projectID int64, jobID int64) (Job, error)
	Pipeline(ctx context.Context, projectID int64, pipelineID int64) (Pipeline, error)
	// JobTrace returns at most maxBytes of the job's log (the tail when longer).
	JobTrace(ctx context.Context, projectID int64, jobID int64, maxBytes int64) (string, error)
}

// AccessLevel is GitLab's numeric access level.
type AccessLevel int

// GitLab access levels.
const (
	NoAccess   AccessLevel = 0
	Guest      AccessLevel = 10
	Reporter   AccessLevel = 20
	Developer  AccessLevel = 30
	Maintainer AccessLevel = 40
	Owner      AccessLevel = 50
)

// User is the token's owner.
type User struct {
	ID       int64
	Username string
	IsAdmin  bool
}

// Project is the subset of a GitLab project gitlab-oidc uses.
type Project struct {
	ID                int64
	PathWithNamespace string
	WebURL            string
	DefaultBranch     string
	NamespaceID       int64
	NamespacePath     string // full path of the parent namespace
	NamespaceKind     string // "group" or "user"
	Visibility        string
	// AccessLevel is the caller's effective access (max of project and group).
	AccessLevel AccessLevel
	// SubClaimComponents is ci_id_token_sub_claim_components; nil when the
	// instance does not report it (older GitLab: default shape).
	SubClaimComponents []string
}

// Group is a GitLab group.
type Group struct {
	ID          int64
	FullPath    string
	AccessLevel AccessLevel
}

// ProtectedRef is a protected branch or tag name (may be a wildcard pattern).
type ProtectedRef struct {
	Name string
}

// VariableTarget says where a CI/CD variable lives.
type VariableTarget struct {
	Kind string // "project" or "group"
	ID   string // numeric ID or full path
}

// Variable is a CI/CD variable. Value is empty when only metadata was read.
type Variable struct {
	Key              string
	Value            string
	VariableType     string // env_var or file
	Protected        bool
	Masked           bool
	Raw              bool
	EnvironmentScope string
	Description      string
}

// Job is a CI job.
type Job struct {
	ID                               int64
	Name                             string
	Ref                              string
	Tag                              bool
	Status                           string
	FailureReason                    string
	CreatedAt, StartedAt, FinishedAt string // RFC3339 as returned
	PipelineID                       int64
	ProjectID                        int64
	WebURL                           string
	Environment                      string // from the pipeline/deployment when known
}

// Pipeline is a CI pipeline.
type Pipeline struct {
	ID     int64
	Ref    string
	Tag    bool
	Source string
	Status string
	SHA    string
}

// String names the role as GitLab's UI does ("Maintainer").
func (l AccessLevel) String() string {
	switch {
	case l >= Owner:
		return "Owner"
	case l >= Maintainer:
		return "Maintainer"
	case l >= Developer:
		return "Developer"
	case l >= Reporter:
		return "Reporter"
	case l >= 15:
		return "Planner"
	case l >= Guest:
		return "Guest"
	case l > NoAccess:
		return "Minimal Access"
	}
	return "not a member"
}
