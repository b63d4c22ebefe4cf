package faults_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/bench"
	"gitlab-oidc/internal/netproxy"
	"gitlab-oidc/steps"
)

// TestSetupRetriesTransientAWSErrors injects throttling, 5xx and resets on
// the IAM writes and reads of Apply: each is retried by the SDK's standard
// retryer and setup completes with every resource created exactly once.
func TestSetupRetriesTransientAWSErrors(t *testing.T) {
	tests := map[string]struct {
		fault netproxy.Fault
		times int
	}{
		"CreateRole throttled twice":       {fault: netproxy.AWSThrottle("CreateRole", 2), times: 2},
		"CreateOpenIDConnectProvider 503":  {fault: netproxy.AWSServerError("CreateOpenIDConnectProvider", http.StatusServiceUnavailable, 2), times: 2},
		"GetRole 500 once":                 {fault: netproxy.AWSServerError("GetRole", http.StatusInternalServerError, 1), times: 1},
		"CreateRole connection reset once": {fault: netproxy.ResetConn(action("CreateRole"), 1), times: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, bench.WorldOptions{})
			p := plan(t, w)
			w.ResetTrace()
			w.AWS.AddFault(tc.fault)
			if _, err := w.Runner.Apply(context.Background(), p, steps.Decisions{}, nil); err != nil {
				t.Fatalf("Apply with %s: %v", name, err)
			}
			act := tc.fault.Match.Action
			ops := countOps(w.AWSCalls.Calls(), "IAM."+act)
			if got := w.AWS.Count(action(act)); got != ops+tc.times {
				t.Fatalf("%s reached the proxy %d times for %d operations, want %d (one retry per injected fault)", act, got, ops, ops+tc.times)
			}
			writes := w.AWSCalls.Writes()
			if countOps(writes, "IAM.CreateRole") != 1 || countOps(writes, "IAM.CreateOpenIDConnectProvider") != 1 {
				t.Fatalf("writes = %v, want one CreateRole and one CreateOpenIDConnectProvider", writes)
			}
			if vars := w.Fake.Variables(bench.ProjectID); len(vars) != 1 || vars[0].Value != p.RoleARN() {
				t.Fatalf("variables = %+v, want AWS_ROLE_ARN=%s", vars, p.RoleARN())
			}
		})
	}
}

// TestSetupAWSRetriesAreBounded throttles CreateRole for good: the retryer
// gives up after awsapi.MaxAttempts and the error says what failed.
func TestSetupAWSRetriesAreBounded(t *testing.T) {
	w := newWorld(t, bench.WorldOptions{})
	p := plan(t, w)
	w.ResetTrace()
	w.AWS.AddFault(netproxy.AWSThrottle("CreateRole", 0))
	start := time.Now()
	changes, err := w.Runner.Apply(context.Background(), p, steps.Decisions{}, nil)
	if err == nil {
		t.Fatal("Apply succeeded although CreateRole is always throttled")
	}
	if got := w.AWS.Count(action("CreateRole")); got != awsapi.MaxAttempts {
		t.Fatalf("CreateRole attempted %d times, want the bound %d", got, awsapi.MaxAttempts)
	}
	// Generous: five attempts with at most MaxBackoff between them.
	if took := time.Since(start); took > time.Duration(awsapi.MaxAttempts)*awsapi.MaxBackoff+5*time.Second {
		t.Fatalf("gave up after %v: the retries are not bounded in time", took)
	}
	if msg := err.Error(); !strings.Contains(msg, "IAM role "+p.RoleName) || !strings.Contains(msg, "throttled") || errorCode(err) != "Throttling" {
		t.Fatalf("error %q (code %q) should name the step and say AWS throttled", msg, errorCode(err))
	}
	if !createdApplied(changes, "IAM OIDC provider") {
		t.Fatalf("changes %+v should report the provider created before the failure", changes)
	}
}

// TestSetupNeverRetriesPermanentAWSErrors: AccessDenied and validation
// errors cannot change on a retry, so each is sent exactly once, and the
// run stops before the variable.
func TestSetupNeverRetriesPermanentAWSErrors(t *testing.T) {
	tests := map[string]netproxy.Fault{
		"AccessDenied":    netproxy.AWSError("CreateRole", http.StatusForbidden, "AccessDenied", "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:CreateRole", 0),
		"ValidationError": netproxy.AWSError("CreateRole", http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'roleName' failed to satisfy constraint", 0),
		"LimitExceeded":   netproxy.AWSError("CreateRole", http.StatusConflict, "LimitExceeded", "Cannot exceed quota for RolesPerAccount: 1000", 0),
	}
	for name, fault := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, bench.WorldOptions{})
			p := plan(t, w)
			w.ResetTrace()
			w.AWS.AddFault(fault)
			_, err := w.Runner.Apply(context.Background(), p, steps.Decisions{}, nil)
			if errorCode(err) != name || !strings.Contains(err.Error(), "IAM role "+p.RoleName) {
				t.Fatalf("Apply = %v (code %q), want the %s error naming the step", err, errorCode(err), name)
			}
			if got := w.AWS.Count(action("CreateRole")); got != 1 {
				t.Fatalf("CreateRole sent %d times, want 1: %s must never be retried", got, name)
			}
			if vars := w.Fake.Variables(bench.ProjectID); len(vars) != 0 {
				t.Fatalf("the variable was set although the role failed: %+v", vars)
			}
		})
	}
}

