package diagnose

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/internal/token"
)

// STS's budget for discovery plus JWKS, and the point where we warn.
const (
	jwksBudget = 5 * time.Second
	jwksWarnAt = 2 * time.Second
)

// issuerRules are section B: can STS reach the issuer and read its keys?
func issuerRules(ev *Evidence) []Finding {
	r := ev.Issuer
	if r == nil {
		return nil
	}
	var out []Finding
	if r.Err != "" {
		return []Finding{{
			ID: "discovery-unreachable", Severity: SeverityError,
			Title:    "the issuer URL cannot be probed the way STS fetches it",
			Evidence: []string{"issuer     " + r.IssuerURL, "error      " + r.Err},
			Fix:      "The token's iss must be an https URL with a host and no query, served on the public internet (GitLab's external_url, or ci_id_tokens_issuer_url).",
		}}
	}
	private := r.PrivateOnly && !ev.PrivateIssuerOK
	if private {
		out = append(out, privateFinding(r))
	}
	rateLimited := r.Discovery.RateLimited || r.JWKS.RateLimited
	if rateLimited {
		out = append(out, rateLimitFinding(r))
	}
	if f, ok := slowFinding(r); ok {
		out = append(out, f)
	}
	if !r.Discovery.OK() && !rateLimited && !private && !timedOut(r.Discovery) {
		out = append(out, Finding{
			ID: "discovery-unreachable", Severity: SeverityError,
			Title:    "the issuer's discovery document cannot be fetched",
			Evidence: fetchEvidence(r.Discovery),
			Fix: "Serve " + r.Discovery.URL + " over HTTPS to the public internet with status 200 and a JSON body " +
				"(firewall, proxy and WAF rules; GitLab's /.well-known/openid-configuration route). " +
				"Check from outside: curl -sS -o /dev/null -w '%{http_code} %{time_total}s\\n' " + r.Discovery.URL,
		})
	}
	if r.Discovery.OK() && r.DiscoveredIssuer != "" && !r.IssuerMatches {
		out = append(out, issuerMismatchFinding(r))
	}
	if r.Discovery.OK() && !r.JWKS.OK() && !rateLimited && !timedOut(r.JWKS) {
		out = append(out, Finding{
			ID: "jwks-unreachable", Severity: SeverityError,
			Title:    "the issuer's jwks_uri cannot be fetched or is not a JWK set",
			Evidence: append([]string{"jwks_uri   " + orNone(r.JWKSURI)}, fetchEvidence(r.JWKS)...),
			Fix: "Make jwks_uri (GitLab: /oauth/discovery/keys) answer 200 with {\"keys\":[...]} to the public internet; " +
				"with ci_id_tokens_issuer_url, publish the keys next to the discovery document and point jwks_uri at them.",
		})
	}
	out = append(out, tlsFindings(ev, r)...)
	if ev.Token != nil && !ev.Predicted && ev.Signature == nil && r.Keys != nil {
		// Collect verifies with the probe's keys; evidence built by hand may
		// only carry the kids.
		if kid := ev.Token.Header.Kid; kid != "" && !slices.Contains(r.KeyIDs, kid) {
			out = append(out, signatureFinding(ev, &SignatureCheck{KeySource: r.JWKSURI, KeyNotFound: true, KeyIDs: r.KeyIDs, Err: "kid not in set"}))
		}
	}
	return out
}

func privateFinding(r *issuer.Report) Finding {
	ev := []string{"issuer     " + r.IssuerURL}
	if len(r.Addresses) > 0 {
		ev = append(ev, "addresses  "+strings.Join(r.Addresses, ", ")+" (private, loopback or link-local)")
	}
	if r.ResolveErr != "" {
		ev = append(ev, "resolve    "+r.ResolveErr)
	}
	return Finding{
		ID: "issuer-private-address", Severity: SeverityError,
		Title:    "STS cannot reach the issuer: its host has no public address",
		Evidence: ev,
		Fix: "STS fetches the keys from the public internet. Either expose /.well-known/openid-configuration and /oauth/discovery/keys publicly, " +
			"or (GitLab 18.1+) set gitlab_rails['ci_id_tokens_issuer_url'] to a public copy (e.g. an S3 bucket) holding both documents " +
			"and create the IAM provider for that URL. Re-run with --private-issuer-ok once the issuer is published that way.",
	}
}

func rateLimitFinding(r *issuer.Report) Finding {
	ev := []string{}
	for _, f := range []issuer.Fetch{r.Discovery, r.JWKS} {
		if f.RateLimited {
			ev = append(ev, fmt.Sprintf("%s answered %d", f.URL, f.Status))
		}
	}
	return Finding{
		ID: "jwks-rate-limited", Severity: SeverityError,
		Title:    "the issuer refuses some requests (429 Too Many Requests or 403 from a WAF)",
		Evidence: ev,
		Fix: "Exempt /.well-known/openid-configuration and /oauth/discovery/keys from rate limits and WAF rules " +
			"(GitLab: Admin > Settings > Network > rate limits; ingress/WAF allow rules): STS requests come from AWS addresses and cannot be allow-listed reliably.",
	}
}

