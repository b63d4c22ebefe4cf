package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/steps"
)

// isQuit reports whether a command quits the program.
func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestCtrlCDuringApplyCancelsAndReports(t *testing.T) {
	fb := newFakeBackend()
	fb.blockStep = 1
	d := newDriver(t, fb, SetupOptions{})
	toReview(d)
	d.sendOnly(navMsg{to: stepApply})
	d.at(stepApply)

	// Step 0 finished; the returned command runs step 1, which blocks
	// until its context is cancelled.
	next := d.sendOnly(stepOK(0, 300))
	if next == nil {
		t.Fatal("no command started the second step")
	}
	result := make(chan tea.Msg, 1)
	go func() { result <- next() }()

	if cmd := d.sendOnly(press("ctrl+c")); isQuit(cmd) {
		t.Fatal("the first ctrl+c quit before the running step returned; the report would be a guess")
	}
	var msg tea.Msg
	select {
	case msg = <-result:
	case <-time.After(5 * time.Second):
		t.Fatal("ctrl+c did not cancel the context of the running step")
	}
	done, ok := msg.(stepDoneMsg)
	if !ok || !errors.Is(done.err, context.Canceled) {
		t.Fatalf("step returned %#v, want a stepDoneMsg with context.Canceled", msg)
	}
	if cmd := d.sendOnly(done); !isQuit(cmd) {
		t.Fatal("after the cancelled step returned the wizard did not quit")
	}

	res := d.m.Result()
	if res.Outcome != OutcomeAborted || res.ExitCode() != 130 {
		t.Errorf("outcome %q exit %d, want aborted 130", res.Outcome, res.ExitCode())
	}
	var got []StepStatus
	for _, s := range res.Steps {
		got = append(got, s.Status)
	}
	if want := []StepStatus{StepDone, StepCancelled, StepPending, StepPending}; !slices.Equal(got, want) {
		t.Errorf("step statuses %v, want %v", got, want)
	}
	sum := res.Summary()
	for _, want := range []string{"AWS and GitLab are in this state", "✓ Check IAM OIDC provider", "✗ Create IAM role", "cancelled while running", "· Set CI/CD variable AWS_ROLE_ARN", "not run"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if !strings.Contains(d.screen(), "AWS and GitLab are in this state:") {
		t.Errorf("the Apply screen does not show the state:\n%s", d.screen())
	}
}

func TestSecondCtrlCQuitsWithoutWaiting(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{})
	toReview(d)
	d.sendOnly(navMsg{to: stepApply})
	d.sendOnly(press("ctrl+c"))
	if cmd := d.sendOnly(press("ctrl+c")); !isQuit(cmd) {
		t.Fatal("a second ctrl+c did not quit")
	}
	res := d.m.Result()
	if res.ExitCode() != 130 || res.Steps[0].Status != StepRunning {
		t.Errorf("exit %d, first step %q; want 130 and the step reported as still running", res.ExitCode(), res.Steps[0].Status)
	}
	if !strings.Contains(res.Summary(), "may or may not have taken effect") {
		t.Errorf("summary does not warn about the unfinished step:\n%s", res.Summary())
	}
}

func TestCtrlCBeforeApplyChangesNothing(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{})
	d.keys("enter")
	if cmd := d.sendOnly(press("ctrl+c")); !isQuit(cmd) {
		t.Fatal("ctrl+c on Access did not quit")
	}
	res := d.m.Result()
	if res.ExitCode() != 130 || !strings.Contains(res.Summary(), "before anything was changed") {
		t.Errorf("exit %d, summary %q", res.ExitCode(), res.Summary())
	}
}

func TestFailedStepStopsAndExitsOne(t *testing.T) {
	fb := newFakeBackend()
	fb.failStep, fb.failErr = 1, errAccessDenied
	d := newDriver(t, fb, SetupOptions{})
	toReview(d).keys("enter")
	d.at(stepApply)
	if !slices.Equal(fb.ran, []string{"provider", "role"}) {
		t.Errorf("ran %v, want the steps to stop after the failed role step", fb.ran)
	}
	res := d.m.Result()
	if res.Outcome != OutcomeFailed || res.ExitCode() != 1 || !errors.Is(res.Err, errAccessDenied) {
		t.Errorf("outcome %q exit %d err %v", res.Outcome, res.ExitCode(), res.Err)
	}
	if !strings.Contains(d.screen(), "iam:CreateRole") {
		t.Errorf("the error and its hint are not on screen:\n%s", d.screen())
	}
	if !d.keys("esc").quit && d.m.current != stepApply {
		t.Error("esc left the Apply screen after steps ran")
	}
	if d.keys("enter"); !d.quit {
		t.Error("enter did not quit after the failure")
	}
}

