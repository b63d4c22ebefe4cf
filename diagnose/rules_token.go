package diagnose

import (
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gitlab-oidc/internal/token"
)

// AddToken parses raw into the evidence (claims, header and redacted form
// only; raw itself is not kept) and, when keys are given, checks its
// signature. source names where the token came from, keySource where the
// keys came from.
func (ev *Evidence) AddToken(raw, source string, keys *jose.JSONWebKeySet, keySource string) {
	ev.TokenSource = source
	tok, err := token.Parse(raw)
	if err != nil {
		var me *token.MalformedError
		if !errors.As(err, &me) {
			me = &token.MalformedError{Reason: err.Error()}
		}
		ev.TokenErr = me
		return
	}
	ev.Token = &TokenFacts{Header: tok.Header, Claims: tok.Claims, Redacted: tok.Redacted(), Len: tok.Len()}
	if keys != nil {
		ev.Signature = verify(tok, keys, keySource)
	}
}

// verify checks a token's signature and classifies the outcome.
func verify(tok *token.Token, keys *jose.JSONWebKeySet, keySource string) *SignatureCheck {
	sc := &SignatureCheck{KeySource: keySource, KeyIDs: token.KeyIDs(keys)}
	if err := tok.Verify(keys); err != nil {
		sc.Err = err.Error()
		sc.KeyNotFound = errors.Is(err, token.ErrKeyNotFound)
		sc.Invalid = errors.Is(err, token.ErrSignatureInvalid)
	}
	return sc
}

// tokenRules are section A: the token itself.
func tokenRules(ev *Evidence) []Finding {
	var out []Finding
	if ev.TokenErr != nil {
		out = append(out, malformedFinding(ev))
	}
	if ev.Token == nil || ev.Predicted {
		return out
	}
	c := ev.Token.Claims
	now := ev.Now
	if !now.IsZero() && c.Expiry != nil && !now.Before(*c.Expiry) {
		out = append(out, Finding{
			ID: "token-expired", Severity: SeverityError,
			Title: fmt.Sprintf("the token expired %s before the exchange", roundGap(now.Sub(*c.Expiry))),
			Evidence: []string{
				"exp        " + stamp(*c.Expiry),
				"reference  " + stamp(now) + " (" + ev.NowSource + ")",
				"gap        " + roundGap(now.Sub(*c.Expiry)),
				lifetime(c),
			},
			Fix: "Request the credentials at the start of the job, right after it starts: GitLab sets exp = iat + the job timeout. " +
				"Never reuse a token from another job or an artifact; each job gets its own. " +
				"If the step runs late in a long job, raise the job timeout (timeout: in .gitlab-ci.yml) or exchange the token earlier and keep the credentials.",
		})
	}
	if f, ok := notYetValid(c, now, ev.NowSource); ok {
		out = append(out, f)
	}
	if s := ev.Signature; s != nil && s.Err != "" {
		out = append(out, signatureFinding(ev, s))
	}
	return out
}

// malformedFinding explains why the value is not a JWT and where to fix it.
func malformedFinding(ev *Evidence) Finding {
	e := ev.TokenErr
	evidence := []string{"reason     " + e.Reason}
	if e.Part > 0 {
		evidence = append(evidence, fmt.Sprintf("where      byte %d, in part %d (%s)", e.Offset, e.Part, partNames[e.Part]))
	} else if e.Offset > 0 {
		evidence = append(evidence, fmt.Sprintf("where      byte %d", e.Offset))
	}
	if ev.TokenSource != "" {
		evidence = append(evidence, "source     "+ev.TokenSource)
	}
	fix := "Give the job an ID token and pass that exact variable to STS:\n" + idTokensSnippet("GITLAB_OIDC_TOKEN", "sts.amazonaws.com")
	switch r := strings.ToLower(e.Reason); {
	case strings.Contains(r, "quote"):
		fix = `Pass the bare token: --web-identity-token "$GITLAB_OIDC_TOKEN" (the shell removes these quotes; quotes inside a variable's value are kept).`
	case strings.Contains(r, "newline"), strings.Contains(r, "space"), strings.Contains(r, "tab"), strings.Contains(r, "carriage"):
		fix = `Write the token without a trailing newline or wrapping: printf '%s' "$GITLAB_OIDC_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE" (not echo), and never paste it through a wrapping terminal.`
	case strings.Contains(r, "cut off"), strings.Contains(r, "truncated"), strings.Contains(r, "parts"):
		fix = "The token was cut: pass the whole variable (no cut/head, no masking tool in between) and do not copy it from a job log, where GitLab masks it."
	}
	return Finding{
		ID: "token-malformed", Severity: SeverityError,
		Title:    "the value passed as the web identity token is not a JWT",
		Evidence: evidence, Fix: fix,
	}
}

