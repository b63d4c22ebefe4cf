package diagnose

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab-oidc/internal/cifile"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token/tokentest"
)

// drNow is the reference time of the rule tests: two minutes after
// tokentest's tokens are issued, well before they expire.
var drNow = tokentest.Now.Add(2 * time.Minute)

const drRoleARN = "arn:aws:iam::123456789012:role/gitlab-deploy"

// drCase builds evidence for one scenario.
type drCase struct {
	build func(t *testing.T, s *tokentest.Signer) *Evidence
	first string
}

// drToken is evidence holding a gitlab.com token for acme/payments on main,
// verified against the signer's keys, judged at drNow.
func drToken(s *tokentest.Signer, overrides map[string]any) *Evidence {
	ev := &Evidence{Now: drNow, NowSource: "--now", PrivateIssuerOK: true}
	ev.AddToken(s.Sign(tokentest.GitLabClaims(overrides)), "test token", s.JWKS(), "test JWKS")
	return ev
}

// drRole gives the evidence the role and its trust policy from testdata.
func drRole(t *testing.T, ev *Evidence, file string) *Evidence {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "policies", file))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.Parse(b)
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	account, name, _ := ParseRoleARN(drRoleARN)
	ev.Role = &RoleFacts{ARN: drRoleARN, AccountID: account, Name: name, Trust: doc, TrustSource: file, MaxSessionDuration: 3600}
	return ev
}

func drProvider(ev *Evidence, url string, clientIDs ...string) *Evidence {
	prefix := KeyPrefix(url)
	ev.Providers = &ProviderFacts{Listed: true, List: []Provider{{URL: prefix, ARN: ProviderARN("123456789012", prefix), ClientIDs: clientIDs}}}
	return ev
}

func drLog(ev *Evidence, text string) *Evidence {
	s := ScanText(text)
	ev.Log = mergeScans(ev.Log, &s)
	return ev
}

func drCI(t *testing.T, ev *Evidence, file string) *Evidence {
	t.Helper()
	path := filepath.Join("testdata", "ci", file)
	f, err := cifile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	ev.Pipeline = pipelineFacts(path, f, "deploy")
	if ev.Pipeline.Job == nil {
		t.Fatalf("%s: no job deploy", file)
	}
	return ev
}

// drJob gives the evidence GitLab's view of the job.
func drJob(ev *Evidence, ref string, tag, protected bool, vars ...VariableFacts) *Evidence {
	ev.Job = &JobFacts{
		BaseURL: "https://gitlab.com", ProjectPath: "acme/payments", ProjectID: 4242, NamespaceID: 1010,
		JobID: 5550001, Name: "deploy", Ref: ref, Tag: tag, PipelineID: 900001, PipelineSource: "push",
		RefProtected: &protected, Variables: vars,
	}
	return ev
}

const (
	drAccessDenied  = "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"
	drNoVerifyKey   = "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
	drBadAudience   = "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: Incorrect token audience"
	drNoProviderFor = "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: No OpenIDConnect provider found in your account for https://gitlab.com"
)

