package diagnose

import (
	"regexp"
	"slices"
	"strings"

	"gitlab-oidc/internal/token"
)

// genericClaims are the claims STS passes as condition keys for every OIDC
// provider (AWS IAM User Guide, "Available keys for AWS web identity
// federation").
var genericClaims = []string{"aud", "sub", "amr", "azp"}

// gitlabComClaims are the extra claims STS passes for the gitlab.com
// provider only (AWS Service Authorization Reference, STS condition keys).
var gitlabComClaims = []string{
	"namespace_id", "pipeline_source", "project_id", "ref_protected",
	"runner_environment", "user_access_level", "user_email", "user_id", "user_login",
}

// KeyPrefix is the condition-key prefix and provider path IAM derives from
// an issuer: the URL without its scheme ("gitlab.com",
// "git.example.com/gitlab").
func KeyPrefix(iss string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(iss, "https://"), "http://")
	return p
}

// SupportedClaims lists the claims STS passes as condition keys for the
// provider with this key prefix.
func SupportedClaims(prefix string) []string {
	if strings.EqualFold(prefix, "gitlab.com") {
		return append(slices.Clone(genericClaims), gitlabComClaims...)
	}
	return slices.Clone(genericClaims)
}

// ConditionContext builds the request context AWS evaluates a trust policy
// against for these claims: "<prefix>:<claim>" for each supported claim the
// token has. It is what IAM sees, so a condition on any other key finds no
// value.
func ConditionContext(c token.Claims) (prefix string, ctx map[string][]string) {
	prefix = KeyPrefix(c.Issuer)
	ctx = map[string][]string{}
	for _, name := range SupportedClaims(prefix) {
		if v, ok := c.Value(name); ok {
			ctx[prefix+":"+name] = v
		}
	}
	return prefix, ctx
}

// ProviderARN is the ARN of the IAM OIDC provider for prefix in account.
func ProviderARN(account, prefix string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + prefix
}

var roleARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$`)

// ParseRoleARN returns the account and role name of a role ARN, or ok false.
func ParseRoleARN(arn string) (account, name string, ok bool) {
	m := roleARNRe.FindStringSubmatch(arn)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// splitKey splits a condition key "prefix:claim" at its last colon (the
// prefix may itself hold a colon, as in the wrong "https://gitlab.com:sub").
func splitKey(key string) (prefix, claim string) {
	i := strings.LastIndexByte(key, ':')
	if i < 0 {
		return "", key
	}
	return key[:i], key[i+1:]
}

// globalKeyPrefixes are AWS's own condition-key namespaces: keys under them
// are not token claims.
var globalKeyPrefixes = []string{"aws", "sts", "iam", "accounts.google.com", "cognito-identity.amazonaws.com", "graph.facebook.com", "www.amazon.com"}

func isGlobalKey(prefix string) bool {
	return slices.ContainsFunc(globalKeyPrefixes, func(p string) bool { return strings.EqualFold(p, prefix) })
}