var partNames = [4]string{"token", "header", "claims", "signature"}

// notYetValid reports a token whose nbf or iat is after the reference time:
// the runner's clock is ahead of AWS's.
func notYetValid(c token.Claims, now time.Time, nowSource string) (Finding, bool) {
	if now.IsZero() {
		return Finding{}, false
	}
	var name string
	var at time.Time
	switch {
	case c.NotBefore != nil && c.NotBefore.After(now):
		name, at = "nbf", *c.NotBefore
	case c.IssuedAt != nil && c.IssuedAt.After(now):
		name, at = "iat", *c.IssuedAt
	default:
		return Finding{}, false
	}
	return Finding{
		ID: "token-not-yet-valid", Severity: SeverityError,
		Title: fmt.Sprintf("the token's %s is %s after the exchange: a clock is wrong", name, roundGap(at.Sub(now))),
		Evidence: []string{
			fmt.Sprintf("%-10s %s", name, stamp(at)),
			"reference  " + stamp(now) + " (" + nowSource + ")",
		},
		Fix: "Fix the clock of the GitLab server (it sets iat and nbf = iat - 5 s) or of the machine that gave the reference time: enable NTP (timedatectl set-ntp true) and check with `date -u`.",
	}, true
}

// signatureFinding reports a token that does not verify with the issuer's
// keys.
func signatureFinding(ev *Evidence, s *SignatureCheck) Finding {
	kid := ev.Token.Header.Kid
	if s.KeyNotFound {
		return Finding{
			ID: "signing-key-not-found", Severity: SeverityError,
			Title: fmt.Sprintf("the token's kid %q is not in the issuer's key set", kid),
			Evidence: []string{
				"token kid  " + kid,
				"keys       " + orNone(strings.Join(s.KeyIDs, ", ")) + " (from " + s.KeySource + ")",
				"iss        " + ev.Token.Claims.Issuer,
			},
			Fix: "Use a token from the same GitLab instance as iss, issued after the current key was published. " +
				"If the instance's CI signing key changed (rotation, restored backup, another instance behind the same name), " +
				"make sure /oauth/discovery/keys serves the key that signs tokens; with ci_id_tokens_issuer_url, re-publish the keys to the public copy.",
		}
	}
	return Finding{
		ID: "signature-invalid", Severity: SeverityError,
		Title: "the token's signature does not verify with the issuer's key",
		Evidence: []string{
			"error      " + s.Err,
			"token kid  " + kid + ", alg " + ev.Token.Header.Alg + ", " + fmt.Sprint(ev.Token.Len) + " bytes",
			"keys       " + orNone(strings.Join(s.KeyIDs, ", ")) + " (from " + s.KeySource + ")",
		},
		Fix: "The token was altered or cut when copied: pass the job's variable unchanged (no editing, no re-encoding, no line wrapping).",
	}
}

// lifetime describes how long the token was valid for.
func lifetime(c token.Claims) string {
	if c.IssuedAt == nil || c.Expiry == nil {
		return "lifetime   unknown (no iat)"
	}
	return "lifetime   " + roundGap(c.Expiry.Sub(*c.IssuedAt)) + " (iat " + stamp(*c.IssuedAt) + "; GitLab uses the job timeout)"
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// roundGap prints a duration to the second.
func roundGap(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	return d.Round(time.Second).String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// idTokensSnippet is the id_tokens block a job needs.
func idTokensSnippet(name, aud string) string {
	return fmt.Sprintf("  id_tokens:\n    %s:\n      aud: %s\n", name, aud)
}
