package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/steps"
)

// The production backend must satisfy the interface the wizard codes against.
var _ SetupBackend = (*steps.Runner)(nil)

// fakeBackend is a deterministic SetupBackend. It embeds the interface so a
// call the test did not plan for panics.
type fakeBackend struct {
	SetupBackend

	conn       *steps.Connection
	connectErr error
	// connectWaits makes Connect wait for its context (ctrl+c test).
	connectWaits bool
	// conflictRole makes Preview report the role's trust policy as a
	// conflict until AddTrustStatement is decided.
	conflictRole bool
	// failStep, when >= 0, makes that step fail with failErr.
	failStep int
	failErr  error
	// blockStep, when >= 0, makes that step wait for its context.
	blockStep int

	mu           sync.Mutex
	previewCalls []steps.Decisions
	ran          []string
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{conn: testConnection(), failStep: -1, blockStep: -1}
}

// testConnection is acme/payments (project 4242) on gitlab.com, account
// 123456789012, with the provider already there.
func testConnection() *steps.Connection {
	return &steps.Connection{
		AWS: steps.AWSIdentity{Account: "123456789012", ARN: "arn:aws:iam::123456789012:user/alice",
			Partition: "aws", Region: "us-east-1", Profile: "default"},
		GitLab: steps.GitLabIdentity{URL: "https://gitlab.com", Username: "alice",
			AccessLevel: gitlabapi.Maintainer, TokenSource: "GITLAB_TOKEN"},
		Project: steps.ProjectInfo{ID: 4242, Path: "acme/payments", DefaultBranch: "main",
			SubComponents:     []string{"project_path", "ref_type", "ref"},
			ProtectedBranches: []string{"main", "release/*"}, ProtectedTags: []string{"v*"}},
		ProjectSource: "git remote",
		Issuer: steps.IssuerStatus{URL: "https://gitlab.com", Source: "discovery", DiscoveryMillis: 180,
			JWKSMillis: 95, PubliclyTrusted: true, OK: true},
		Existing: steps.Existing{ProviderARN: "arn:aws:iam::123456789012:oidc-provider/gitlab.com",
			ProviderClientIDs: []string{"https://gitlab.com"}},
	}
}

