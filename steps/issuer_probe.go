package steps

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"gitlab-oidc/internal/issuer"
)

// ProbeIssuer returns the real issuer probe: it fetches the discovery
// document and JWKS and inspects TLS the way STS will, and turns the report
// into what the Connect screen shows. opts may be nil for the defaults.
func ProbeIssuer(opts *issuer.Options) IssuerProbe {
	return func(ctx context.Context, target string) IssuerStatus {
		var o issuer.Options
		if opts != nil {
			o = *opts
		}
		return issuerStatus(target, issuer.Probe(ctx, target, o))
	}
}

// issuerStatus summarises a probe report. The issuer is the discovery
// document's own issuer when it has one (ci_id_tokens_issuer_url may differ
// from the GitLab URL); when discovery fails setup warns and goes on with
// the URL it probed.
func issuerStatus(target string, r issuer.Report) IssuerStatus {
	st := IssuerStatus{
		URL:             strings.TrimSuffix(target, "/"),
		DiscoveryMillis: r.Discovery.Duration.Milliseconds(),
		JWKSMillis:      r.JWKS.Duration.Milliseconds(),
		PubliclyTrusted: r.TLS.PubliclyTrusted,
		OK:              r.Discovery.OK() && r.JWKS.OK(),
	}
	if !r.TLS.PubliclyTrusted {
		st.Thumbprint = r.TLS.TopThumbprint
	}
	var warnings []string
	switch {
	case r.Err != "":
		warnings = append(warnings, "issuer: "+r.Err)
	case !r.Discovery.OK():
		warnings = append(warnings, fmt.Sprintf("discovery document %s could not be fetched (%s): setup goes on with %s as the issuer, but STS will fail the same way", r.Discovery.URL, cmp.Or(r.Discovery.Err, fmt.Sprint("HTTP ", r.Discovery.Status)), st.URL))
	case r.DiscoveredIssuer != "" && strings.TrimSuffix(r.DiscoveredIssuer, "/") != st.URL:
		st.URL = strings.TrimSuffix(r.DiscoveredIssuer, "/")
		st.Source = "discovery"
		warnings = append(warnings, fmt.Sprintf("the instance's tokens are issued by %s, not %s (ci_id_tokens_issuer_url)", r.DiscoveredIssuer, target))
	default:
		st.Source = "discovery"
	}
	if r.Discovery.OK() && !r.JWKS.OK() {
		warnings = append(warnings, fmt.Sprintf("JWKS %s could not be fetched (%s)", r.JWKSURI, cmp.Or(r.JWKS.Err, fmt.Sprint("HTTP ", r.JWKS.Status))))
	}
	if r.PrivateOnly {
		warnings = append(warnings, "the issuer resolves only to private addresses: STS fetches the keys from the internet and will answer InvalidIdentityToken")
	}
	if st.Thumbprint != "" {
		warnings = append(warnings, fmt.Sprintf("the issuer's certificate is not publicly trusted (%s): the provider gets thumbprint %s", cmp.Or(r.TLS.VerifyError, "private CA"), st.Thumbprint))
	}
	if total := r.Discovery.Duration + r.JWKS.Duration; total > 2*time.Second {
		warnings = append(warnings, fmt.Sprintf("discovery and JWKS took %s; STS gives up after about 5 s", total.Round(time.Millisecond)))
	}
	st.Warning = strings.Join(warnings, "; ")
	return st
}
