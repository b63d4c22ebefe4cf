package diagnose

import (
	"slices"
	"strings"
)

// rule looks at the evidence and returns the findings of one area. Rules are
// independent: each says only what its evidence proves.
type rule func(ev *Evidence) []Finding

var rules = []rule{
	tokenRules,
	issuerRules,
	providerRules,
	roleRules,
	trustRules,
	jobRules,
}

// Diagnose runs every rule of docs/causes.md sections A-E over the evidence
// and returns the findings ordered so that the first error is the most likely
// root cause: first the causes that match the STS error text (the error
// names the check that failed), then in the order STS performs its checks
// (parameters, provider, keys, signature, audience, expiry, trust policy),
// which is the order in which a failure would surface. Warnings and infos
// follow the errors. When audit rules are available, the role's trust policy
// audit (section F) is appended.
func Diagnose(ev *Evidence) []Finding {
	if ev == nil {
		return nil
	}
	var out []Finding
	for _, r := range rules {
		out = append(out, r(ev)...)
	}
	var ids []string
	for _, f := range out {
		ids = append(ids, f.ID)
	}
	out = append(out, stsMessageRules(ev, ids)...)
	out = dedupe(out)
	order(out, ev.sts())
	out = append(out, auditFindings(ev)...)
	return out
}

// dedupe keeps the first finding of each ID with the same title, so that a
// cause found twice (by the issuer probe and by the signature check, say) is
// reported once.
func dedupe(in []Finding) []Finding {
	seen := map[string]bool{}
	var out []Finding
	for _, f := range in {
		k := f.ID + "\x00" + f.Title
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

// stsOrder is the order in which STS checks a request: a cause earlier in
// the list would have failed the exchange before a later one was looked at.
var stsOrder = []string{
	"role-arn-empty", "token-malformed", "session-name-invalid", "duration-exceeds-max",
	"id-tokens-missing", "legacy-ci-job-jwt", "region-missing", "provider-id-set",
	"provider-not-found",
	"issuer-private-address", "discovery-unreachable", "jwks-rate-limited", "jwks-slow",
	"issuer-mismatch", "jwks-unreachable", "thumbprint-mismatch", "tls-untrusted",
	"signing-key-not-found", "signature-invalid",
	"aud-not-in-client-ids",
	"token-expired", "token-not-yet-valid",
	"role-not-found",
	"explicit-deny", "invalid-operator", "trust-no-web-identity-statement", "trust-principal-mismatch",
	"trust-condition-key-prefix", "condition-claim-unsupported", "aud-condition-mismatch",
	"sub-wildcard-needs-stringlike", "sub-ref-type-mismatch", "sub-case-mismatch",
	"sub-custom-components", "sub-mismatch", "condition-other-mismatch",
	"static-keys-override",
}

// matchingIDs are the causes an STS error points at, most specific first.
func matchingIDs(e *STSError) []string {
	if e == nil {
		return nil
	}
	msg := strings.ToLower(e.Message)
	switch e.Code {
	case "InvalidIdentityToken", "IDPCommunicationError", "IDPRejectedClaim":
		switch {
		case strings.Contains(msg, "no openidconnect provider found"):
			return []string{"provider-not-found"}
		case strings.Contains(msg, "incorrect token audience"), strings.Contains(msg, "claim: aud"):
			return []string{"aud-not-in-client-ids"}
		case strings.Contains(msg, "thumbprint"):
			return []string{"thumbprint-mismatch", "tls-untrusted"}
		case strings.Contains(msg, "verification key"), e.Code == "IDPCommunicationError":
			return []string{
				"issuer-private-address", "discovery-unreachable", "jwks-rate-limited", "jwks-slow",
				"issuer-mismatch", "jwks-unreachable", "thumbprint-mismatch", "tls-untrusted", "signing-key-not-found",
			}
		case strings.Contains(msg, "signature"):
			return []string{"signature-invalid", "signing-key-not-found"}
		}
		return []string{"token-malformed", "signature-invalid", "signing-key-not-found", "token-not-yet-valid"}
	case "ExpiredToken":
		return []string{"token-expired", "token-not-yet-valid"}
	case "AccessDenied":
		return []string{
			"role-arn-empty", "role-not-found", "explicit-deny", "invalid-operator",
			"trust-no-web-identity-statement", "trust-principal-mismatch", "trust-condition-key-prefix",
			"condition-claim-unsupported", "aud-condition-mismatch", "sub-wildcard-needs-stringlike",
			"sub-ref-type-mismatch", "sub-case-mismatch", "sub-custom-components", "sub-mismatch",
			"condition-other-mismatch", "provider-id-set",
		}
	case "ValidationError":
		switch {
		case strings.Contains(msg, "durationseconds"):
			return []string{"duration-exceeds-max"}
		case strings.Contains(msg, "rolesessionname"):
			return []string{"session-name-invalid"}
		case strings.Contains(msg, "rolearn"):
			return []string{"role-arn-empty"}
		case strings.Contains(msg, "webidentitytoken"):
			return []string{"token-malformed", "id-tokens-missing"}
		}
	}
	return nil
}

// decisive causes are certain whatever STS said: a value that is not a JWT
// fails every later check, so the error text describes a symptom of it.
var decisive = []string{"token-malformed"}

// order sorts findings in place: errors, then warnings, then the rest;
// among errors, decisive causes first, then those the STS error points at,
// then by stsOrder.
func order(fs []Finding, e *STSError) {
	hinted := append(slices.Clone(decisive), matchingIDs(e)...)
	rank := func(f Finding) (int, int, int) {
		sev := 2
		switch f.Severity {
		case SeverityError:
			sev = 0
		case SeverityWarning:
			sev = 1
		}
		h := slices.Index(hinted, f.ID)
		if h < 0 {
			h = len(hinted)
		}
		o := slices.Index(stsOrder, f.ID)
		if o < 0 {
			o = len(stsOrder)
		}
		return sev, h, o
	}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		as, ah, ao := rank(a)
		bs, bh, bo := rank(b)
		switch {
		case as != bs:
			return as - bs
		case ah != bh:
			return ah - bh
		}
		return ao - bo
	})
}

// HasError reports whether any finding is an error (the doctor's exit code).
func HasError(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == SeverityError })
}
