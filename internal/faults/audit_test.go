package faults_test

import (
	"context"
	"net/http"
	"testing"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/bench"
	"gitlab-oidc/internal/netproxy"
)

// TestAuditCompletesUnderThrottling throttles and fails the reads an audit
// makes (as a busy account's IAM quota does): every role is still audited
// and no role carries a "could not read" note.
func TestAuditCompletesUnderThrottling(t *testing.T) {
	w := newWorld(t, bench.WorldOptions{})
	ctx := context.Background()
	const roles = 20
	if err := w.SeedAuditRoles(ctx, roles); err != nil {
		t.Fatal(err)
	}
	faults := []netproxy.Fault{
		netproxy.AWSThrottle("ListRoles", 1),
		netproxy.AWSThrottle("ListAttachedRolePolicies", 3),
		netproxy.AWSThrottle("ListRolePolicies", 3),
		netproxy.AWSServerError("GetRolePolicy", http.StatusInternalServerError, 2),
	}
	injected := 0
	for _, f := range faults {
		w.AWS.AddFault(f)
		injected += f.Times
	}
	w.ResetTrace()
	rep, err := diagnose.AuditAccount(ctx, w.IAM, diagnose.AccountAuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Roles) != roles || len(rep.Notes) > 0 {
		t.Fatalf("audited %d roles (want %d), notes %q", len(rep.Roles), roles, rep.Notes)
	}
	for _, r := range rep.Roles {
		if len(r.Notes) > 0 {
			t.Fatalf("role %s: %q", r.Name, r.Notes)
		}
	}
	if got, ops := w.AWS.Count(netproxy.Match{}), len(w.AWSCalls.Calls()); got != ops+injected {
		t.Fatalf("proxy saw %d requests for %d operations, want %d: each fault retried once", got, ops, ops+injected)
	}
}
