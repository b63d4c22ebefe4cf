// Package policy parses, builds and evaluates IAM policy documents, in
// particular the trust policies of roles federated with a GitLab OIDC provider.
// It does no I/O: everything here is a pure function of its inputs.
package policy

// Document is a parsed IAM policy document. Fields that IAM accepts as either
// a string or a list are always lists here.
type Document struct {
	Version    string
	ID         string
	Statements []Statement
	// Warnings lists what Parse accepted but the author probably did not
	// mean, above all duplicate JSON keys: IAM (like encoding/json) keeps only
	// the last of two equal keys, so a second "StringEquals" block silently
	// drops the first one's conditions. Marshal does not write them.
	Warnings []string
}

// Statement is one statement of a policy document.
type Statement struct {
	// Index is the statement's position in the document (0-based), used to
	// name it in findings when it has no Sid.
	Index        int
	Sid          string
	Effect       string // "Allow" or "Deny" as written
	Principal    *Principal
	NotPrincipal *Principal
	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string
	Conditions   []Condition
}

// Principal is the Principal (or NotPrincipal) element. Any is true for "*".
type Principal struct {
	Any           bool
	AWS           []string
	CanonicalUser []string
	Federated     []string
	Service       []string
}

// Condition is one operator/key pair of a Condition block with its values.
// A block {"StringEquals": {"a": "1", "b": ["2","3"]}} yields two Conditions.
type Condition struct {
	Operator string   // as written, e.g. "ForAnyValue:StringLike"
	Key      string   // as written, e.g. "gitlab.com:sub"
	Values   []string // always strings; IAM compares bools and numbers as written
}