// TestSetupRetriesGitLabReadsButNotWrites: 429 with Retry-After, 5xx and
// resets on GETs are retried (Retry-After honoured); a failed POST is not
// repeated.
func TestSetupRetriesGitLabReadsButNotWrites(t *testing.T) {
	t.Run("reads", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, bench.WorldOptions{GitLabFaults: []netproxy.Fault{
			netproxy.RateLimited(netproxy.Match{Method: "GET", Path: "/api/v4/user"}, time.Second, 1),
			netproxy.Status(netproxy.Match{Method: "GET", Path: "/api/v4/projects/*"}, http.StatusBadGateway, 2),
			netproxy.ResetConn(netproxy.Match{Method: "GET", Path: "/api/v4/projects/*/protected_tags"}, 1),
		}})
		start := time.Now()
		p := plan(t, w)
		if took := time.Since(start); took < time.Second {
			t.Fatalf("Connect took %v after a 429 with Retry-After: 1; the wait was not honoured", took)
		}
		if got, served := w.GitLab.Count(netproxy.Match{}), len(w.Fake.Requests()); got != served+4 {
			t.Fatalf("proxy saw %d GitLab requests, the fake served %d: want exactly 4 retried faults between them", got, served)
		}
		if _, err := w.Runner.Apply(context.Background(), p, steps.Decisions{}, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("writes", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, bench.WorldOptions{})
		p := plan(t, w)
		w.GitLab.AddFault(netproxy.Status(netproxy.Match{Method: "POST", Path: "/api/v4/projects/*/variables"}, http.StatusInternalServerError, 1))
		_, err := w.Runner.Apply(context.Background(), p, steps.Decisions{}, nil)
		if err == nil || !strings.Contains(err.Error(), "500") {
			t.Fatalf("Apply = %v, want the 500 of the variable POST", err)
		}
		if got := w.GitLab.Count(netproxy.Match{Method: "POST"}); got != 1 {
			t.Fatalf("POST sent %d times, want 1: a write that may have happened is never repeated", got)
		}
	})
}

// TestSetupResumesAfterAFailureInTheMiddle fails the variable POST for
// good after the provider and the role exist; the re-run creates only the
// variable.
func TestSetupResumesAfterAFailureInTheMiddle(t *testing.T) {
	w := newWorld(t, bench.WorldOptions{})
	p := plan(t, w)
	w.GitLab.AddFault(netproxy.Status(netproxy.Match{Method: "POST", Path: "/api/v4/projects/*/variables"}, http.StatusInternalServerError, 0))
	changes, err := w.Runner.Apply(context.Background(), p, steps.Decisions{}, nil)
	if err == nil {
		t.Fatal("Apply succeeded although every variable POST fails")
	}
	if !createdApplied(changes, "IAM OIDC provider") || !createdApplied(changes, "IAM role") {
		t.Fatalf("changes %+v should say the provider and role were created", changes)
	}

	w.GitLab.ClearFaults()
	w.ResetTrace()
	p = plan(t, w)
	if _, err := w.Runner.Apply(context.Background(), p, steps.Decisions{}, nil); err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if writes := w.AWSCalls.Writes(); len(writes) != 0 {
		t.Fatalf("re-run wrote to AWS: %v; the provider and role were already complete", writes)
	}
	if posts := w.GitLab.Count(netproxy.Match{Method: "POST"}); posts != 1 {
		t.Fatalf("re-run sent %d POSTs, want 1 (the variable)", posts)
	}
	if vars := w.Fake.Variables(bench.ProjectID); len(vars) != 1 || vars[0].Value != p.RoleARN() {
		t.Fatalf("variables = %+v, want one AWS_ROLE_ARN=%s", vars, p.RoleARN())
	}
	provs, err := w.Seed.ListOpenIDConnectProviders(context.Background(), &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(provs.OpenIDConnectProviderList) != 1 {
		t.Fatalf("providers = %v (%v), want exactly one", provs, err)
	}
}

// TestSetupHangingIAMCallStopsAtTheDeadline hangs CreateRole: Apply ends at
// the context's deadline with an error naming the step, the provider is
// reported created, and the variable step never runs.
func TestSetupHangingIAMCallStopsAtTheDeadline(t *testing.T) {
	w := newWorld(t, bench.WorldOptions{})
	p := plan(t, w)
	w.AWS.AddFault(netproxy.HangUp(action("CreateRole"), 0))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	status := map[string]string{} // step ID -> what the progress callback said
	start := time.Now()
	changes, err := w.Runner.Apply(ctx, p, steps.Decisions{}, func(s steps.Step, _ []steps.Change, err error, _ time.Duration) {
		status[s.ID] = "done"
		if err != nil {
			status[s.ID] = "failed: " + err.Error()
		}
	})
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Apply returned after %v: the 2 s deadline did not stop the hanging call", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply = %v, want the deadline", err)
	}
	if !strings.Contains(err.Error(), "IAM role "+p.RoleName) {
		t.Fatalf("error %q does not name the step that hung", err)
	}
	want := map[string]string{"provider": "done", "role": "failed", "variable": "", "files": ""}
	for id, w := range want {
		if got := status[id]; !strings.HasPrefix(got, w) || (w == "" && got != "") {
			t.Errorf("step %s: progress said %q, want %q", id, got, w)
		}
	}
	if !createdApplied(changes, "IAM OIDC provider") {
		t.Fatalf("changes %+v should say the provider was created before the hang", changes)
	}
	if vars := w.Fake.Variables(bench.ProjectID); len(vars) != 0 {
		t.Fatalf("variable written after the role hung: %+v", vars)
	}
}

// errorCode is the AWS error code inside err, "" when there is none.
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func createdApplied(changes []steps.Change, resource string) bool {
	for _, c := range changes {
		if c.Resource == resource && c.Action == steps.ActionCreate && c.Applied {
			return true
		}
	}
	return false
}