func TestConflictAcceptanceSetsDecision(t *testing.T) {
	tests := map[string]struct {
		conflict steps.ConflictError
		want     steps.Decisions
	}{
		"role":       {steps.ConflictError{Resource: "IAM role", Name: "r"}, steps.Decisions{AddTrustStatement: true}},
		"provider":   {steps.ConflictError{Resource: "IAM OIDC provider", Name: "p"}, steps.Decisions{AddClientID: true}},
		"variable":   {steps.ConflictError{Resource: "CI/CD variable", Name: "AWS_ROLE_ARN"}, steps.Decisions{ReplaceVariable: true}},
		"snippet":    {steps.ConflictError{Resource: "file", Name: ".gitlab/ci/aws-oidc.yml"}, steps.Decisions{OverwriteFiles: true}},
		"other file": {steps.ConflictError{Resource: "file", Name: "ci/deploy.yml"}, steps.Decisions{OverwriteFiles: true}},
		"unknown":    {steps.ConflictError{Resource: "group", Name: "acme"}, steps.Decisions{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var d steps.Decisions
			c := tc.conflict
			ok := allowConflict(&d, &c)
			if d != tc.want {
				t.Errorf("decisions %+v, want %+v", d, tc.want)
			}
			if ok != (tc.want != steps.Decisions{}) {
				t.Errorf("allowConflict returned %v", ok)
			}
		})
	}
}

func TestReviewAllowsConflictAndRePreviews(t *testing.T) {
	fb := newFakeBackend()
	fb.conflictRole = true
	d := newDriver(t, fb, SetupOptions{})
	toReview(d)
	d.at(stepReview)
	d.keys("enter")
	d.at(stepReview)
	if !strings.Contains(d.screen(), "needs your permission first") {
		t.Errorf("enter with an unresolved conflict did not say why:\n%s", d.screen())
	}
	calls := len(fb.previewCalls)
	d.keys("y")
	if !d.m.s.decisions.AddTrustStatement {
		t.Fatal("y did not set Decisions.AddTrustStatement for the IAM role conflict")
	}
	if len(fb.previewCalls) != calls+1 || !fb.previewCalls[calls].AddTrustStatement {
		t.Fatalf("preview was not re-run with the decision: %+v", fb.previewCalls)
	}
	d.keys("enter")
	d.keys() // nothing
	if d.m.current != stepDone {
		t.Errorf("after allowing, enter did not apply (screen %s)", stepNames[d.m.current])
	}
}

func TestAdministratorAccessNeedsTwoConfirmations(t *testing.T) {
	const admin = "arn:aws:iam::aws:policy/AdministratorAccess"
	tests := map[string]struct {
		answers []string
		added   bool
	}{
		"two yeses":   {[]string{"y", "y"}, true},
		"one yes":     {[]string{"y"}, false},
		"yes then no": {[]string{"y", "n"}, false},
		"no":          {[]string{"n"}, false},
		"no then yes": {[]string{"n", "y"}, false},
		"yes then x":  {[]string{"y", "x"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newDriver(t, newFakeBackend(), SetupOptions{})
			d.keys("enter", "enter").type_(admin).keys("enter")
			if slices.Contains(d.m.s.choices.PolicyARNs, admin) {
				t.Fatal("AdministratorAccess was added without any confirmation")
			}
			for _, a := range tc.answers {
				d.send(press(a))
			}
			if got := slices.Contains(d.m.s.choices.PolicyARNs, admin); got != tc.added {
				t.Errorf("added = %v, want %v (choices %v)", got, tc.added, d.m.s.choices.PolicyARNs)
			}
			if !tc.added {
				return
			}
			d.keys("enter")
			d.at(stepReview)
			if body := ansi.Strip(d.m.screens[stepReview].view()); !strings.Contains(body, "AdministratorAccess is attached") {
				t.Errorf("Review does not warn about AdministratorAccess:\n%s", body)
			}
		})
	}
}

func TestOrdinaryPolicyNeedsNoConfirmation(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{})
	d.keys("enter", "enter").type_("arn:aws:iam::aws:policy/ReadOnlyAccess").keys("enter")
	if !slices.Equal(d.m.s.choices.PolicyARNs, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}) {
		t.Errorf("policies %v", d.m.s.choices.PolicyARNs)
	}
	d.type_("not-an-arn").keys("enter")
	if !strings.Contains(d.screen(), "is not a policy ARN") || len(d.m.s.choices.PolicyARNs) != 1 {
		t.Errorf("a bad ARN was not refused:\n%s", d.screen())
	}
}

