package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/internal/netproxy"
	"gitlab-oidc/internal/testenv"
	"gitlab-oidc/internal/token/tokentest"
	"gitlab-oidc/steps"
)

// The seeded GitLab world: one Maintainer on one project with a failed job.
const (
	Token       = "glpat-maintainer"
	ProjectPath = "acme/payments"
	ProjectID   = 4242
	PipelineID  = 900001
	JobID       = 5550001
)

// WorldOptions tune a World.
type WorldOptions struct {
	// Latency of every proxy (netproxy semantics: 0 is the default 50 ms,
	// negative is none).
	Latency time.Duration
	// AWSFaults, GitLabFaults and IssuerFaults are injected by the proxies.
	AWSFaults, GitLabFaults, IssuerFaults []netproxy.Fault
	// GitLabOptions tune the GitLab client (fault tests shorten the waits).
	GitLabOptions []gitlabapi.Option
	// Issuer replaces the test issuer's handler (fault tests serve hostile
	// answers); nil serves discovery and the JWK set like GitLab.
	Issuer func(signer *tokentest.Signer) http.Handler
	// ProbeTimeout bounds each issuer request (issuer.DefaultTimeout when 0).
	ProbeTimeout time.Duration
}

// World is moto, the fake GitLab and a TLS OIDC issuer, each behind its own
// latency proxy, wired into a setup Runner and doctor sources exactly as
// the CLI wires the real clients. Everything stops when the test ends.
type World struct {
	Moto                *testenv.Moto
	AWS, GitLab, Issuer *netproxy.Proxy
	AWSCalls            *awsapi.CallLog
	AWSConfig           aws.Config
	IAM                 *iam.Client // through the proxy
	Seed                *iam.Client // straight to moto, for seeding outside the trace
	GitLabClient        gitlabapi.Client
	Fake                *gitlabfake.Server
	Signer              *tokentest.Signer
	ProbeOptions        issuer.Options
	Runner              *steps.Runner
	Dir                 string
	latency             time.Duration
}

