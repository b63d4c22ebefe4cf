package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/diagnose"
)

// demoAuditRun audits the simulated demo account with the real audit: five
// GitLab roles from critical to clean. Progress calls are recorded.
func demoAuditRun(t *testing.T) AuditRun {
	t.Helper()
	return AuditRun{Audit: func(ctx context.Context, progress func(int, int)) (diagnose.AuditReport, error) {
		return diagnose.AuditAccount(ctx, diagnose.DemoAccount(), diagnose.AccountAuditOptions{
			Issuers: diagnose.DemoIssuers, Concurrency: 1, Progress: progress})
	}}
}

// newAuditDriver runs the audit to the end synchronously: it delivers the
// audit's events (progress, then the report) like the program would.
func newAuditDriver(t *testing.T, run AuditRun, opts AuditOptions) *auditDriver {
	t.Helper()
	d := &auditDriver{t: t, m: NewAudit(run, opts)}
	d.m.Init()
	for d.m.running {
		d.send(<-d.m.events)
	}
	return d
}

// auditDriver feeds keys and events to an AuditModel.
type auditDriver struct {
	t *testing.T
	m *AuditModel
}

func (d *auditDriver) send(msgs ...any) {
	for _, msg := range msgs {
		d.m.Update(msg)
	}
}

func (d *auditDriver) keys(ks ...string) *auditDriver {
	for _, k := range ks {
		d.m.Update(press(k))
	}
	return d
}

func (d *auditDriver) screen() string { return ansi.Strip(d.m.View().Content) }

func (d *auditDriver) names() []string {
	out := make([]string, len(d.m.roles))
	for i, r := range d.m.roles {
		out[i] = r.Name
	}
	return out
}

func TestAuditGoldenViews(t *testing.T) {
	tests := map[string]struct {
		w, h  int
		setup func(*AuditModel)
		keys  []string
	}{
		"audit_listing":  {setup: func(m *AuditModel) { m.running = true }},
		"audit_progress": {setup: func(m *AuditModel) { m.running, m.done, m.total = true, 2, 5 }},
		"audit_error": {setup: func(m *AuditModel) {
			m.running, m.err = false, errors.New("list roles: AccessDenied: iam:ListRoles not allowed; ask for iam:ListRoles or name roles with --role-arn")
		}},
		"audit_table":         {},
		"audit_table_by_name": {keys: []string{"s"}},
		"audit_role":          {keys: []string{"down", "enter"}},
		"audit_role_policy":   {keys: []string{"down", "down", "enter", "pgdn", "pgdn"}},
		"audit_role_clean":    {keys: []string{"down", "down", "down", "down", "enter"}},
		"audit_help":          {keys: []string{"?"}},
		"audit_table_120x40":  {w: 120, h: 40},
		"audit_role_120x40":   {w: 120, h: 40, keys: []string{"enter"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, h := 80, 24
			if tc.w != 0 {
				w, h = tc.w, tc.h
			}
			d := newAuditDriver(t, demoAuditRun(t), AuditOptions{Simulated: true, Width: w, Height: h})
			if tc.setup != nil {
				tc.setup(d.m)
				d.m.syncBody()
			}
			d.keys(tc.keys...)
			got := d.screen()
			checkFrame(t, got, w, h)
			requireGolden(t, name, got)
		})
	}
}

// TestAuditSortKeepsTheCursor cycles the sort with s and checks the order
// and that the cursor stays on the role it was on.
func TestAuditSortKeepsTheCursor(t *testing.T) {
	d := newAuditDriver(t, demoAuditRun(t), AuditOptions{})
	bySeverity := []string{"gitlab-legacy-deploy", "gitlab-acme-group", "infra-terraform", "gitlab-acme-docs-readonly", "gitlab-acme-payments-main"}
	if got := d.names(); !slices.Equal(got, bySeverity) {
		t.Fatalf("initial order = %v, want worst first %v", got, bySeverity)
	}
	d.keys("down", "down") // infra-terraform
	d.keys("s")
	byName := slices.Sorted(slices.Values(bySeverity))
	if got := d.names(); !slices.Equal(got, byName) {
		t.Errorf("after s: %v, want by name %v", got, byName)
	}
	if r := d.m.roles[d.m.cursor]; r.Name != "infra-terraform" {
		t.Errorf("cursor moved to %s, want it on infra-terraform", r.Name)
	}
	if !strings.Contains(d.screen(), "sorted by name") {
		t.Errorf("the table does not say its order:\n%s", d.screen())
	}
	d.keys("s")
	if got := d.names(); !slices.Equal(got, bySeverity) {
		t.Errorf("after s twice: %v, want worst first again", got)
	}
}

// TestAuditDrillDown opens a role, checks the offending lines are marked
// with the finding IDs, and comes back with esc.
func TestAuditDrillDown(t *testing.T) {
	d := newAuditDriver(t, demoAuditRun(t), AuditOptions{Height: 200})
	d.keys("down", "enter")
	if !d.m.open {
		t.Fatal("enter did not open the role")
	}
	screen := d.screen()
	lines := strings.Split(screen, "\n")
	found := false
	for i, l := range lines {
		if strings.Contains(l, `"gitlab.com:sub": "project_path:acme/*"`) && i+1 < len(lines) && strings.Contains(lines[i+1], "↑ trust-sub-wildcard-broad") {
			found = true
		}
	}
	if !found {
		t.Errorf("the wildcard sub line is not marked with trust-sub-wildcard-broad:\n%s", screen)
	}
	d.keys("s") // no sorting inside a role
	d.keys("esc")
	if d.m.open || d.m.roles[d.m.cursor].Name != "gitlab-acme-group" {
		t.Errorf("esc: open=%v cursor on %s, want the table with the cursor on gitlab-acme-group", d.m.open, d.m.roles[d.m.cursor].Name)
	}
}

// TestAuditProgressAndAbort runs a blocking audit: progress shows, and q
// cancels the audit's context and reports an abort.
func TestAuditProgressAndAbort(t *testing.T) {
	var mu sync.Mutex
	var sawCancel bool
	started := make(chan struct{})
	run := AuditRun{Audit: func(ctx context.Context, progress func(int, int)) (diagnose.AuditReport, error) {
		progress(0, 40)
		progress(10, 40)
		close(started)
		<-ctx.Done()
		mu.Lock()
		sawCancel = true
		mu.Unlock()
		return diagnose.AuditReport{}, ctx.Err()
	}}
	m := NewAudit(run, AuditOptions{})
	m.Init()
	<-started
	m.Update(<-m.events)
	m.Update(<-m.events)
	if got := ansi.Strip(m.View().Content); !strings.Contains(got, "Auditing roles  10/40") || !strings.Contains(got, "25 %") {
		t.Fatalf("progress not shown:\n%s", got)
	}
	m.Update(press("q"))
	m.Update(<-m.events)
	mu.Lock()
	defer mu.Unlock()
	if !sawCancel || !errors.Is(m.Err(), context.Canceled) {
		t.Errorf("cancelled=%v err=%v, want the audit cancelled and an abort reported", sawCancel, m.Err())
	}
}
