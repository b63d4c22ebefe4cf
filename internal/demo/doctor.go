package demo

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/iamsim"
	"gitlab-oidc/internal/issuer"
)

// DoctorRoleName is the role the doctor demo's job tried to assume. Its
// trust policy allows only branch main of acme/payments, and the job ran
// for tag v2.3.0: the classic AccessDenied.
const DoctorRoleName = "acme-payments-main"

// DoctorRoleARN is DoctorRoleName's ARN in the simulated account.
const DoctorRoleARN = "arn:aws:iam::" + iamsim.AccountID + ":role/" + DoctorRoleName

// doctorTrustPolicy pins aud and the sub of branch main with StringEquals,
// as a hand-written policy from a tutorial would.
const doctorTrustPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "GitLabMainOnly",
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::` + iamsim.AccountID + `:oidc-provider/gitlab.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
      "StringEquals": {
        "gitlab.com:aud": "https://gitlab.com",
        "gitlab.com:sub": "project_path:acme/payments:ref_type:branch:ref:main"
      }
    }
  }]
}`

// Doctor returns the inputs and sources of `doctor --demo`: the failed
// deploy job 7003 of acme/payments (tag v2.3.0) on a simulated gitlab.com,
// the ID token it was given (signed here by an in-memory key), a simulated
// account with the gitlab.com provider and role DoctorRoleName, and an
// issuer probe that answers with that key. Nothing leaves the machine.
func Doctor() (diagnose.CollectOptions, diagnose.Sources, error) {
	return DoctorWithLatency(Latency)
}

// DoctorWithLatency is Doctor with a chosen per-call latency (tests use 0).
func DoctorWithLatency(latency time.Duration) (diagnose.CollectOptions, diagnose.Sources, error) {
	var opts diagnose.CollectOptions
	sim, err := iamsim.Seed(true, gitlabfake.DemoBaseURL, iamsim.SeedRole{
		Name: DoctorRoleName, TrustPolicy: doctorTrustPolicy,
		PolicyARNs: []string{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"},
	})
	if err != nil {
		return opts, diagnose.Sources{}, fmt.Errorf("demo account: %w", err)
	}
	sim.Latency = latency
	fake := gitlabfake.DemoSeed()
	gl, err := gitlabapi.New(gitlabfake.DemoBaseURL, gitlabfake.DemoToken, &http.Client{Transport: fake.Transport()})
	if err != nil {
		return opts, diagnose.Sources{}, fmt.Errorf("demo GitLab: %w", err)
	}
	signer, err := newDemoSigner()
	if err != nil {
		return opts, diagnose.Sources{}, err
	}
	raw, err := signer.sign(demoJobClaims())
	if err != nil {
		return opts, diagnose.Sources{}, err
	}
	opts = diagnose.CollectOptions{
		Token: raw, TokenGiven: true, TokenSource: fmt.Sprintf("demo job %d (simulated)", gitlabfake.DemoFailedJobID),
		RoleARN: DoctorRoleARN,
		JobURL:  fmt.Sprintf("%s/%s/-/jobs/%d", gitlabfake.DemoBaseURL, gitlabfake.DemoProject, gitlabfake.DemoFailedJobID),
	}
	src := diagnose.Sources{IAM: sim, GitLab: gl, Probe: demoProbe(signer.jwks(), latency)}
	return opts, src, nil
}

// demoJobClaims are the claims GitLab gives job 7003: a push pipeline for
// the protected tag v2.3.0, started 2025-05-12 11:02:20 UTC with the
// default one-hour timeout.
func demoJobClaims() map[string]any {
	iat := time.Date(2025, 5, 12, 11, 2, 20, 0, time.UTC).Unix()
	return map[string]any{
		"iss": gitlabfake.DemoBaseURL, "aud": gitlabfake.DemoBaseURL,
		"sub": "project_path:acme/payments:ref_type:tag:ref:v2.3.0",
		"jti": "0b6f2c1e-4d3a-4f5b-9c8d-7e6f5a4b3c2d",
		"iat": iat, "nbf": iat - 5, "exp": iat + 3600,
		"namespace_id": "1010", "namespace_path": "acme",
		"project_id": fmt.Sprint(gitlabfake.DemoProjectID), "project_path": gitlabfake.DemoProject,
		"user_id": "77", "user_login": gitlabfake.DemoUser, "user_email": "alice@acme.example",
		"user_access_level": "maintainer",
		"pipeline_id":       "1203", "pipeline_source": "push",
		"job_id": fmt.Sprint(gitlabfake.DemoFailedJobID),
		"ref":    "v2.3.0", "ref_type": "tag", "ref_path": "refs/tags/v2.3.0", "ref_protected": "true",
		"runner_id": 12270857, "runner_environment": "gitlab-hosted",
		"sha":                "2b3c4d5e6f708192a3b4c5d6e7f8091234567890",
		"project_visibility": "private",
		"ci_config_ref_uri":  "gitlab.com/acme/payments//.gitlab-ci.yml@refs/tags/v2.3.0",
		"ci_config_sha":      "2b3c4d5e6f708192a3b4c5d6e7f8091234567890",
	}
}

// demoProbe answers the issuer probe the way gitlab.com does (public CA,
// quick answers) with the demo signing key in its JWK set.
func demoProbe(keys *jose.JSONWebKeySet, latency time.Duration) func(ctx context.Context, issuerURL string) issuer.Report {
	return func(ctx context.Context, issuerURL string) issuer.Report {
		select {
		case <-ctx.Done():
		case <-time.After(latency):
		}
		ids := make([]string, len(keys.Keys))
		for i, k := range keys.Keys {
			ids[i] = k.KeyID
		}
		return issuer.Report{
			IssuerURL: issuerURL,
			Addresses: []string{"172.65.251.78"},
			Discovery: issuer.Fetch{URL: issuerURL + "/.well-known/openid-configuration", Status: http.StatusOK,
				Duration: 182 * time.Millisecond, Bytes: 1510, ContentType: "application/json"},
			DiscoveredIssuer: issuerURL, IssuerMatches: true,
			JWKSURI: issuerURL + "/oauth/discovery/keys",
			JWKS: issuer.Fetch{URL: issuerURL + "/oauth/discovery/keys", Status: http.StatusOK,
				Duration: 94 * time.Millisecond, Bytes: 942, ContentType: "application/json"},
			Keys: keys, KeyIDs: ids,
			TLS:   issuer.TLSInfo{Host: "gitlab.com", PubliclyTrusted: true},
			Total: 276 * time.Millisecond,
		}
	}
}

// demoSigner signs the demo token with a fresh RSA key whose kid is its JWK
// thumbprint, as GitLab's CI signing key is. The key lives only in memory
// for one run.
type demoSigner struct {
	key *rsa.PrivateKey
	kid string
}

func newDemoSigner() (*demoSigner, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("demo signing key: %w", err)
	}
	sum, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("demo signing key thumbprint: %w", err)
	}
	return &demoSigner{key: key, kid: base64.RawURLEncoding.EncodeToString(sum)}, nil
}

// jwks is the public key as the issuer publishes it.
func (s *demoSigner) jwks() *jose.JSONWebKeySet {
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: s.kid, Use: "sig", Algorithm: string(jose.RS256)}}}
}

// sign makes a compact RS256 JWS of claims with typ JWT and the kid.
func (s *demoSigner) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("demo token claims: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key}, opts)
	if err != nil {
		return "", fmt.Errorf("demo token signer: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign the demo token: %w", err)
	}
	return obj.CompactSerialize()
}
