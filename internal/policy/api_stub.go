package policy

// CONTRACT STUBS: the policy owner replaces these bodies (and this file) with
// real implementations, keeping the signatures.

// Parse reads a policy document from JSON. It also accepts the URL-encoded
// form that IAM's GetRole returns. Errors say what is wrong and where.
func Parse(data []byte) (*Document, error) { panic("policy.Parse: not implemented") }

// Marshal renders the document as indented JSON in IAM's canonical shape
// (single values as strings, lists as arrays), keys in a stable order.
func Marshal(d *Document) ([]byte, error) { panic("policy.Marshal: not implemented") }

// TrustSpec describes a GitLab web-identity trust statement to build.
type TrustSpec struct {
	Sid         string
	ProviderARN string   // arn:aws:iam::ACCOUNT:oidc-provider/gitlab.com
	KeyPrefix   string   // issuer without scheme, e.g. "gitlab.com" or "git.example.com/gitlab"
	Audiences   []string // at least one
	ExactSubs   []string // StringEquals values for KEY:sub
	LikeSubs    []string // StringLike values for KEY:sub (contain * or ?)
	// ExtraEquals adds StringEquals conditions on other keys, full key names
	// (e.g. "gitlab.com:project_id": ["4242"]).
	ExtraEquals map[string][]string
}

// BuildTrust builds a trust policy with one Allow statement for
// sts:AssumeRoleWithWebIdentity. It refuses a spec with no sub values or no
// audience.
func BuildTrust(spec TrustSpec) (*Document, error) { panic("policy.BuildTrust: not implemented") }

// Request is what IAM evaluates a trust policy against.
type Request struct {
	Action    string // "sts:AssumeRoleWithWebIdentity"
	Federated string // the provider ARN STS resolved from the token's iss
	// Context maps condition keys (any case) to their values; a key absent
	// from the map is absent from the request.
	Context map[string][]string
}

// ConditionResult is the outcome of one condition of a statement.
type ConditionResult struct {
	Condition
	KnownOperator bool     // false for misspelt/unknown operators
	Present       bool     // the key had at least one value in the request
	RequestValues []string // the request's values for the key
	Matched       bool
}

// StatementResult is the outcome of one statement.
type StatementResult struct {
	Statement      Statement
	ActionMatch    bool
	PrincipalMatch bool
	Conditions     []ConditionResult
	// Applies is true when action, principal and every condition match.
	Applies bool
}

// Decision is the outcome of evaluating a whole document.
type Decision struct {
	Allowed bool
	// ExplicitDeny is true when a Deny statement applies (Deny wins).
	ExplicitDeny bool
	Statements   []StatementResult
}

// Evaluate evaluates the document against the request exactly as IAM does
// for a role trust policy: an explicit Deny wins, otherwise any applying
// Allow allows, otherwise implicit deny.
func Evaluate(d *Document, req Request) Decision { panic("policy.Evaluate: not implemented") }

// Like reports whether value matches an IAM StringLike pattern (* and ?),
// case-sensitively.
func Like(pattern, value string) bool { panic("policy.Like: not implemented") }

// Equivalent reports whether two documents mean the same thing (ignoring key
// order, string-vs-list, and value order inside a condition).
func Equivalent(a, b *Document) bool { panic("policy.Equivalent: not implemented") }

// ContainsStatement reports whether d already has a statement equivalent to s.
func ContainsStatement(d *Document, s Statement) bool {
	panic("policy.ContainsStatement: not implemented")
}

// AddStatement returns a copy of d with s appended (Sid made unique), leaving
// every existing statement intact.
func AddStatement(d *Document, s Statement) *Document { panic("policy.AddStatement: not implemented") }