func TestBackNavigationKeepsChoices(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{})
	d.keys("enter", "down", "space") // + release/*
	d.keys("enter").type_("arn:aws:iam::aws:policy/ReadOnlyAccess").keys("enter")
	d.at(stepPermissions)
	d.keys("esc")
	d.at(stepAccess)
	want := []steps.Allow{{Kind: "branch", Pattern: "main"}, {Kind: "branch", Pattern: "release/*"}}
	if !slices.Equal(d.m.s.choices.Allow, want) {
		t.Errorf("after back, allow = %v, want %v", d.m.s.choices.Allow, want)
	}
	if !strings.Contains(d.screen(), "◉ release/*") {
		t.Errorf("the Access screen lost the selection:\n%s", d.screen())
	}
	d.keys("left") // list focused: ← is back
	d.at(stepConnect)
	d.keys("enter", "enter")
	d.at(stepPermissions)
	if !slices.Equal(d.m.s.choices.PolicyARNs, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}) {
		t.Errorf("policies after going back and forth: %v", d.m.s.choices.PolicyARNs)
	}
	d.keys("tab", "tab", "tab", "tab", "enter")
	d.at(stepReview)
	if got := d.m.s.plan.Allow; !slices.Equal(got, want) {
		t.Errorf("plan allow = %v, want %v", got, want)
	}
}

func TestConnectBlockedByProblems(t *testing.T) {
	fb := newFakeBackend()
	fb.conn.Problems = []string{"token lacks the api scope: create a token with api"}
	d := newDriver(t, fb, SetupOptions{})
	d.keys("enter")
	d.at(stepConnect)
	if !strings.Contains(d.screen(), "enter is blocked") {
		t.Errorf("no reason shown:\n%s", d.screen())
	}
	fb.conn = testConnection()
	d.keys("r", "enter")
	d.at(stepAccess)
}

func TestAccessCustomEntry(t *testing.T) {
	tests := map[string]struct {
		entry   string
		wantErr string
		want    steps.Allow
	}{
		"tag pattern":  {entry: "tag:v1.*", want: steps.Allow{Kind: "tag", Pattern: "v1.*"}},
		"branch":       {entry: "branch:deploy", want: steps.Allow{Kind: "branch", Pattern: "deploy"}},
		"missing kind": {entry: "main", wantErr: "expected branch:NAME"},
		"bad ref":      {entry: "branch:a b", wantErr: "not a valid git ref"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newDriver(t, newFakeBackend(), SetupOptions{})
			d.keys("enter", "tab").type_(tc.entry).keys("enter")
			if tc.wantErr != "" {
				if !strings.Contains(d.screen(), tc.wantErr) {
					t.Errorf("error %q not shown:\n%s", tc.wantErr, d.screen())
				}
				return
			}
			if !slices.Contains(d.m.s.choices.Allow, tc.want) {
				t.Errorf("allow = %v, want it to contain %v", d.m.s.choices.Allow, tc.want)
			}
		})
	}
}

func TestAccessInWords(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{})
	d.keys("enter")
	if !strings.Contains(d.screen(), "In words: only pipelines of acme/payments (project 4242) running on main.") {
		t.Errorf("sentence missing:\n%s", d.screen())
	}
	d.keys("down", "down", "down", "space") // tags v*
	if !strings.Contains(strings.Join(strings.Fields(d.screen()), " "), "running on main or tags matching v*.") {
		t.Errorf("sentence does not follow the selection:\n%s", d.screen())
	}
	if !strings.Contains(d.screen(), "project_path:acme/payments:ref_type:tag:ref:v*") {
		t.Errorf("sub value for tags v* not shown:\n%s", d.screen())
	}
}

func TestAudienceAndRoleName(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{})
	d.keys("enter", "tab", "tab", "space")
	if d.m.s.choices.Audience != audienceSTS {
		t.Errorf("audience = %q, want %q", d.m.s.choices.Audience, audienceSTS)
	}
	d.keys("tab")
	for range len("gitlab-acme-payments-main") {
		d.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	d.type_("payments-deploy")
	if d.m.s.choices.RoleName != "payments-deploy" || d.m.s.plan.RoleName != "payments-deploy" {
		t.Errorf("role name = %q (plan %q)", d.m.s.choices.RoleName, d.m.s.plan.RoleName)
	}
	d.type_(" bad")
	d.keys("enter")
	d.at(stepAccess)
	if !strings.Contains(d.screen(), "IAM allows 1 to 64") {
		t.Errorf("invalid role name not refused:\n%s", d.screen())
	}
}

func TestResizeKeepsFrameHeight(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{})
	for _, size := range [][2]int{{80, 24}, {100, 30}, {60, 20}, {140, 50}} {
		d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		lines := strings.Split(d.screen(), "\n")
		if len(lines) != size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
	}
}