func drCases() map[string]drCase {
	tag := map[string]any{"sub": "project_path:acme/payments:ref_type:tag:ref:v2.3.0", "ref": "v2.3.0", "ref_type": "tag", "ref_path": "refs/tags/v2.3.0"}
	issuerCase := func(mode issuerMode, trusted, privateOK bool, thumbs ...string) func(t *testing.T, _ *tokentest.Signer) *Evidence {
		return func(t *testing.T, _ *tokentest.Signer) *Evidence {
			ti := startIssuer(t, mode)
			r := ti.probe(t, trusted)
			ev := &Evidence{Now: drNow, NowSource: "--now", PrivateIssuerOK: privateOK, Issuer: &r}
			ev.AddToken(ti.token(nil), "test token", r.Keys, r.JWKSURI)
			if len(thumbs) > 0 {
				p := drProvider(ev, ti.URL, "sts.amazonaws.com")
				p.Providers.List[0].Thumbprints = thumbs
			}
			return drLog(ev, drNoVerifyKey)
		}
	}
	return map[string]drCase{
		// A. The token itself.
		"token-malformed: trailing newline from echo": {first: "token-malformed", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := &Evidence{Now: drNow, NowSource: "--now"}
			ev.AddToken(s.Sign(tokentest.GitLabClaims(nil))+"\n", "file token.jwt", nil, "")
			return drLog(ev, drNoVerifyKey)
		}},
		"token-malformed: empty variable": {first: "token-malformed", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := &Evidence{Now: drNow, NowSource: "--now"}
			ev.AddToken("", "env GITLAB_OIDC_TOKEN", nil, "")
			return ev
		}},
		"token-expired: exchange after the job timeout": {first: "token-expired", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drRole(t, drToken(s, nil), "exact.json")
			ev.Now = tokentest.Now.Add(2 * time.Hour)
			return drLog(ev, "An error occurred (ExpiredTokenException) when calling the AssumeRoleWithWebIdentity operation: Token expired: current date/time 1773508166 must be before the expiration date/time1773504566")
		}},
		"token-expired: from the STS message alone": {first: "token-expired", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(&Evidence{Now: drNow}, readLog(t, "go-sdk-v2-expired.log"))
		}},
		"token-not-yet-valid: runner clock ahead": {first: "token-not-yet-valid", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drToken(s, nil)
			ev.Now = tokentest.Now.Add(-10 * time.Minute)
			return ev
		}},
		"signature-invalid: token altered": {first: "signature-invalid", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			raw := s.Sign(tokentest.GitLabClaims(nil))
			other := s.Sign(tokentest.GitLabClaims(map[string]any{"ref": "evil"}))
			parts, otherParts := strings.Split(raw, "."), strings.Split(other, ".")
			ev := &Evidence{Now: drNow, NowSource: "--now"}
			ev.AddToken(parts[0]+"."+otherParts[1]+"."+parts[2], "test", s.JWKS(), "test JWKS")
			return ev
		}},
		"signing-key-not-found: issuer serves another key": {first: "signing-key-not-found", build: issuerCase(issuerMode{otherKey: true}, true, true)},

		// B. Issuer reachability.
		"issuer-private-address: loopback issuer":      {first: "issuer-private-address", build: issuerCase(issuerMode{}, true, false)},
		"discovery-unreachable: 404":                   {first: "discovery-unreachable", build: issuerCase(issuerMode{discoveryStatus: 404}, true, true)},
		"issuer-mismatch: trailing slash in discovery": {first: "issuer-mismatch", build: issuerCase(issuerMode{issuerSuffix: "/"}, true, true)},
		"jwks-unreachable: 500 on keys":                {first: "jwks-unreachable", build: issuerCase(issuerMode{jwksStatus: 500}, true, true)},
		"jwks-slow: answers after STS gave up":         {first: "jwks-slow", build: issuerCase(issuerMode{delay: 600 * time.Millisecond}, true, true)},
		"jwks-rate-limited: 429":                       {first: "jwks-rate-limited", build: issuerCase(issuerMode{discoveryStatus: 429}, true, true)},
		"tls-untrusted: self-signed, no thumbprint":    {first: "tls-untrusted", build: issuerCase(issuerMode{}, false, true)},
		"thumbprint-mismatch: stale thumbprint":        {first: "thumbprint-mismatch", build: issuerCase(issuerMode{}, false, true, "9e99a48a9960b14926bb7f3b02e22da2b0ab7280")},
		"discovery-unreachable: offline, from the STS message": {first: "discovery-unreachable", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "exact.json"), readLog(t, "aws-cli-invalid-identity-token.log"))
		}},

		// C. Provider and audience.
		"provider-not-found: provider registered with a trailing slash": {first: "provider-not-found", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drProvider(drToken(s, nil), "https://gitlab.com/", "sts.amazonaws.com"), drNoProviderFor)
		}},
		"provider-not-found: Terraform log only": {first: "provider-not-found", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(&Evidence{Now: drNow}, readLog(t, "terraform-no-provider.log"))
		}},
		"aud-not-in-client-ids: instance URL vs sts.amazonaws.com": {first: "aud-not-in-client-ids", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drProvider(drToken(s, map[string]any{"aud": "https://gitlab.com"}), "https://gitlab.com", "sts.amazonaws.com")
			return drLog(drRole(t, ev, "exact.json"), drBadAudience)
		}},

		// D. The trust policy.
		"role-not-found": {first: "role-not-found", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drToken(s, nil)
			ev.Role = &RoleFacts{ARN: drRoleARN, AccountID: "123456789012", Name: "gitlab-deploy", NotFound: true}
			return drLog(ev, drAccessDenied)
		}},
		"role-arn-empty: aws CLI expected one argument": {first: "role-arn-empty", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drToken(s, nil), readLog(t, "aws-cli-empty-role-arn.log"))
		}},
		"role-arn-empty: protected variable on an unprotected branch": {first: "role-arn-empty", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drToken(s, map[string]any{"ref": "feature-x", "ref_protected": "false", "sub": "project_path:acme/payments:ref_type:branch:ref:feature-x"})
			ev = drJob(ev, "feature-x", false, false, VariableFacts{Key: "AWS_ROLE_ARN", Exists: true, Level: "project", Protected: true, EnvironmentScope: "*"})
			return drLog(drCI(t, ev, "good.yml"), "An error occurred (ValidationError) when calling the AssumeRoleWithWebIdentity operation: 1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
		}},
		"role-arn-empty: variable scoped to production": {first: "role-arn-empty", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drJob(drToken(s, nil), "main", false, true, VariableFacts{Key: "DEPLOY_ROLE_ARN", Exists: true, Level: "project", EnvironmentScope: "production"})
			return drCI(t, ev, "role-arn-var.yml")
		}},
		"trust-no-web-identity-statement: only sts:AssumeRole": {first: "trust-no-web-identity-statement", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "no-web-identity.json"), drAccessDenied)
		}},
		"trust-principal-mismatch: provider of another host": {first: "trust-principal-mismatch", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "principal.json"), drAccessDenied)
		}},
		"trust-condition-key-prefix: https:// in the key": {first: "trust-condition-key-prefix", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "key-prefix.json"), drAccessDenied)
		}},
		"condition-claim-unsupported: gitlab.com:project_path": {first: "condition-claim-unsupported", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "unsupported.json"), drAccessDenied)
		}},
		"condition-claim-unsupported: ref_protected on self-managed": {first: "condition-claim-unsupported", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, map[string]any{"iss": "https://gitlab.example.com"}), "self-managed.json"), drAccessDenied)
		}},
		"aud-condition-mismatch": {first: "aud-condition-mismatch", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, map[string]any{"aud": "https://gitlab.com"}), "exact.json"), drAccessDenied)
		}},
		"sub-wildcard-needs-stringlike": {first: "sub-wildcard-needs-stringlike", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "wildcard-equals.json"), drAccessDenied)
		}},
		"sub-wildcard-needs-stringlike: from the policy alone, no token": {first: "sub-wildcard-needs-stringlike", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, &Evidence{Now: drNow}, "wildcard-equals.json"), readLog(t, "aws-cli-v2-access-denied.log"))
		}},
		"sub-ref-type-mismatch: tag job, branch-only policy": {first: "sub-ref-type-mismatch", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, tag), "branches-only.json"), drAccessDenied)
		}},
		"sub-ref-type-mismatch: branch job, tag policy": {first: "sub-ref-type-mismatch", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "tags-like.json"), drAccessDenied)
		}},
		"sub-case-mismatch": {first: "sub-case-mismatch", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "case.json"), drAccessDenied)
		}},
		"sub-custom-components: project_id leads the sub": {first: "sub-custom-components", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drToken(s, map[string]any{"sub": "project_id:4242:ref_type:branch:ref:main"})
			ev = drJob(ev, "main", false, true)
			ev.Job.SubComponents = []string{"project_id", "ref_type", "ref"}
			return drLog(drRole(t, ev, "exact.json"), drAccessDenied)
		}},
		"sub-mismatch: other branch": {first: "sub-mismatch", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drToken(s, map[string]any{"sub": "project_path:acme/payments:ref_type:branch:ref:develop", "ref": "develop"})
			return drLog(drRole(t, ev, "exact.json"), drAccessDenied)
		}},
		"sub-mismatch: predicted from the job, no token": {first: "sub-mismatch", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drJob(&Evidence{Now: drNow, NowSource: "--now"}, "develop", false, false)
			c, unknown := PredictClaims(ev.Job, []string{"sts.amazonaws.com"})
			ev.Token, ev.Predicted, ev.Unknown = &TokenFacts{Claims: c}, true, unknown
			return drLog(drRole(t, ev, "exact.json"), drAccessDenied)
		}},
		"condition-other-mismatch: wrong project_id": {first: "condition-other-mismatch", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "other.json"), drAccessDenied)
		}},
		"explicit-deny": {first: "explicit-deny", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "deny.json"), drAccessDenied)
		}},
		"invalid-operator: StringEq": {first: "invalid-operator", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "invalid-operator.json"), drAccessDenied)
		}},

		// E. The job and its pipeline configuration.
		"id-tokens-missing: passes a token it never requested": {first: "id-tokens-missing", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := &Evidence{Now: drNow, NowSource: "--now"}
			return drLog(drCI(t, ev, "missing-id-tokens.yml"), "An error occurred (ValidationError) when calling the AssumeRoleWithWebIdentity operation: 1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null")
		}},
		"legacy-ci-job-jwt": {first: "legacy-ci-job-jwt", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drCI(t, &Evidence{Now: drNow}, "legacy.yml")
		}},
		"provider-id-set": {first: "provider-id-set", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drCI(t, drRole(t, drToken(s, nil), "exact.json"), "provider-id.yml"), drAccessDenied)
		}},
		"duration-exceeds-max: literal 7200 on a one-hour role": {first: "duration-exceeds-max", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drCI(t, drRole(t, drToken(s, nil), "exact.json"), "duration.yml")
		}},
		"duration-exceeds-max: from the boto3 log": {first: "duration-exceeds-max", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drRole(t, drToken(s, nil), "exact.json"), readLog(t, "boto3-duration.log"))
		}},
		"session-name-invalid: branch name with a slash": {first: "session-name-invalid", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drToken(s, map[string]any{"ref": "feature/login", "sub": "project_path:acme/payments:ref_type:branch:ref:feature/login"})
			return drCI(t, drJob(ev, "feature/login", false, false), "session-name.yml")
		}},
		"session-name-invalid: from the STS message": {first: "session-name-invalid", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drToken(s, nil), readLog(t, "aws-cli-session-name.log"))
		}},
		"region-missing: aws CLI says so": {first: "region-missing", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			return drLog(drCI(t, drRole(t, drToken(s, nil), "exact.json"), "no-region.yml"), "You must specify a region. You can also configure your region by running \"aws configure\".")
		}},
		"static-keys-override: keys in the file and as CI/CD variables": {first: "static-keys-override", build: func(t *testing.T, s *tokentest.Signer) *Evidence {
			ev := drJob(drToken(s, nil), "main", false, true, VariableFacts{Key: "AWS_ACCESS_KEY_ID", Exists: true, Level: "group"})
			return drCI(t, drRole(t, ev, "project-id.json"), "static-keys.yml")
		}},
	}
}