func (f *fakeBackend) Connect(ctx context.Context) (*steps.Connection, error) {
	if f.connectWaits {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if f.connectErr != nil {
		return nil, f.connectErr
	}
	return f.conn, nil
}

func (f *fakeBackend) Plan(conn *steps.Connection, ch steps.Choices) (steps.Plan, error) {
	return steps.NewPlan(conn, ch)
}

func (f *fakeBackend) Templates() []steps.TemplateInfo {
	return []steps.TemplateInfo{
		{ID: "s3-bucket", Title: "Deploy to one S3 bucket", Description: "List the bucket and read, write and delete its objects (static sites, artifacts).", Params: []string{"bucket"}},
		{ID: "ecr-push", Title: "Push images to one ECR repository", Description: "Log in to ECR and push and pull images of one repository.", Params: []string{"repository"}},
	}
}

func (f *fakeBackend) Preview(ctx context.Context, p steps.Plan, d steps.Decisions) (steps.Preview, error) {
	f.mu.Lock()
	f.previewCalls = append(f.previewCalls, d)
	f.mu.Unlock()
	pv := steps.Preview{
		Changes: []steps.Change{
			{Action: steps.ActionKeep, Resource: "IAM OIDC provider", Name: p.ProviderARN()},
			{Action: steps.ActionCreate, Resource: "IAM role", Name: p.RoleName, Detail: fmt.Sprintf("max session %d h", p.MaxSessionSeconds/3600)},
		},
		TrustPolicy: fakeTrustPolicy(p),
		Snippet:     "include:\n  - local: " + p.SnippetPath + "\n\naws-oidc-check:\n  id_tokens:\n    GITLAB_OIDC_TOKEN:\n      aud: " + p.Audience + "\n  script:\n    - aws sts get-caller-identity\n",
		FileDiffs:   []steps.FileDiff{{Path: p.CIFile, Diff: "--- a/.gitlab-ci.yml\n+++ b/.gitlab-ci.yml\n@@ -1,2 +1,4 @@\n+include:\n+  - local: " + p.SnippetPath + "\n stages:\n   - test\n"}},
	}
	for _, arn := range p.PolicyARNs {
		pv.Changes = append(pv.Changes, steps.Change{Action: steps.ActionAttach, Resource: "managed policy", Name: arn})
	}
	pv.Changes = append(pv.Changes,
		steps.Change{Action: steps.ActionCreate, Resource: "CI/CD variable", Name: p.Variable.Key, Detail: "protected, all environments"},
		steps.Change{Action: steps.ActionWrite, Resource: "file", Name: p.SnippetPath},
		steps.Change{Action: steps.ActionEdit, Resource: "file", Name: p.CIFile, Detail: "+2 lines: include"},
	)
	if f.conflictRole && !d.AddTrustStatement {
		pv.Conflicts = append(pv.Conflicts, &steps.ConflictError{Resource: "IAM role", Name: p.RoleName,
			Diff: "  Statement[0] GitLabOIDCacmepayments\n-   sub: project_path:acme/payments:ref_type:branch:ref:*\n+   sub: project_path:acme/payments:ref_type:branch:ref:main",
			Hint: "its trust policy differs; setup only appends its statement and keeps the others: confirm it in the wizard or re-run with --yes"})
	}
	return pv, nil
}

// fakeTrustPolicy renders a trust policy from the plan by hand, so the
// goldens do not depend on another package's JSON layout.
func fakeTrustPolicy(p steps.Plan) string {
	exact, _, _ := p.SubValues()
	return fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": %q},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "gitlab.com:aud": %q,
          "gitlab.com:sub": %q
        }
      }
    }
  ]
}`, p.ProviderARN(), p.Audience, strings.Join(exact, ","))
}

func (f *fakeBackend) Steps(p steps.Plan, d steps.Decisions) []steps.Step {
	defs := []struct {
		id, title string
		ch        steps.Change
	}{
		{"provider", "Check IAM OIDC provider", steps.Change{Action: steps.ActionKeep, Resource: "IAM OIDC provider", Name: p.ProviderARN()}},
		{"role", "Create IAM role " + p.RoleName, steps.Change{Action: steps.ActionCreate, Resource: "IAM role", Name: p.RoleARN()}},
		{"variable", "Set CI/CD variable " + p.Variable.Key, steps.Change{Action: steps.ActionCreate, Resource: "CI/CD variable", Name: p.Variable.Key}},
		{"snippet", "Write " + p.SnippetPath, steps.Change{Action: steps.ActionWrite, Resource: "file", Name: p.SnippetPath}},
	}
	out := make([]steps.Step, len(defs))
	for i, def := range defs {
		out[i] = steps.Step{ID: def.id, Title: def.title, Run: func(ctx context.Context) ([]steps.Change, error) {
			f.mu.Lock()
			f.ran = append(f.ran, def.id)
			f.mu.Unlock()
			if i == f.blockStep {
				<-ctx.Done()
				return nil, fmt.Errorf("%s: %w", def.title, ctx.Err())
			}
			if i == f.failStep {
				return nil, f.failErr
			}
			c := def.ch
			c.Applied = true
			return []steps.Change{c}, nil
		}}
	}
	return out
}

// ---- driving the model without a terminal ----

// press builds a key press the way the terminal reports it.
func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "pgdn":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// driver feeds messages to the model and runs the commands it returns
// synchronously, feeding back the wizard's own messages (navigation,
// backend results). Spinner ticks are dropped so nothing loops or sleeps.
type driver struct {
	t    *testing.T
	m    *SetupModel
	quit bool
}

func newDriver(t *testing.T, fb *fakeBackend, opts SetupOptions) *driver {
	t.Helper()
	d := &driver{t: t, m: NewSetup(fb, opts)}
	d.run(d.m.Init())
	return d
}

func (d *driver) send(msgs ...tea.Msg) *driver {
	d.t.Helper()
	for _, msg := range msgs {
		_, cmd := d.m.Update(msg)
		d.run(cmd)
	}
	return d
}

func (d *driver) keys(ks ...string) *driver {
	d.t.Helper()
	for _, k := range ks {
		d.send(press(k))
	}
	return d
}

func (d *driver) type_(s string) *driver {
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	d.t.Helper()
	for _, msg := range runCmd(d.t, cmd) {
		switch msg.(type) {
		case tea.QuitMsg:
			d.quit = true
		case navMsg, connectedMsg, previewMsg, stepDoneMsg, handoutMsg:
			d.send(msg)
		}
	}
}

// runCmd runs a command the way the event loop would (a batch's commands
// one after another) and returns the messages they produced, spinner ticks
// left out; a command that does not return in 5 s fails the test.
func runCmd(t *testing.T, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a command did not return within 5 s")
	}
	switch msg := msg.(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runCmd(t, c)...)
		}
		return out
	case spinner.TickMsg, nil:
		return nil
	default:
		return []tea.Msg{msg}
	}
}

// screen returns the plain text of the whole frame (no colour codes).
func (d *driver) screen() string {
	return ansi.Strip(d.m.View().Content)
}

func (d *driver) at(want stepID) {
	d.t.Helper()
	if d.m.current != want {
		d.t.Fatalf("screen = %s, want %s\n%s", stepNames[d.m.current], stepNames[want], d.screen())
	}
}

var errAccessDenied = errors.New("create role \"gitlab-acme-payments-main\": AccessDenied: iam:CreateRole not allowed for arn:aws:iam::123456789012:user/alice; ask for iam:CreateRole or run as an admin")

// sendOnly updates the model and drops the command, for tests that play a
// backend's answers by hand (apply steps with fixed timings).
func (d *driver) sendOnly(msgs ...tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	for _, msg := range msgs {
		_, cmd = d.m.Update(msg)
	}
	return cmd
}