func TestDoneCopyAndHandout(t *testing.T) {
	tests := map[string]struct {
		handout  func() (string, error)
		wantKey  bool
		wantNote string
	}{
		"no hand-out writer": {wantKey: false},
		"hand-out written":   {handout: func() (string, error) { return "gitlab-oidc-handout.md", nil }, wantKey: true, wantNote: "Hand-out written to gitlab-oidc-handout.md"},
		"hand-out fails":     {handout: func() (string, error) { return "", errors.New("disk full") }, wantKey: true, wantNote: "Could not write the hand-out: disk full"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fb := newFakeBackend()
			m := NewSetup(fb, SetupOptions{})
			m.WriteHandout = tc.handout
			d := &driver{t: t, m: m}
			d.run(m.Init())
			toReview(d).keys("enter")
			d.at(stepDone)
			if got := strings.Contains(d.screen(), "h hand-out"); got != tc.wantKey {
				t.Errorf("h key shown = %v, want %v", got, tc.wantKey)
			}
			d.keys("h")
			if tc.wantNote != "" && !strings.Contains(d.screen(), tc.wantNote) {
				t.Errorf("note %q missing:\n%s", tc.wantNote, d.screen())
			}
			cmd := d.sendOnly(press("c"))
			if cmd == nil {
				t.Fatal("c returned no clipboard command")
			}
			if got := fmt.Sprint(cmd()); got != d.m.Result().Preview.Snippet || got == "" {
				t.Errorf("clipboard got %q, want the snippet", got)
			}
			if d.keys("enter"); !d.quit || d.m.Result().ExitCode() != 0 {
				t.Errorf("enter on Done: quit %v, exit %d", d.quit, d.m.Result().ExitCode())
			}
		})
	}
}

func TestInitialChoicesFromFlags(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{InitialChoices: steps.Choices{
		Allow:    []steps.Allow{{Kind: "tag", Pattern: "v*"}, {Kind: "branch", Pattern: "deploy"}},
		RoleName: "payments-release",
		Audience: audienceSTS,
	}})
	d.keys("enter")
	d.at(stepAccess)
	ch := d.m.s.choices
	if ch.RoleName != "payments-release" || ch.Audience != audienceSTS || ch.VariableKey != "AWS_ROLE_ARN" || ch.MaxSessionSeconds != 3600 {
		t.Errorf("choices = %+v: flags must win, defaults fill the rest", ch)
	}
	screen := d.screen()
	for _, want := range []string{"◉ tags v*", "◉ branch:deploy", "○ main", "◉ sts.amazonaws.com", "> payments-release"} {
		if !strings.Contains(screen, want) {
			t.Errorf("Access screen lacks %q:\n%s", want, screen)
		}
	}
}

func TestCtrlCDuringConnectCancelsIt(t *testing.T) {
	fb := newFakeBackend()
	fb.connectWaits = true
	m := NewSetup(fb, SetupOptions{})
	msgs := runAsync(m.Init())
	_, cmd := m.Update(press("ctrl+c"))
	if !isQuit(cmd) {
		t.Fatal("ctrl+c during Connect did not quit")
	}
	msg := awaitMsg(t, msgs, func(m tea.Msg) bool { _, ok := m.(connectedMsg); return ok })
	if err := msg.(connectedMsg).err; !errors.Is(err, context.Canceled) {
		t.Errorf("Connect returned %v, want context.Canceled: ctrl+c must cancel its context", err)
	}
	if m.Result().ExitCode() != 130 {
		t.Errorf("exit %d, want 130", m.Result().ExitCode())
	}
}

func TestLightBackgroundRestyles(t *testing.T) {
	d := newDriver(t, newFakeBackend(), SetupOptions{})
	dark := d.m.s.st
	d.send(tea.BackgroundColorMsg{Color: color.White})
	if d.m.s.st == dark {
		t.Fatal("styles were not rebuilt for a light background")
	}
	if !strings.Contains(d.screen(), "Already there") {
		t.Errorf("the view broke after restyling:\n%s", d.screen())
	}
}

// runAsync runs a command and, recursively, the commands of a batch, each
// in its own goroutine, and delivers their messages as they come.
func runAsync(cmd tea.Cmd) <-chan tea.Msg {
	out := make(chan tea.Msg, 16)
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		if c == nil {
			return
		}
		go func() {
			msg := c()
			if batch, ok := msg.(tea.BatchMsg); ok {
				for _, sub := range batch {
					run(sub)
				}
				return
			}
			out <- msg
		}()
	}
	run(cmd)
	return out
}

// awaitMsg returns the first message that matches, failing after 5 s.
func awaitMsg(t *testing.T, msgs <-chan tea.Msg, match func(tea.Msg) bool) tea.Msg {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case msg := <-msgs:
			if match(msg) {
				return msg
			}
		case <-deadline:
			t.Fatal("the expected message did not arrive within 5 s")
			return nil
		}
	}
}