// TestDiagnoseFirstFinding is the doctor's contract: for every cause of
// causes.md sections A-E, a realistic scenario puts that cause first.
func TestDiagnoseFirstFinding(t *testing.T) {
	s := tokentest.NewSigner(t)
	covered := map[string]bool{}
	for name, tc := range drCases() {
		covered[tc.first] = true
		t.Run(name, func(t *testing.T) {
			ev := tc.build(t, s)
			fs := Diagnose(ev)
			if len(fs) == 0 {
				t.Fatalf("no findings, want %s first", tc.first)
			}
			if fs[0].ID != tc.first {
				t.Fatalf("first finding %s, want %s; all:\n%s", fs[0].ID, tc.first, describe(fs))
			}
			f := fs[0]
			if len(f.Evidence) == 0 || f.Fix == "" || f.Title == "" {
				t.Errorf("finding %s lacks title, evidence or fix: %+v", f.ID, f)
			}
			if strings.HasPrefix(f.ID, "sub-") || strings.HasPrefix(f.ID, "aud-condition") || strings.HasPrefix(f.ID, "condition-") {
				if f.Detail == nil || f.Detail.Statement == "" || f.Detail.Key == "" {
					t.Errorf("finding %s lacks the deciding condition detail: %+v", f.ID, f.Detail)
				}
			}
		})
	}
	for _, id := range doctorIDs {
		if !covered[id] {
			t.Errorf("no scenario puts %s first", id)
		}
	}
}

