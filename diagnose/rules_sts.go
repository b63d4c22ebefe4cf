package diagnose

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

var noProviderRe = regexp.MustCompile(`No OpenIDConnect provider found in your account for (\S+)`)

// stsMessageRules turn the STS error text into a finding when the evidence
// that would prove the cause is missing (no token, offline, no access to
// the account). The error text alone names the failed check; the finding
// says what could not be verified. covered lists the IDs other rules
// already reported from real evidence: those are not repeated.
func stsMessageRules(ev *Evidence, covered []string) []Finding {
	e := ev.sts()
	if e == nil {
		return nil
	}
	has := func(ids ...string) bool {
		return slices.ContainsFunc(ids, func(id string) bool { return slices.Contains(covered, id) })
	}
	line := "STS        " + e.Code + ": " + e.Message + toolSuffix(e)
	msg := strings.ToLower(e.Message)
	var f Finding
	switch {
	case e.Code == "InvalidIdentityToken" && strings.Contains(msg, "no openidconnect provider found"):
		if has("provider-not-found") {
			return nil
		}
		iss := "the token's iss"
		if m := noProviderRe.FindStringSubmatch(e.Message); m != nil {
			iss = strings.TrimRight(m[1], ".,")
		}
		f = Finding{
			ID: "provider-not-found", Title: "STS found no IAM OIDC provider for " + iss,
			Fix: fmt.Sprintf("Create the provider for exactly that URL (STS echoes the token's iss, trailing slash included):\n  aws iam create-open-id-connect-provider --url %s --client-id-list sts.amazonaws.com\nor fix the issuer if it is not what you expect. Run doctor with AWS access (--profile) to compare with the providers that exist.", iss),
		}
	case e.Code == "InvalidIdentityToken" && (strings.Contains(msg, "incorrect token audience") || strings.Contains(msg, "claim: aud")):
		if has("aud-not-in-client-ids", "aud-condition-mismatch") {
			return nil
		}
		f = Finding{
			ID: "aud-not-in-client-ids", Title: "the token's aud is not a client ID of the provider",
			Fix: "Make the id_tokens aud: in .gitlab-ci.yml equal a client ID of the provider, or add it:\n  aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn " + providerARNFor(ev) + " --client-id AUD",
		}
	case e.Code == "InvalidIdentityToken" && strings.Contains(msg, "thumbprint"):
		if has("thumbprint-mismatch", "tls-untrusted") {
			return nil
		}
		f = Finding{
			ID: "thumbprint-mismatch", Title: "the issuer's certificate matches none of the provider's thumbprints",
			Fix: "Compute the thumbprint of the top certificate the issuer sends and set it:\n  aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn " + providerARNFor(ev) + " --thumbprint-list SHA1\n(run doctor without --offline to compute it).",
		}
	case (e.Code == "InvalidIdentityToken" && strings.Contains(msg, "verification key")) || e.Code == "IDPCommunicationError":
		if has(matchingIDs(e)...) || ev.Issuer != nil || ev.TokenErr != nil {
			return nil
		}
		f = Finding{
			ID: "discovery-unreachable", Title: "STS could not fetch the issuer's discovery document or keys",
			Fix: "STS fetches <iss>/.well-known/openid-configuration and its jwks_uri from the public internet within about 5 s. " +
				"Run doctor without --offline (with the token) to probe both, or check from outside your network with curl.",
		}
	case e.Code == "ExpiredToken":
		if has("token-expired", "token-not-yet-valid") {
			return nil
		}
		f = Finding{
			ID: "token-expired", Title: "STS says the token expired",
			Fix: "Request the credentials at the start of the job (exp = iat + job timeout) and never reuse a token from another job.",
		}
		if now, exp, ok := expiredTimes(e.Message); ok {
			f.Evidence = append(f.Evidence, "exp        "+stamp(exp), "STS time   "+stamp(now), "gap        "+roundGap(now.Sub(exp)))
		}
	case e.Code == "ValidationError" && strings.Contains(msg, "durationseconds"):
		if has("duration-exceeds-max") {
			return nil
		}
		f = durationFinding(ev, SeverityError, "more than the role allows", "")
		f.Evidence = f.Evidence[1:2]
	case e.Code == "ValidationError" && strings.Contains(msg, "rolesessionname"):
		if has("session-name-invalid") {
			return nil
		}
		f = Finding{
			ID: "session-name-invalid", Title: "STS rejected the role session name",
			Fix: `Build it from numeric IDs: --role-session-name "gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}" (2-64 characters of [\w+=,.@-]).`,
		}
	case e.Code == "ValidationError" && strings.Contains(msg, "webidentitytoken"):
		if has("token-malformed", "id-tokens-missing") {
			return nil
		}
		f = Finding{
			ID: "token-malformed", Title: "STS received no usable web identity token",
			Fix: "Give the job an ID token and pass that exact variable to STS:\n" + idTokensSnippet("GITLAB_OIDC_TOKEN", "sts.amazonaws.com"),
		}
	default:
		return nil
	}
	f.Severity = SeverityError
	f.Evidence = append([]string{line}, f.Evidence...)
	return []Finding{f}
}

func toolSuffix(e *STSError) string {
	var parts []string
	if e.Tool != "" {
		parts = append(parts, e.Tool)
	}
	if e.Line > 0 {
		parts = append(parts, fmt.Sprintf("log line %d", e.Line))
	}
	if !e.At.IsZero() {
		parts = append(parts, stamp(e.At))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
