package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab-oidc/steps"
)

// The demo runs the real steps against the simulation: a full run creates
// everything, a second run changes nothing, and files land only in the demo
// checkout.
func TestDemoSetupRunsTheRealStepsAndIsIdempotent(t *testing.T) {
	env, err := EnvWithLatency(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(env.WorkDir) })
	if !env.Simulated || !strings.Contains(env.WorkDir, "gitlab-oidc-demo-") {
		t.Fatalf("demo env not marked simulated or writes outside a demo checkout: %+v", env)
	}
	r := &steps.Runner{Env: env}
	ctx := context.Background()
	conn, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !conn.Simulated || conn.Project.Path != "acme/payments" || len(conn.Problems) != 0 {
		t.Fatalf("demo connection = %+v", conn)
	}
	plan, err := r.Plan(conn, steps.Choices{})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := r.Apply(ctx, plan, steps.Decisions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, c := range changes {
		if c.Applied && c.IsWrite() {
			created++
		}
	}
	if created < 4 {
		t.Fatalf("demo first run made %d changes, want provider, role, variable and files: %+v", created, changes)
	}
	if _, err := os.Stat(filepath.Join(env.WorkDir, ".gitlab/ci/aws-oidc.yml")); err != nil {
		t.Fatalf("snippet not in the demo checkout: %v", err)
	}
	changes, err = r.Apply(ctx, plan, steps.Decisions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.IsWrite() {
			t.Errorf("demo re-run changed %s %s", c.Resource, c.Name)
		}
	}
}
