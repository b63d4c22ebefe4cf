package diagnose

import (
	"time"

	"gitlab-oidc/internal/cifile"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token"
)

// Evidence is everything known about one failing exchange. Any field may be
// missing: the rules use what is there and say what they could not check.
// It never holds the raw token: only its header, claims and Redact form.
type Evidence struct {
	// Token is the job's ID token, or the token predicted from the job when
	// Predicted is set.
	Token *TokenFacts `json:"token,omitempty"`
	// TokenErr says why the given token could not be parsed.
	TokenErr *token.MalformedError `json:"token_error,omitempty"`
	// TokenSource names where the token came from ("file token.jwt",
	// "env GITLAB_OIDC_TOKEN"), never its value.
	TokenSource string `json:"token_source,omitempty"`
	// Signature is the outcome of checking the token against the issuer's
	// keys (from --jwks-file or the issuer probe).
	Signature *SignatureCheck `json:"signature,omitempty"`
	// Predicted is set when there was no token and the sub (and other
	// claims) were predicted from the job, the project's sub claim
	// components and its protected refs.
	Predicted bool `json:"predicted"`
	// Unknown lists the claims a prediction could not know (aud when the
	// pipeline file does not say, user_* ...): conditions on them are not
	// judged.
	Unknown []string `json:"unknown_claims,omitempty"`

	// ErrorText is the STS error message the user passed, masked.
	ErrorText string `json:"error_text,omitempty"`
	// Log is what the job log and the error text say about the failure.
	Log *LogScan `json:"log,omitempty"`

	Role      *RoleFacts     `json:"role,omitempty"`
	Providers *ProviderFacts `json:"providers,omitempty"`
	Issuer    *issuer.Report `json:"issuer,omitempty"`
	Job       *JobFacts      `json:"job,omitempty"`
	Pipeline  *PipelineFacts `json:"pipeline,omitempty"`

	// Now is the reference time for exp/nbf: --now, else the failure time
	// from the log, else the time of the run. NowSource says which.
	Now       time.Time `json:"now"`
	NowSource string    `json:"now_source"`

	// Offline is set when no network call was made: only the given files
	// and texts were used.
	Offline bool `json:"offline"`
	// PrivateIssuerOK says the issuer is known to be private on purpose
	// (ci_id_tokens_issuer_url points STS at a public copy), so a private
	// address is not a finding.
	PrivateIssuerOK bool `json:"private_issuer_ok"`
	// Notes says what could not be collected and why, for the report.
	Notes []string `json:"notes,omitempty"`
}

// TokenFacts is the displayable part of a token.
type TokenFacts struct {
	Header   token.Header `json:"header"`
	Claims   token.Claims `json:"-"`
	Redacted string       `json:"redacted"`
	Len      int          `json:"length"`
}

// SignatureCheck is the outcome of token.Verify.
type SignatureCheck struct {
	// KeySource says where the keys came from ("--jwks-file", the jwks_uri).
	KeySource string `json:"key_source"`
	// Err is empty when the signature verifies.
	Err string `json:"error,omitempty"`
	// KeyNotFound and Invalid classify Err.
	KeyNotFound bool     `json:"key_not_found,omitempty"`
	Invalid     bool     `json:"invalid,omitempty"`
	KeyIDs      []string `json:"key_ids,omitempty"`
}

