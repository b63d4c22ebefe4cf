package faults_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/bench"
	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/internal/netproxy"
	"gitlab-oidc/internal/token/tokentest"
)

// hostileIssuer answers discovery and the JWK set like GitLab except where
// a route is overridden.
func hostileIssuer(overrides map[string]http.HandlerFunc) func(*tokentest.Signer) http.Handler {
	return func(s *tokentest.Signer) http.Handler {
		normal := bench.GitLabIssuer(s)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h, ok := overrides[r.URL.Path]; ok {
				h(w, r)
				return
			}
			normal.ServeHTTP(w, r)
		})
	}
}

// hugeBody streams n bytes of JSON-looking text until the client hangs up.
func hugeBody(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(`{"keys":[` + strings.Repeat(" ", 64<<10-9))
		for sent := 0; sent < n; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			chunk = []byte(strings.Repeat(" ", 64<<10))
		}
	}
}

const (
	discoveryPath = "/.well-known/openid-configuration"
	jwksPath      = "/oauth/discovery/keys"
)

// TestDoctorHostileIssuer runs Collect and Diagnose against issuers that
// hang, redirect to another host, answer 50 MB or serve invalid JSON:
// each ends well within the probe's deadlines, allocates a bounded amount
// and reports the section B finding that says what happened.
func TestDoctorHostileIssuer(t *testing.T) {
	other := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(other.Close)
	elsewhere := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	const timeout = time.Second
	tests := map[string]struct {
		routes   map[string]http.HandlerFunc
		faults   []netproxy.Fault
		want     string // finding ID
		evidence string // in that finding's evidence
	}{
		"discovery hangs": {
			faults: []netproxy.Fault{netproxy.HangUp(netproxy.Match{Path: discoveryPath}, 0)},
			want:   "jwks-slow", evidence: "timed out",
		},
		"jwks hangs": {
			faults: []netproxy.Fault{netproxy.HangUp(netproxy.Match{Path: jwksPath}, 0)},
			want:   "jwks-slow", evidence: "timed out",
		},
		"discovery redirects to another host": {
			routes: map[string]http.HandlerFunc{discoveryPath: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere+discoveryPath, http.StatusFound)
			}},
			want: "discovery-unreachable", evidence: "redirected to " + elsewhere,
		},
		"discovery answers 50 MB": {
			routes: map[string]http.HandlerFunc{discoveryPath: hugeBody(50 << 20)},
			want:   "discovery-unreachable", evidence: "larger than 1 MiB",
		},
		"jwks answers 50 MB": {
			routes: map[string]http.HandlerFunc{jwksPath: hugeBody(50 << 20)},
			want:   "jwks-unreachable", evidence: "larger than 1 MiB",
		},
		"discovery is not JSON": {
			routes: map[string]http.HandlerFunc{discoveryPath: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"issuer": "https://gitlab.example.com", "jwks_uri": `)
			}},
			want: "discovery-unreachable", evidence: "not valid JSON",
		},
		"jwks is not a JWK set": {
			routes: map[string]http.HandlerFunc{jwksPath: func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprint(w, `<html>Sign in</html>`)
			}},
			want: "jwks-unreachable", evidence: "did not return a JWK set",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { // not parallel: the memory check reads process-wide stats
			signer := tokentest.NewSigner(t)
			handler := hostileIssuer(tc.routes)(signer)
			proxy, opts := bench.StartIssuer(t, handler, bench.WorldOptions{Latency: -1, IssuerFaults: tc.faults, ProbeTimeout: timeout})
			tok := signer.Sign(tokentest.GitLabClaims(map[string]any{"iss": proxy.URL}))
			src := diagnose.Sources{Probe: func(ctx context.Context, u string) issuer.Report { return issuer.Probe(ctx, u, opts) }}

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			ev, err := diagnose.Collect(context.Background(), diagnose.CollectOptions{Token: tok, TokenGiven: true, PrivateIssuerOK: true}, src)
			if err != nil {
				t.Fatal(err)
			}
			findings := diagnose.Diagnose(ev)
			took := time.Since(start)
			runtime.ReadMemStats(&after)

			// Discovery and JWKS each have `timeout`; their sum bounds a probe.
			if took > 2*timeout {
				t.Errorf("doctor took %v, more than the sum of the probe's deadlines (%v)", took, 2*timeout)
			}
			// Reading the 50 MB body would allocate at least that much; the
			// bound leaves room for the test servers and -race's overhead.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("doctor allocated %d MiB for a hostile issuer; the body limit should keep it far below the 50 MB body", alloc>>20)
			}
			i := slices.IndexFunc(findings, func(f diagnose.Finding) bool { return f.ID == tc.want })
			if i < 0 {
				t.Fatalf("findings %v lack %s", ids(findings), tc.want)
			}
			if ev := strings.Join(findings[i].Evidence, "\n"); !strings.Contains(ev, tc.evidence) {
				t.Fatalf("%s evidence does not say %q:\n%s", tc.want, tc.evidence, ev)
			}
		})
	}
}

// TestDoctorRetriesReadsOfAWSAndGitLab: throttled and failing reads of the
// role, the providers, the job and its log are retried, so the evidence is
// complete and no source is reported missing.
func TestDoctorRetriesReadsOfAWSAndGitLab(t *testing.T) {
	w := newWorld(t, bench.WorldOptions{
		AWSFaults: []netproxy.Fault{
			netproxy.AWSThrottle("GetRole", 2),
			netproxy.AWSServerError("ListOpenIDConnectProviders", http.StatusServiceUnavailable, 1),
			netproxy.ResetConn(action("ListAttachedRolePolicies"), 1),
		},
		GitLabFaults: []netproxy.Fault{
			netproxy.RateLimited(netproxy.Match{Method: "GET", Path: "/api/v4/projects/*/jobs/*"}, time.Second, 1),
			netproxy.Status(netproxy.Match{Method: "GET", Path: "/api/v4/projects/*/jobs/*/trace"}, http.StatusServiceUnavailable, 2),
		},
	})
	ctx := context.Background()
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/%s"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%[1]s:aud":"%[2]s","%[1]s:sub":"project_path:acme/payments:ref_type:branch:ref:release"}}}]}`,
		strings.TrimPrefix(w.Issuer.URL, "https://"), w.Issuer.URL)
	role, err := w.Seed.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("gitlab-acme-payments"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := diagnose.Collect(ctx, w.DoctorOptions(aws.ToString(role.Role.Arn)), w.Sources())
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Notes) > 0 {
		t.Fatalf("sources reported missing despite retries: %q", ev.Notes)
	}
	switch {
	case ev.Role == nil || ev.Role.Trust == nil:
		t.Fatalf("role not read: %+v", ev.Role)
	case ev.Providers == nil || !ev.Providers.Listed:
		t.Fatalf("providers not listed: %+v", ev.Providers)
	case ev.Job == nil || ev.Job.JobID != bench.JobID:
		t.Fatalf("job not read: %+v", ev.Job)
	case ev.Log == nil || ev.Log.STS == nil:
		t.Fatalf("job log not read or its STS error not found: %+v", ev.Log)
	}
	if got := w.AWS.Count(action("GetRole")); got != 3 {
		t.Errorf("GetRole sent %d times, want 3 (two throttled)", got)
	}
	if got, served := w.GitLab.Count(netproxy.Match{}), len(w.Fake.Requests()); got != served+3 {
		t.Errorf("proxy saw %d GitLab requests, the fake served %d: want the 3 faults retried", got, served)
	}
	findings := diagnose.Diagnose(ev)
	if !slices.ContainsFunc(findings, func(f diagnose.Finding) bool { return f.ID == "sub-mismatch" || f.ID == "sub-ref-type-mismatch" }) {
		t.Fatalf("findings %v: the trust policy allows ref release, the job ran on main", ids(findings))
	}
}

func ids(fs []diagnose.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}
