package diagnose

import (
	"regexp"
	"strings"

	"gitlab-oidc/internal/token"
)

// maskRule replaces every match of re with what repl returns for it.
type maskRule struct {
	re   *regexp.Regexp
	repl func(m []string) string
}

// maskRules run in order. JWTs come first, so that the long base64 rule
// never eats a token's parts before token.Redact can describe it; the
// assignment rules keep the variable name so the reader still sees which
// secret was there.
var maskRules = []maskRule{
	// A JWT, or its first two parts when the signature was cut off.
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?`), func(m []string) string {
		return "[jwt " + token.Redact(m[0]) + "]"
	}},
	// Access key IDs: long-term (AKIA) and temporary (ASIA). Only the prefix
	// stays: it says which kind of key leaked, and keeping any other
	// character could rebuild a key with the text around it.
	{regexp.MustCompile(`(AKIA|ASIA)[A-Z0-9]{16}`), func(m []string) string {
		return m[1] + "****************"
	}},
	// NAME=value and NAME: value forms of secret variables and headers.
	{regexp.MustCompile(`(?i)((?:AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN|aws_secret_access_key|aws_session_token|SecretAccessKey|SessionToken|PRIVATE-TOKEN|JOB-TOKEN|GITLAB_TOKEN|CI_JOB_TOKEN)["']?\s*[:=]\s*["']?)([^\s"',}]+)`), func(m []string) string {
		return m[1] + "[masked]"
	}},
	{regexp.MustCompile(`(?i)(Authorization:\s*(?:Bearer|Basic|token)\s+)(\S+)`), func(m []string) string {
		return m[1] + "[masked]"
	}},
	// GitLab tokens carry a documented prefix.
	{regexp.MustCompile(`\b(glpat|gloas|gldt|glrt|glrtr|glcbt|glptt|glft|glimt|glagent|glsoat|glffct|glwt)-[A-Za-z0-9_.-]{8,}`), func(m []string) string {
		return m[1] + "-[masked]"
	}},
	// Session tokens and other long base64 blobs (STS session tokens are
	// several hundred characters).
	// Long paths and words are kept: only text that looks generated goes.
	{regexp.MustCompile(`[A-Za-z0-9/+]{100,}={0,2}`), func(m []string) string {
		if !looksRandom(m[0]) {
			return m[0]
		}
		return "[masked base64]"
	}},
	// A 40-character secret access key printed alone (e.g. by
	// --output text). The run is maximal, so only a word of exactly 40
	// characters qualifies. Pure hex is left alone: those are commit SHAs
	// and thumbprints, which the report needs.
	{regexp.MustCompile(`[A-Za-z0-9/+]{40,}`), func(m []string) string {
		if len(m[0]) != 40 || isHex(m[0]) || !looksRandom(m[0]) {
			return m[0]
		}
		return "[masked secret]"
	}},
}

// MaskSecrets hides AWS access keys, secret keys, session tokens, JWTs and
// GitLab tokens in text that came from a job log or an error message, so
// that the report can quote the text safely. A JWT becomes its token.Redact
// form, which still tells two tokens apart.
func MaskSecrets(s string) string {
	for _, r := range maskRules {
		if !r.re.MatchString(s) {
			continue
		}
		s = replaceAll(r, s)
	}
	return s
}

// replaceAll applies one rule. Matches are replaced from a single pass over
// the input, so a replacement is never scanned again by the same rule.
func replaceAll(r maskRule, s string) string {
	idx := r.re.FindAllStringSubmatchIndex(s, -1)
	var b strings.Builder
	last := 0
	for _, loc := range idx {
		m := make([]string, len(loc)/2)
		for i := range m {
			if loc[2*i] >= 0 {
				m[i] = s[loc[2*i]:loc[2*i+1]]
			}
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(r.repl(m))
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// looksRandom tells a generated secret (mixed case and digits, or a '/' or
// '+') from a 40-character word such as a long identifier.
func looksRandom(s string) bool {
	var upper, lower, digit, other bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
		}
	}
	return other || (upper && lower && digit)
}
