package diagnose

// Cause is one entry of the public finding catalog (docs/causes.md): what
// the user sees, what it means and what fixes it. The README's
// troubleshooting table is generated from it and checked against causes.md.
type Cause struct {
	ID      string
	Section string // A..F as in causes.md
	Symptom string // what the job log or the audit shows
	Meaning string
	Fix     string
}

// Symptoms shared by many causes.
const (
	symptomAccessDenied = "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"
	symptomNoKey        = "InvalidIdentityToken: Couldn't retrieve verification key from your identity provider"
	symptomInvalidToken = "InvalidIdentityToken"
	symptomAudit        = "audit finding"
)

// Catalog lists every finding ID gitlab-oidc reports, in causes.md order.
var Catalog = []Cause{
	{"token-malformed", "A", symptomInvalidToken + " / empty token", "the value passed as the token is not a JWT (empty, quoted, cut, whitespace)", "define `id_tokens:` in the job and pass that variable's name"},
	{"token-expired", "A", "ExpiredTokenException: Token expired", "the token's `exp` was before the call", "request credentials at the start of the job; the job timeout sets the token lifetime"},
	{"token-not-yet-valid", "A", symptomInvalidToken, "`nbf`/`iat` lie in the future: the runner's clock is skewed", "sync the runner's clock (NTP)"},
	{"signature-invalid", "A", symptomInvalidToken, "the signature does not verify: the token was altered or cut when copied", "pass the id_tokens variable unchanged"},
	{"signing-key-not-found", "A", symptomNoKey, "the token's `kid` is not in the issuer's JWKS", "use a token of this instance; wait for key rotation to settle"},
	{"issuer-private-address", "B", symptomNoKey, "the issuer resolves only to private addresses; STS fetches keys from the internet", "publish discovery + JWKS publicly (`ci_id_tokens_issuer_url`)"},
	{"discovery-unreachable", "B", symptomNoKey, "`/.well-known/openid-configuration` cannot be fetched", "make the discovery document publicly reachable over https"},
	{"issuer-mismatch", "B", symptomInvalidToken, "the discovery document's `issuer` differs from the token's `iss`", "fix GitLab's `external_url` / `ci_id_tokens_issuer_url`"},
	{"jwks-unreachable", "B", symptomNoKey, "`jwks_uri` cannot be fetched or is not a JWK set", "make the JWKS publicly reachable"},
	{"jwks-slow", "B", symptomNoKey, "discovery plus JWKS take longer than STS waits (about 5 s)", "speed up or cache the endpoints (Cache-Control on the keys)"},
	{"jwks-rate-limited", "B", symptomNoKey, "the issuer answers 429, or 403 from a WAF", "allow STS through the WAF/rate limit"},
	{"tls-untrusted", "B", symptomInvalidToken, "the certificate chain does not verify against public roots", "serve a publicly trusted, complete, ordered chain (or set the thumbprint)"},
	{"thumbprint-mismatch", "B", "InvalidIdentityToken: OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint", "no configured thumbprint matches the certificate sent", "`aws iam update-open-id-connect-provider-thumbprint` with the computed value"},
	{"provider-not-found", "C", "InvalidIdentityToken: No OpenIDConnect provider found in your account", "no IAM OIDC provider's URL equals the token's `iss`", "create the provider (`gitlab-oidc setup`) or fix the issuer"},
	{"aud-not-in-client-ids", "C", "InvalidIdentityToken: Incorrect token audience", "the token's `aud` is not a client ID of the provider", "set `aud:` in `id_tokens` or `aws iam add-client-id-to-open-id-connect-provider`"},
	{"role-not-found", "D", symptomAccessDenied, "the role does not exist in that account", "check `AWS_ROLE_ARN`; create the role"},
	{"role-arn-empty", "D", "expected one argument / Value null at 'roleArn'", "the role ARN variable is empty in the job (protected or environment-scoped)", "unprotect the variable, protect the ref, or fix its environment scope"},
	{"trust-no-web-identity-statement", "D", symptomAccessDenied, "no Allow statement grants `sts:AssumeRoleWithWebIdentity`", "add a web-identity statement for the provider"},
	{"trust-principal-mismatch", "D", symptomAccessDenied, "the `Federated` principal is not this issuer's provider", "point `Principal.Federated` at the provider ARN of the token's issuer"},
	{"trust-condition-key-prefix", "D", symptomAccessDenied, "condition keys use another prefix than the provider's host/path", "write keys as `<host>:sub`, e.g. `gitlab.com:sub`"},
	{"condition-claim-unsupported", "D", symptomAccessDenied, "a condition uses a claim AWS does not pass for this provider", "condition on `sub` (and on gitlab.com the supported claims only)"},
	{"aud-condition-mismatch", "D", symptomAccessDenied, "the `:aud` condition does not match the token's `aud`", "make the condition and `id_tokens: aud` agree"},
	{"sub-wildcard-needs-stringlike", "D", symptomAccessDenied, "a `sub` value with `*`/`?` under `StringEquals` is compared literally", "use `StringLike` for wildcard values"},
	{"sub-ref-type-mismatch", "D", symptomAccessDenied, "the job ran for a tag and the policy allows branches only (or the reverse)", "allow the ref type the job runs on"},
	{"sub-case-mismatch", "D", symptomAccessDenied, "the values differ only in letter case", "copy the exact case of the project path/ref"},
	{"sub-custom-components", "D", symptomAccessDenied, "the project customised `ci_id_token_sub_claim_components`", "write the policy's sub in the project's shape"},
	{"sub-mismatch", "D", symptomAccessDenied, "the token's `sub` matches no allowed value", "allow the exact value shown, with `StringEquals`"},
	{"condition-other-mismatch", "D", symptomAccessDenied, "another condition fails (region, session name, project_id, ...)", "fix that condition or the job"},
	{"explicit-deny", "D", symptomAccessDenied, "a Deny statement matches the request", "narrow the Deny statement"},
	{"invalid-operator", "D", "MalformedPolicyDocument / " + symptomAccessDenied, "an unknown or misspelt condition operator", "use a valid operator, e.g. `StringEquals`"},
	{"id-tokens-missing", "E", "empty token", "the job has no `id_tokens:` entry for the variable it passes", "add `id_tokens:` (extend `.aws-oidc`)"},
	{"legacy-ci-job-jwt", "E", "empty token / Missing a required claim: aud", "the job uses `CI_JOB_JWT*`, removed in GitLab 17.0", "switch to `id_tokens:`"},
	{"provider-id-set", "E", "ValidationError / " + symptomInvalidToken, "the job passes `--provider-id`, not allowed for OIDC tokens", "drop `--provider-id`"},
	{"duration-exceeds-max", "E", "ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration", "the requested duration exceeds the role's maximum", "lower `--duration-seconds` or raise MaxSessionDuration"},
	{"session-name-invalid", "E", "ValidationError at 'roleSessionName'", "the session name can exceed 64 chars or contain `/`", "use `gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}`"},
	{"region-missing", "E", "You must specify a region", "no `AWS_REGION`/`AWS_DEFAULT_REGION` in the job", "set `AWS_REGION` in the job's variables"},
	{"static-keys-override", "E", "works with the wrong identity", "static `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` take precedence", "remove the static keys from CI/CD variables"},
	{"trust-no-sub-condition", "F", symptomAudit, "no `sub` condition: every project on the instance can assume the role", "add `StringEquals <host>:sub` with the exact project and ref"},
	{"trust-sub-wildcard-broad", "F", symptomAudit, "a `sub` pattern matches more than one project", "list each project's sub exactly"},
	{"trust-any-ref", "F", symptomAudit, "`ref:*`/`ref_type:*`: any branch or tag of the project", "pin the ref (`branch:main`) or protected refs"},
	{"trust-no-aud-condition", "F", symptomAudit, "no condition on `<host>:aud`", "add `StringEquals <host>:aud`"},
	{"trust-forallvalues-allow", "F", symptomAudit, "`ForAllValues:` in an Allow is true when the key is absent", "use plain `StringEquals`/`StringLike`"},
	{"trust-negated-operator", "F", symptomAudit, "a negated operator in an Allow is true when the key is absent", "move the exclusion into a Deny statement"},
	{"trust-stringlike-without-wildcard", "F", symptomAudit, "`StringLike` with a value without wildcards", "use `StringEquals`"},
	{"trust-path-reuse-risk", "F", symptomAudit, "access pinned by project path, which can be taken over after a rename", "pin `gitlab.com:project_id`, or lead the sub with `project_id`"},
	{"role-admin-permissions", "F", symptomAudit, "the role has AdministratorAccess or `*` on `*`", "grant only what the pipeline needs"},
	{"role-long-session", "F", symptomAudit, "MaxSessionDuration above one hour", "keep sessions at 1 h unless a job needs more"},
}
