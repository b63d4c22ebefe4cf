// Package fix describes a change doctor proposes for a failing exchange
// (a corrected trust policy, or a CI/CD variable's settings) as data. The
// diagnose package proposes patches and the steps package applies them;
// neither imports the other, so the shared shape lives here. It does no
// I/O.
package fix

import (
	"slices"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/policy"
)

// Patch kinds.
const (
	// KindTrustPolicy replaces a role's trust policy Before with After.
	KindTrustPolicy = "trust-policy"
	// KindVariable changes the settings (never the value) of a CI/CD
	// variable.
	KindVariable = "variable"
)

// Patch is a fix that can be applied, as opposed to one only described.
// A trust-policy patch carries the whole policy as doctor read it (Before)
// and as it would be (After), so that the one applying it can refuse when
// the role changed in between. A variable patch names the variable and the
// settings to change.
type Patch struct {
	Kind string
	// RoleName and RoleARN name the role of a trust-policy patch.
	RoleName, RoleARN string
	Before, After     *policy.Document
	// Variable is set for KindVariable.
	Variable *VariablePatch
	// Summary says in one line what the patch does, for the prompt.
	Summary string
}

// VariablePatch changes the settings of one CI/CD variable: Protected when
// set, and NewEnvironmentScope when not empty (a copy of the variable is
// added in that scope; the original is kept).
type VariablePatch struct {
	Target gitlabapi.VariableTarget
	// Key and EnvironmentScope select the variable as doctor read it.
	Key, EnvironmentScope string
	Protected             *bool
	NewEnvironmentScope   string
}

// PinsSub reports whether a statement restricts the token's sub with a
// positive string condition: StringEquals, StringEqualsIgnoreCase or
// StringLike on KEY:sub, not negated, not ...IfExists, not
// ForAllValues (true for a missing key), and no value a bare "*".
func PinsSub(st policy.Statement) bool {
	for _, c := range st.Conditions {
		if !strings.HasSuffix(strings.ToLower(c.Key), ":sub") || len(c.Values) == 0 {
			continue
		}
		op := policy.ParseOperator(c.Operator)
		if !op.Known || op.Negated || op.IfExists || op.Set == policy.SetForAllValues {
			continue
		}
		switch op.Base {
		case "StringEquals", "StringLike", "StringEqualsIgnoreCase":
		default:
			continue
		}
		if !slices.Contains(c.Values, "*") {
			return true
		}
	}
	return false
}

// UnpinnedStatement returns the first Allow statement granting
// sts:AssumeRoleWithWebIdentity that does not pin sub (see PinsSub), and
// false when there is none. Such a statement lets every project of the
// GitLab instance assume the role, so no fix may ever produce one.
// Statements for other actions (an AWS principal's sts:AssumeRole) are not
// about job tokens and are not judged.
func UnpinnedStatement(doc *policy.Document) (policy.Statement, bool) {
	dec := policy.Evaluate(doc, policy.Request{Action: policy.ActionWebIdentity})
	for _, sr := range dec.Statements {
		if sr.Statement.Effect == "Allow" && sr.ActionMatch && !PinsSub(sr.Statement) {
			return sr.Statement, true
		}
	}
	return policy.Statement{}, false
}