// doctorIDs are the causes of sections A-E of docs/causes.md.
var doctorIDs = []string{
	"token-malformed", "token-expired", "token-not-yet-valid", "signature-invalid", "signing-key-not-found",
	"issuer-private-address", "discovery-unreachable", "issuer-mismatch", "jwks-unreachable", "jwks-slow",
	"jwks-rate-limited", "tls-untrusted", "thumbprint-mismatch",
	"provider-not-found", "aud-not-in-client-ids",
	"role-not-found", "role-arn-empty", "trust-no-web-identity-statement", "trust-principal-mismatch",
	"trust-condition-key-prefix", "condition-claim-unsupported", "aud-condition-mismatch",
	"sub-wildcard-needs-stringlike", "sub-ref-type-mismatch", "sub-case-mismatch", "sub-custom-components",
	"sub-mismatch", "condition-other-mismatch", "explicit-deny", "invalid-operator",
	"id-tokens-missing", "legacy-ci-job-jwt", "provider-id-set", "duration-exceeds-max",
	"session-name-invalid", "region-missing", "static-keys-override",
}

func describe(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + string(f.Severity) + " " + f.ID + ": " + f.Title + "\n")
	}
	return b.String()
}

// TestDiagnoseHealthy checks that correct setups produce no error.
func TestDiagnoseHealthy(t *testing.T) {
	s := tokentest.NewSigner(t)
	tag := map[string]any{"sub": "project_path:acme/payments:ref_type:tag:ref:v2.3.0", "ref": "v2.3.0", "ref_type": "tag"}
	tests := map[string]func(t *testing.T) *Evidence{
		"exact sub": func(t *testing.T) *Evidence {
			return drProvider(drRole(t, drToken(s, nil), "exact.json"), "https://gitlab.com", "sts.amazonaws.com")
		},
		"StringLike tag wildcard for a release tag": func(t *testing.T) *Evidence {
			return drRole(t, drToken(s, tag), "tags-like.json")
		},
		"project_id pinned on gitlab.com, with the pipeline file": func(t *testing.T) *Evidence {
			ev := drJob(drToken(s, nil), "main", false, true, VariableFacts{Key: "AWS_ROLE_ARN", Exists: true, Level: "project", Protected: true, EnvironmentScope: "*"})
			return drCI(t, drRole(t, ev, "project-id.json"), "good.yml")
		},
		"predicted sub for a protected main": func(t *testing.T) *Evidence {
			ev := drJob(&Evidence{Now: drNow}, "main", false, true)
			c, unknown := PredictClaims(ev.Job, nil)
			ev.Token, ev.Predicted, ev.Unknown = &TokenFacts{Claims: c}, true, unknown
			return drRole(t, ev, "project-id.json")
		},
		"environment-scoped variable, environment unknown without the pipeline file": func(t *testing.T) *Evidence {
			ev := drJob(drToken(s, nil), "main", false, true, VariableFacts{Key: "AWS_ROLE_ARN", Exists: true, Level: "project", EnvironmentScope: "production"})
			return drRole(t, ev, "project-id.json")
		},
		"healthy issuer": func(t *testing.T) *Evidence {
			ti := startIssuer(t, issuerMode{})
			r := ti.probe(t, true)
			ev := &Evidence{Now: drNow, PrivateIssuerOK: true, Issuer: &r}
			ev.AddToken(ti.token(nil), "test", r.Keys, r.JWKSURI)
			return ev
		},
	}
	for name, build := range tests {
		t.Run(name, func(t *testing.T) {
			fs := Diagnose(build(t))
			if HasError(fs) {
				t.Fatalf("healthy setup has errors:\n%s", describe(fs))
			}
		})
	}
}