// RoleFacts is what IAM says about the role.
type RoleFacts struct {
	ARN       string `json:"arn"`
	Name      string `json:"name,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	// Trust is the parsed trust policy; TrustErr says why it could not be
	// parsed. TrustSource is "GetRole" or the file it came from.
	Trust       *policy.Document `json:"-"`
	TrustErr    string           `json:"trust_error,omitempty"`
	TrustSource string           `json:"trust_source,omitempty"`
	// MaxSessionDuration in seconds, 0 when unknown.
	MaxSessionDuration int32    `json:"max_session_duration,omitempty"`
	AttachedPolicies   []string `json:"attached_policies,omitempty"`
	// NotFound is set when GetRole answered NoSuchEntity.
	NotFound bool `json:"not_found,omitempty"`
	// Err is any other failure to read the role.
	Err string `json:"error,omitempty"`
}

// Provider is an IAM OIDC identity provider.
type Provider struct {
	// URL is as IAM stores it: without https://.
	URL         string   `json:"url"`
	ARN         string   `json:"arn"`
	ClientIDs   []string `json:"client_ids"`
	Thumbprints []string `json:"thumbprints"`
}

// ProviderFacts lists the providers of the role's account. Listed is set
// when the list is complete (so a missing provider is a fact, not a gap).
type ProviderFacts struct {
	Listed bool       `json:"listed"`
	List   []Provider `json:"list"`
	Err    string     `json:"error,omitempty"`
}

// JobFacts is what GitLab says about the job, its pipeline and project.
type JobFacts struct {
	BaseURL        string `json:"base_url"`
	ProjectPath    string `json:"project_path"`
	ProjectID      int64  `json:"project_id"`
	NamespaceID    int64  `json:"namespace_id,omitempty"`
	JobID          int64  `json:"job_id"`
	Name           string `json:"name,omitempty"`
	Ref            string `json:"ref"`
	Tag            bool   `json:"tag"`
	Status         string `json:"status,omitempty"`
	FailureReason  string `json:"failure_reason,omitempty"`
	PipelineID     int64  `json:"pipeline_id,omitempty"`
	PipelineSource string `json:"pipeline_source,omitempty"`
	Environment    string `json:"environment,omitempty"`
	FinishedAt     string `json:"finished_at,omitempty"`
	// SubComponents is ci_id_token_sub_claim_components; nil when GitLab
	// did not report it (the default shape then applies).
	SubComponents     []string `json:"sub_components,omitempty"`
	ProtectedBranches []string `json:"protected_branches,omitempty"`
	ProtectedTags     []string `json:"protected_tags,omitempty"`
	// RefProtected is nil when the protected refs could not be read.
	RefProtected *bool `json:"ref_protected,omitempty"`
	// Variables holds the metadata (never the value) of the CI/CD
	// variables that matter: the role ARN variable, static keys, region.
	Variables []VariableFacts `json:"variables,omitempty"`
}

// VariableFacts is the metadata of a CI/CD variable; the value is never read
// into it.
type VariableFacts struct {
	Key              string `json:"key"`
	Exists           bool   `json:"exists"`
	Level            string `json:"level,omitempty"` // project or group
	Protected        bool   `json:"protected,omitempty"`
	Masked           bool   `json:"masked,omitempty"`
	EnvironmentScope string `json:"environment_scope,omitempty"`
	// Err is set when the variable could not be read (permissions).
	Err string `json:"error,omitempty"`
	// Target is where the variable was found (the project or the group),
	// so that a fix can change its settings there.
	Target gitlabapi.VariableTarget `json:"-"`
}

// PipelineFacts is what the pipeline file says about the job that calls
// STS.
type PipelineFacts struct {
	Path string `json:"path"`
	// Job is the job analysed: the failing job when its name is known,
	// else the first job that exchanges a token. Nil when no job does.
	Job *cifile.Job `json:"-"`
	// JobName names Job for the report.
	JobName string `json:"job,omitempty"`
	// Unresolved lists includes that could not be followed: a job defined
	// there is missing, so "no id_tokens" is less certain.
	Unresolved []string `json:"unresolved,omitempty"`
	Err        string   `json:"error,omitempty"`
}

// claims returns the claims to judge (real or predicted) or nil.
func (ev *Evidence) claims() *token.Claims {
	if ev == nil || ev.Token == nil {
		return nil
	}
	return &ev.Token.Claims
}

// sts returns the STS error from the log or error text, or nil.
func (ev *Evidence) sts() *STSError {
	if ev == nil || ev.Log == nil {
		return nil
	}
	return ev.Log.STS
}

// unknownClaim reports whether a prediction could not know claim name.
func (ev *Evidence) unknownClaim(name string) bool {
	for _, u := range ev.Unknown {
		if u == name {
			return true
		}
	}
	return false
}
