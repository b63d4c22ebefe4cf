// Package token splits and decodes GitLab CI ID tokens (JWTs), verifies their
// signature against a JWK set and models GitLab's sub claim. It does no I/O.
package token

import "time"

// Claims are the decoded claims of a GitLab ID token. Raw keeps every claim as
// decoded JSON so that conditions on any key can be evaluated; numbers in Raw
// are json.Number (their exact text), so use Value to read a claim as IAM
// would compare it.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string // a single-string aud becomes a one-element list
	Expiry    *time.Time
	NotBefore *time.Time
	IssuedAt  *time.Time
	JTI       string

	NamespaceID, NamespacePath string
	ProjectID, ProjectPath     string
	Ref, RefType, RefPath      string
	RefProtected               string // "true"/"false" as in the token
	PipelineID, PipelineSource string
	JobID                      string
	Environment                string
	EnvironmentProtected       string
	DeploymentTier             string
	UserID, UserLogin          string
	UserEmail, UserAccessLevel string
	RunnerEnvironment          string

	// JobProjectID and JobProjectPath name the project that runs the job
	// (GitLab 18.4+); they differ from ProjectID/ProjectPath for fork merge
	// request pipelines, which is worth showing when a sub does not match.
	JobProjectID, JobProjectPath string
	RunnerID, SHA                string

	Raw map[string]any
}