// TestDiagnoseOrderFollowsTheError checks that the STS error text decides
// which of several real problems comes first.
func TestDiagnoseOrderFollowsTheError(t *testing.T) {
	s := tokentest.NewSigner(t)
	base := func(t *testing.T) *Evidence {
		// Two real problems: the provider lacks the aud and the sub is for
		// another branch.
		ev := drToken(s, map[string]any{"sub": "project_path:acme/payments:ref_type:branch:ref:develop", "ref": "develop"})
		return drRole(t, drProvider(ev, "https://gitlab.com", "https://gitlab.com"), "exact.json")
	}
	tests := map[string]struct {
		text, first string
	}{
		"AccessDenied points at the trust policy":   {drAccessDenied, "sub-mismatch"},
		"Incorrect token audience points at C":      {drBadAudience, "aud-not-in-client-ids"},
		"no error text: STS's order of checks wins": {"", "aud-not-in-client-ids"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ev := base(t)
			if tc.text != "" {
				drLog(ev, tc.text)
			}
			fs := Diagnose(ev)
			if len(fs) == 0 || fs[0].ID != tc.first {
				t.Fatalf("want %s first, got:\n%s", tc.first, describe(fs))
			}
			ids := make([]string, len(fs))
			for i, f := range fs {
				ids[i] = f.ID
			}
			if !slices.Contains(ids, "aud-not-in-client-ids") || !slices.Contains(ids, "sub-mismatch") {
				t.Errorf("both problems must be reported: %v", ids)
			}
		})
	}
}

