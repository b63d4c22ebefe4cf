package faults_test

import (
	"context"
	"testing"
	"time"

	"gitlab-oidc/internal/bench"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/netproxy"
	"gitlab-oidc/steps"
)

// newWorld is a bench world without latency (faults, not speed, are under
// test) and with GitLab retry waits short enough for tests; Retry-After is
// still honoured up to 3 s.
func newWorld(t *testing.T, o bench.WorldOptions) *bench.World {
	t.Helper()
	if o.Latency == 0 {
		o.Latency = -1
	}
	o.GitLabOptions = append([]gitlabapi.Option{
		gitlabapi.WithRetries(3, 20*time.Millisecond, 200*time.Millisecond),
		gitlabapi.WithMaxRetryAfter(3 * time.Second),
	}, o.GitLabOptions...)
	return bench.NewWorld(t, o)
}

// plan connects and plans the default choices.
func plan(t *testing.T, w *bench.World) steps.Plan {
	t.Helper()
	conn, err := w.Runner.Connect(context.Background())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	p, err := w.Runner.Plan(conn, bench.SetupChoices())
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return p
}

// countOps counts how often op appears in a CallLog's calls ("IAM.CreateRole").
func countOps(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}

// action matches an AWS action at the proxy.
func action(name string) netproxy.Match { return netproxy.Match{Action: name} }