// slowFinding compares discovery plus JWKS time with STS's budget. A fetch
// that timed out counts as over budget.
func slowFinding(r *issuer.Report) (Finding, bool) {
	total := r.Discovery.Duration + r.JWKS.Duration
	to := timedOut(r.Discovery) || timedOut(r.JWKS)
	if total <= jwksWarnAt && !to {
		return Finding{}, false
	}
	sev := SeverityWarning
	title := fmt.Sprintf("the issuer takes %v to serve discovery and keys", total.Round(time.Millisecond))
	if total > jwksBudget || to {
		sev = SeverityError
	}
	if to {
		title = "the issuer does not answer within STS's time budget"
		total = max(total, r.Total)
	}
	ev := []string{
		fmt.Sprintf("discovery  %v%s", r.Discovery.Duration.Round(time.Millisecond), errSuffix(r.Discovery)),
		fmt.Sprintf("jwks       %v%s", r.JWKS.Duration.Round(time.Millisecond), errSuffix(r.JWKS)),
		fmt.Sprintf("total      %v (STS gives up after about %v; warning above %v)", total.Round(time.Millisecond), jwksBudget, jwksWarnAt),
	}
	return Finding{
		ID: "jwks-slow", Severity: sev,
		Title:    title,
		Evidence: ev,
		Fix: "Serve both documents fast from everywhere: cache them at a CDN or a static copy (ci_id_tokens_issuer_url), " +
			"and check the GitLab instance's load and any proxy in front of it.",
	}, true
}

func issuerMismatchFinding(r *issuer.Report) Finding {
	_, at := token.FirstDifference(r.IssuerURL, r.DiscoveredIssuer)
	return Finding{
		ID: "issuer-mismatch", Severity: SeverityError,
		Title: "the discovery document's issuer differs from the token's iss",
		Evidence: []string{
			"token iss  " + r.IssuerURL,
			"discovery  " + r.DiscoveredIssuer,
			fmt.Sprintf("differ at  byte %d%s", at, describeURLDiff(r.IssuerURL, r.DiscoveredIssuer)),
		},
		Fix: "Make them identical, byte for byte: set GitLab's external_url (or gitlab_rails['ci_id_tokens_issuer_url']) to " +
			r.DiscoveredIssuer + " or fix the published discovery document's \"issuer\" to " + r.IssuerURL +
			"; then the IAM provider URL must be that same value.",
	}
}

// describeURLDiff names the usual near misses between two URLs.
func describeURLDiff(a, b string) string {
	switch {
	case strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/"):
		return " (a trailing slash)"
	case KeyPrefix(a) == KeyPrefix(b):
		return " (the scheme)"
	case strings.EqualFold(a, b):
		return " (letter case)"
	}
	return ""
}

// tlsFindings judges the certificate chain STS would see, for the issuer
// host and for jwks_uri's host when it differs.
func tlsFindings(ev *Evidence, r *issuer.Report) []Finding {
	var out []Finding
	thumbs := providerThumbprints(ev)
	for _, info := range []*issuer.TLSInfo{&r.TLS, r.JWKSTLS} {
		if info == nil || len(info.Chain) == 0 {
			continue
		}
		matched := slices.ContainsFunc(thumbs, func(t string) bool { return strings.EqualFold(t, info.TopThumbprint) })
		if info.PubliclyTrusted && info.OrderError == "" {
			continue
		}
		evidence := chainEvidence(info)
		if len(thumbs) > 0 && !matched {
			out = append(out, Finding{
				ID: "thumbprint-mismatch", Severity: SeverityError,
				Title: "no provider thumbprint matches the certificate " + info.Host + " sends",
				Evidence: append([]string{
					"configured " + strings.Join(thumbs, ", "),
					"computed   " + info.TopThumbprint + " (SHA-1 of the top certificate sent)",
				}, evidence...),
				Fix: fmt.Sprintf("aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn %s --thumbprint-list %s",
					providerARNFor(ev), info.TopThumbprint),
			})
		}
		sev := SeverityError
		if matched && info.OrderError == "" {
			sev = SeverityWarning // AWS falls back to the thumbprint, which matches
		}
		why := "the chain does not verify against public roots: " + info.VerifyError
		if info.PubliclyTrusted {
			why = "the chain is out of order: " + info.OrderError
		}
		out = append(out, Finding{
			ID: "tls-untrusted", Severity: sev,
			Title:    "the certificate of " + info.Host + " is not publicly trusted",
			Evidence: append([]string{why}, evidence...),
			Fix: "Serve a certificate from a public CA with the full chain in order (leaf, then each issuer; e.g. Let's Encrypt fullchain.pem). " +
				"Until then AWS can only rely on the provider's thumbprint of the top certificate: " + info.TopThumbprint,
		})
	}
	return out
}

func chainEvidence(info *issuer.TLSInfo) []string {
	var out []string
	for i, c := range info.Chain {
		out = append(out, fmt.Sprintf("cert %d     subject %q issuer %q sha1 %s", i, c.Subject, c.Issuer, c.SHA1))
	}
	return out
}

// providerThumbprints are the thumbprints of the provider for the token's
// issuer, if known.
func providerThumbprints(ev *Evidence) []string {
	if p := providerFor(ev); p != nil {
		return p.Thumbprints
	}
	return nil
}

func fetchEvidence(f issuer.Fetch) []string {
	out := []string{"url        " + f.URL}
	if f.Status != 0 {
		out = append(out, fmt.Sprintf("status     %d", f.Status))
	}
	if f.Err != "" {
		out = append(out, "error      "+f.Err)
	}
	if f.ContentType != "" {
		out = append(out, "type       "+f.ContentType)
	}
	return out
}

func errSuffix(f issuer.Fetch) string {
	if f.Err == "" {
		return ""
	}
	return " (" + f.Err + ")"
}

func timedOut(f issuer.Fetch) bool {
	return strings.Contains(f.Err, "timed out")
}