// NewWorld starts the peers and proxies for tb.
func NewWorld(tb testing.TB, o WorldOptions) *World {
	tb.Helper()
	w := &World{Moto: testenv.StartMoto(tb), Signer: tokentest.NewSigner(tb), latency: o.Latency}
	if w.latency == 0 {
		w.latency = netproxy.DefaultLatency
	}
	w.AWS = netproxy.Start(tb, w.Moto.Endpoint, netproxy.Options{Latency: o.Latency, Faults: o.AWSFaults})
	w.Seed = iam.NewFromConfig(w.Moto.AWSConfig())
	cfg := w.Moto.AWSConfig()
	cfg.BaseEndpoint = aws.String(w.AWS.URL)
	cfg.Retryer = awsapi.NewRetryer
	w.AWSCalls = &awsapi.CallLog{}
	w.AWSCalls.Attach(&cfg)
	w.AWSConfig = cfg
	w.IAM = iam.NewFromConfig(cfg)

	fake := gitlabfake.New()
	fake.AddUser(Token, "alice")
	fake.AddProject(gitlabfake.Project{ID: ProjectID, Path: ProjectPath, DefaultBranch: "main",
		SubClaimComponents: []string{"project_path", "ref_type", "ref"},
		ProtectedBranches:  []string{"main"}, ProtectedTags: []string{"v*"}})
	fake.SetAccess(Token, ProjectPath, gitlabapi.Maintainer)
	fake.AddPipeline(ProjectID, gitlabapi.Pipeline{ID: PipelineID, Ref: "main", Source: "push", Status: "failed"})
	fake.AddJob(ProjectID, gitlabapi.Job{ID: JobID, Name: "deploy", Ref: "main", Status: "failed", FailureReason: "script_failure",
		PipelineID: PipelineID, CreatedAt: "2026-03-14T15:09:00Z", StartedAt: "2026-03-14T15:09:20Z", FinishedAt: "2026-03-14T15:10:02Z"})
	fake.SetTrace(ProjectID, JobID, "$ aws sts assume-role-with-web-identity --role-arn ${AWS_ROLE_ARN} ...\n"+
		"An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\n")
	w.Fake = gitlabfake.Serve(tb, fake)
	w.GitLab = netproxy.Start(tb, w.Fake.URL, netproxy.Options{Latency: o.Latency, Faults: o.GitLabFaults})
	gl, err := gitlabapi.New(w.GitLab.URL, Token, nil, o.GitLabOptions...)
	if err != nil {
		tb.Fatal(err)
	}
	w.GitLabClient = gl

	handler := GitLabIssuer(w.Signer)
	if o.Issuer != nil {
		handler = o.Issuer(w.Signer)
	}
	w.Issuer, w.ProbeOptions = StartIssuer(tb, handler, o)

	w.Dir = tb.TempDir()
	if err := os.WriteFile(filepath.Join(w.Dir, ".gitlab-ci.yml"), []byte("stages: [test]\n\nunit:\n  stage: test\n  script: [go test ./...]\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	opts := w.ProbeOptions
	w.Runner = &steps.Runner{Env: steps.Env{
		IAM: w.IAM, STS: sts.NewFromConfig(cfg), GitLab: gl,
		Region: "us-east-1", Project: ProjectPath, ProjectSource: "--project",
		IssuerURL: w.Issuer.URL, Probe: steps.ProbeIssuer(&opts), WorkDir: w.Dir,
	}}
	return w
}

// StartIssuer serves handler over TLS behind a TLS latency proxy (with
// o's latency, issuer faults and probe timeout) and returns the proxy, whose
// URL is the issuer URL, and probe options that trust it.
func StartIssuer(tb testing.TB, handler http.Handler, o WorldOptions) (*netproxy.Proxy, issuer.Options) {
	tb.Helper()
	iss := httptest.NewTLSServer(handler)
	tb.Cleanup(iss.Close)
	p := netproxy.Start(tb, iss.URL, netproxy.Options{Latency: o.Latency, Faults: o.IssuerFaults, TLS: true})
	return p, issuer.Options{RootCAs: p.CertPool(), AllowPrivate: true, Timeout: o.ProbeTimeout}
}

// Latency is the latency every proxy adds.
func (w *World) Latency() time.Duration { return w.latency }

// Trace is every call the three proxies saw since the last ResetTrace.
func (w *World) Trace() []Call {
	out := Calls("aws", w.AWS.Trace())
	out = append(out, Calls("gitlab", w.GitLab.Trace())...)
	return append(out, Calls("issuer", w.Issuer.Trace())...)
}

// ResetTrace forgets the calls seen so far, and the call logs.
func (w *World) ResetTrace() {
	w.AWS.Reset()
	w.GitLab.Reset()
	w.Issuer.Reset()
	w.AWSCalls.Reset()
	w.Fake.ResetRequests()
}

// Probe is the doctor's issuer probe for this world.
func (w *World) Probe(ctx context.Context, issuerURL string) issuer.Report {
	return issuer.Probe(ctx, issuerURL, w.ProbeOptions)
}

// JobURL is the failed job's page URL, through the GitLab proxy.
func (w *World) JobURL() string {
	return w.GitLab.URL + "/" + ProjectPath + "/-/jobs/" + itoa(JobID)
}

// IDToken is a token for the failed job, signed by the issuer's key and
// naming the issuer through its proxy.
func (w *World) IDToken(overrides map[string]any) string {
	claims := tokentest.GitLabClaims(map[string]any{"iss": w.Issuer.URL, "aud": w.Issuer.URL,
		"job_id": itoa(JobID), "pipeline_id": itoa(PipelineID), "project_id": itoa(ProjectID)})
	for k, v := range overrides {
		claims[k] = v
	}
	return w.Signer.Sign(claims)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// GitLabIssuer serves an issuer the way GitLab does: the discovery document
// (issuer and jwks_uri built from the Host asked, so a proxy in front keeps
// working) and the JWK set.
func GitLabIssuer(signer *tokentest.Signer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := "https://" + r.Host
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": base, "jwks_uri": base + "/oauth/discovery/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/oauth/discovery/keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=86400")
		_, _ = w.Write(signer.JWKSJSON())
	})
	return mux
}
