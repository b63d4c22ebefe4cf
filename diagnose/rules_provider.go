package diagnose

import (
	"fmt"
	"slices"
	"strings"
)

// providerFor is the provider IAM would pick for the token's issuer: the one
// whose URL equals iss without its scheme.
func providerFor(ev *Evidence) *Provider {
	c := ev.claims()
	if c == nil || ev.Providers == nil {
		return nil
	}
	want := KeyPrefix(c.Issuer)
	for i, p := range ev.Providers.List {
		if KeyPrefix(p.URL) == want {
			return &ev.Providers.List[i]
		}
	}
	return nil
}

// providerARNFor is the ARN of the provider for the token's issuer, or the
// ARN it would have in the role's account.
func providerARNFor(ev *Evidence) string {
	if p := providerFor(ev); p != nil && p.ARN != "" {
		return p.ARN
	}
	prefix := "ISSUER_HOST"
	if c := ev.claims(); c != nil {
		prefix = KeyPrefix(c.Issuer)
	}
	account := "ACCOUNT_ID"
	if ev.Role != nil && ev.Role.AccountID != "" {
		account = ev.Role.AccountID
	}
	return ProviderARN(account, prefix)
}

// providerRules are section C: is there a provider for iss, and does it
// accept the token's aud?
func providerRules(ev *Evidence) []Finding {
	c := ev.claims()
	if c == nil || ev.Providers == nil || c.Issuer == "" {
		return nil
	}
	p := providerFor(ev)
	if p == nil {
		if !ev.Providers.Listed && len(ev.Providers.List) == 0 {
			return nil
		}
		return []Finding{providerNotFound(ev, c.Issuer)}
	}
	if ev.Predicted && ev.unknownClaim("aud") {
		return nil
	}
	if slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(p.ClientIDs, a) }) {
		return nil
	}
	aud := strings.Join(c.Audience, ", ")
	evidence := []string{
		"token aud  " + orNone(aud),
		"client IDs " + orNone(strings.Join(p.ClientIDs, ", ")) + " (provider " + p.URL + ")",
	}
	if near := nearMiss(c.Audience, p.ClientIDs); near != "" {
		evidence = append(evidence, "near miss  "+near)
	}
	first := "sts.amazonaws.com"
	if len(c.Audience) > 0 {
		first = c.Audience[0]
	}
	fix := fmt.Sprintf("Either add the token's aud to the provider:\n  aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn %s --client-id %s\n", providerARNFor(ev), first)
	if len(p.ClientIDs) > 0 {
		fix += fmt.Sprintf("or make the job request an audience the provider has, in .gitlab-ci.yml:\n%s", idTokensSnippet(tokenVarName(ev), p.ClientIDs[0]))
	}
	return []Finding{{
		ID: "aud-not-in-client-ids", Severity: SeverityError,
		Title:    fmt.Sprintf("the token's aud %q is not a client ID of the provider", aud),
		Evidence: evidence, Fix: fix,
	}}
}

// providerNotFound lists the providers that exist and the closest one.
func providerNotFound(ev *Evidence, iss string) Finding {
	want := KeyPrefix(iss)
	evidence := []string{"token iss  " + iss + " (IAM looks for a provider with URL " + want + ")"}
	var urls []string
	for _, p := range ev.Providers.List {
		urls = append(urls, p.URL)
	}
	evidence = append(evidence, "providers  "+orNone(strings.Join(urls, ", ")))
	if best, why := closestURL(iss, urls); best != "" {
		evidence = append(evidence, "closest    "+best+" ("+why+")")
	}
	aud := "sts.amazonaws.com"
	if c := ev.claims(); c != nil && len(c.Audience) > 0 {
		aud = c.Audience[0]
	}
	return Finding{
		ID: "provider-not-found", Severity: SeverityError,
		Title:    "no IAM OIDC provider in the role's account has the token's issuer URL",
		Evidence: evidence,
		Fix: fmt.Sprintf("Create the provider for exactly the token's iss:\n  aws iam create-open-id-connect-provider --url %s --client-id-list %s\n"+
			"or, if the token's iss is wrong, fix GitLab's external_url / ci_id_tokens_issuer_url so that iss equals the provider URL.", iss, aud),
	}
}

// closestURL picks the provider URL nearest to iss and names the near miss.
func closestURL(iss string, urls []string) (string, string) {
	want := KeyPrefix(iss)
	host, _, _ := strings.Cut(want, "/")
	var best, why string
	score := -1
	for _, u := range urls {
		got := KeyPrefix(u)
		gotHost, _, _ := strings.Cut(got, "/")
		s, w := 0, ""
		switch {
		case strings.TrimSuffix(got, "/") == strings.TrimSuffix(want, "/"):
			s, w = 4, "differs only by a trailing slash"
		case strings.EqualFold(got, want):
			s, w = 4, "differs only in letter case"
		case gotHost == host:
			s, w = 3, "same host, other path"
		case strings.HasSuffix(gotHost, hostDomain(host)) || strings.HasSuffix(host, hostDomain(gotHost)):
			s, w = 2, "other host in the same domain"
		default:
			s, w = 1, "other host"
		}
		if strings.HasPrefix(u, "http://") {
			w += "; registered with http://"
		}
		if s > score {
			best, why, score = u, w, s
		}
	}
	return best, why
}

// hostDomain is the last two labels of a host.
func hostDomain(host string) string {
	parts := strings.Split(host, ".")
	if len(parts) <= 2 {
		return host
	}
	return strings.Join(parts[len(parts)-2:], ".")
}

// nearMiss names a client ID that almost equals one of the audiences.
func nearMiss(auds, ids []string) string {
	for _, a := range auds {
		for _, id := range ids {
			switch {
			case strings.TrimSuffix(a, "/") == strings.TrimSuffix(id, "/"):
				return fmt.Sprintf("%q vs %q: a trailing slash", a, id)
			case strings.EqualFold(a, id):
				return fmt.Sprintf("%q vs %q: letter case", a, id)
			case KeyPrefix(a) == KeyPrefix(id):
				return fmt.Sprintf("%q vs %q: the scheme", a, id)
			case (a == "sts.amazonaws.com") != (id == "sts.amazonaws.com"):
				return fmt.Sprintf("%q vs %q: one uses sts.amazonaws.com, the other the instance URL", a, id)
			}
		}
	}
	return ""
}

// tokenVarName is the id_tokens variable the job uses, for snippets.
func tokenVarName(ev *Evidence) string {
	if ev.Pipeline != nil && ev.Pipeline.Job != nil {
		if vars := ev.Pipeline.Job.TokenVars(); len(vars) > 0 {
			return vars[0]
		}
	}
	return "GITLAB_OIDC_TOKEN"
}