func TestSubDetailPointsAtTheDifference(t *testing.T) {
	s := tokentest.NewSigner(t)
	tag := map[string]any{"sub": "project_path:acme/payments:ref_type:tag:ref:v2.3.0", "ref": "v2.3.0", "ref_type": "tag"}
	ev := drRole(t, drToken(s, tag), "exact.json")
	fs := Diagnose(drLog(ev, drAccessDenied))
	f := fs[0]
	if f.ID != "sub-ref-type-mismatch" || f.Detail == nil {
		t.Fatalf("got %s %+v", f.ID, f.Detail)
	}
	d := f.Detail
	want := strings.Index(d.TokenValue, "tag:ref")
	if d.DiffAt != want || d.Statement != "GitLabMain" || d.Key != "gitlab.com:sub" || d.Operator != "StringEquals" {
		t.Errorf("detail %+v, want DiffAt %d at ref_type", d, want)
	}
	if f.Title != "the job ran for tag v2.3.0; the role allows branches only" {
		t.Errorf("title %q", f.Title)
	}
	if !strings.Contains(f.Fix, `"project_path:acme/payments:ref_type:tag:ref:v2.3.0"`) {
		t.Errorf("fix lacks the exact value to allow:\n%s", f.Fix)
	}
}

func TestSlowIssuerWarning(t *testing.T) {
	ti := startIssuer(t, issuerMode{})
	r := ti.probe(t, true)
	r.Discovery.Duration, r.JWKS.Duration = 1500*time.Millisecond, 1200*time.Millisecond
	ev := &Evidence{PrivateIssuerOK: true, Issuer: &r}
	fs := Diagnose(ev)
	if len(fs) != 1 || fs[0].ID != "jwks-slow" || fs[0].Severity != SeverityWarning {
		t.Fatalf("2.7 s must be a jwks-slow warning, got:\n%s", describe(fs))
	}
}
