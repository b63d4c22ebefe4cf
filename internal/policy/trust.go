package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ActionWebIdentity is the action a GitLab job's token exchange performs.
const ActionWebIdentity = "sts:AssumeRoleWithWebIdentity"

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
//
// When the spec has both exact and wildcard subs, the policy gets TWO
// statements, one per operator, each repeating the aud and extra
// conditions. One statement cannot hold both: IAM ANDs the operators of a
// statement, so {"StringEquals": {sub: A}, "StringLike": {sub: "B*"}} would
// need the token's sub to equal A *and* match B* at once, which allows
// nobody (or only A, if A happens to match B*). Separate statements are ORed.
// The second statement's Sid is the first one's plus "Wildcard".
//
// BuildTrust also refuses a wildcard in an exact sub (StringEquals compares
// * literally: GitLab's most common cause of AccessDenied) and a wildcard
// sub without a wildcard (say it exactly instead), and a key prefix that
// does not name the provider (IAM would never find the keys).
func BuildTrust(spec TrustSpec) (*Document, error) {
	if err := checkTrustSpec(spec); err != nil {
		return nil, fmt.Errorf("build trust policy: %w", err)
	}
	base := func(sid string, subOp string, subs []string) Statement {
		st := Statement{
			Sid:       sid,
			Effect:    "Allow",
			Principal: &Principal{Federated: []string{spec.ProviderARN}},
			Actions:   []string{ActionWebIdentity},
		}
		st.Conditions = append(st.Conditions, Condition{Operator: "StringEquals", Key: spec.KeyPrefix + ":aud", Values: slices.Clone(spec.Audiences)})
		keys := make([]string, 0, len(spec.ExtraEquals))
		for k := range spec.ExtraEquals {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			st.Conditions = append(st.Conditions, Condition{Operator: "StringEquals", Key: k, Values: slices.Clone(spec.ExtraEquals[k])})
		}
		st.Conditions = append(st.Conditions, Condition{Operator: subOp, Key: spec.KeyPrefix + ":sub", Values: slices.Clone(subs)})
		return st
	}
	doc := &Document{Version: "2012-10-17"}
	if len(spec.ExactSubs) > 0 {
		doc.Statements = append(doc.Statements, base(spec.Sid, "StringEquals", spec.ExactSubs))
	}
	if len(spec.LikeSubs) > 0 {
		sid := spec.Sid
		if sid != "" && len(spec.ExactSubs) > 0 {
			sid += "Wildcard"
		}
		doc.Statements = append(doc.Statements, base(sid, "StringLike", spec.LikeSubs))
	}
	for i := range doc.Statements {
		doc.Statements[i].Index = i
	}
	return doc, nil
}

func checkTrustSpec(spec TrustSpec) error {
	const providerMarker = ":oidc-provider/"
	_, host, ok := strings.Cut(spec.ProviderARN, providerMarker)
	switch {
	case !strings.HasPrefix(spec.ProviderARN, "arn:") || !ok || host == "":
		return fmt.Errorf("provider ARN %q is not an IAM OIDC provider ARN (arn:aws:iam::ACCOUNT:oidc-provider/HOST)", spec.ProviderARN)
	case spec.KeyPrefix == "":
		return errors.New("the condition key prefix is empty; it is the issuer without https://, e.g. gitlab.com")
	case strings.Contains(spec.KeyPrefix, "://"):
		return fmt.Errorf("condition key prefix %q has a scheme; IAM keys are the issuer without it (%q)", spec.KeyPrefix, spec.KeyPrefix[strings.Index(spec.KeyPrefix, "://")+3:])
	case !strings.EqualFold(spec.KeyPrefix, host):
		return fmt.Errorf("condition key prefix %q does not match the provider %q; IAM names the keys after the provider (%q)", spec.KeyPrefix, spec.ProviderARN, host+":sub")
	case !validSid(spec.Sid):
		return fmt.Errorf("the Sid %q may contain only letters and digits", spec.Sid)
	case len(nonEmpty(spec.Audiences)) == 0:
		return errors.New("no audience: the policy must pin " + spec.KeyPrefix + ":aud to the id_tokens aud (e.g. sts.amazonaws.com)")
	case len(spec.Audiences) != len(nonEmpty(spec.Audiences)):
		return errors.New("an audience is empty")
	case len(spec.ExactSubs)+len(spec.LikeSubs) == 0:
		return errors.New("no sub value: without a condition on " + spec.KeyPrefix + ":sub every project on the instance could assume the role")
	}
	for _, s := range spec.ExactSubs {
		if s == "" {
			return errors.New("an exact sub value is empty")
		}
		if strings.ContainsAny(s, "*?") {
			return fmt.Errorf("exact sub %q contains a wildcard, which StringEquals compares literally; list it as a wildcard (StringLike) sub", s)
		}
	}
	for _, s := range spec.LikeSubs {
		if !strings.ContainsAny(s, "*?") {
			return fmt.Errorf("wildcard sub %q has no * or ?; list it as an exact (StringEquals) sub", s)
		}
	}
	for k, v := range spec.ExtraEquals {
		lk := strings.ToLower(k)
		if lk == strings.ToLower(spec.KeyPrefix+":sub") || lk == strings.ToLower(spec.KeyPrefix+":aud") {
			return fmt.Errorf("extra condition on %q clashes with the sub/aud conditions; use Audiences, ExactSubs or LikeSubs", k)
		}
		if len(nonEmpty(v)) == 0 {
			return fmt.Errorf("extra condition on %q has no value", k)
		}
	}
	return nil
}

func validSid(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
