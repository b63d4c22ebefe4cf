package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/testenv"
)

// binary returns the gitlab-oidc binary: $GITLAB_OIDC_BIN (make test sets
// it) or one built for this test run.
func binary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GITLAB_OIDC_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "gitlab-oidc")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gitlab-oidc")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build gitlab-oidc: %v\n%s", err, out)
	}
	return bin
}

// tmuxSession drives a program in a real terminal through a private tmux
// server, the way a person would.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, width, height int, env []string, dir, command string) *tmuxSession {
	t.Helper()
	peerTool(t, "tmux", "apt-get install tmux")
	s := &tmuxSession{t: t, socket: fmt.Sprintf("gitlab-oidc-test-%d", time.Now().UnixNano())}
	args := []string{"-L", s.socket, "-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "-c", dir}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, command+"; echo EXIT=$?; sleep 60")
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) screen() string {
	out, err := exec.Command("tmux", "-L", s.socket, "capture-pane", "-p", "-t", "main").Output()
	if err != nil {
		s.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

// waitFor polls the screen until it shows text, failing with the screen.
func (s *tmuxSession) waitFor(text string, limit time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		screen := s.screen()
		if strings.Contains(screen, text) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q within %s; it shows:\n%s", text, limit, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"-L", s.socket, "send-keys", "-t", "main"}, keys...)...).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys %v: %v\n%s", keys, err, out)
	}
}

// The whole wizard, driven in tmux, against moto and the fake GitLab.
func TestWizardInTmuxAgainstMotoAndFakeGitLab(t *testing.T) {
	bin := binary(t)
	moto := testenv.StartMoto(t)
	fake := gitlabfake.New()
	fake.AddUser("glpat-tmux-test", "alice")
	fake.AddProject(gitlabfake.Project{ID: 4242, Path: "acme/payments", DefaultBranch: "main",
		SubClaimComponents: []string{"project_path", "ref_type", "ref"}, ProtectedBranches: []string{"main"}, ProtectedTags: []string{"v*"}})
	fake.SetAccess("glpat-tmux-test", "acme/payments", gitlabapi.Maintainer)
	srv := gitlabfake.Serve(t, fake)
	checkout := t.TempDir()
	if err := os.WriteFile(filepath.Join(checkout, ".gitlab-ci.yml"), []byte("stages: [test]\n\nunit:\n  stage: test\n  script: [make test]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(moto.Env(), "GITLAB_TOKEN=glpat-tmux-test", "TERM=xterm-256color", "HOME="+t.TempDir())
	command := fmt.Sprintf("%s setup --gitlab-url %s --project acme/payments --issuer-url https://gitlab.com --no-probe", bin, srv.URL)
	s := startTmux(t, 100, 30, env, checkout, command)

	screen := s.waitFor("Already there", 20*time.Second)
	for _, want := range []string{"123456789012", "@alice", "acme/payments"} {
		if !strings.Contains(screen, want) {
			t.Errorf("Connect screen lacks %q:\n%s", want, screen)
		}
	}
	s.keys("Enter")
	screen = s.waitFor("Which jobs may use this role?", 5*time.Second)
	if !strings.Contains(screen, "project_path:acme/payments:ref_type:branch:ref:main") {
		t.Errorf("Access screen does not show the sub for main:\n%s", screen)
	}
	s.keys("Enter")
	s.waitFor("Managed policies", 5*time.Second)
	s.keys("Tab")
	s.keys("Enter")
	s.waitFor("press enter to apply", 15*time.Second)
	s.keys("Enter")
	s.waitFor("Setup complete", 30*time.Second)
	s.keys("Enter")
	screen = s.waitFor("EXIT=", 10*time.Second)
	if !strings.Contains(screen, "EXIT=0") {
		t.Fatalf("wizard exited badly:\n%s", screen)
	}

	client := iam.NewFromConfig(moto.AWSConfig())
	role, err := client.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("gitlab-acme-payments-main")})
	if err != nil {
		t.Fatalf("the role is not in moto: %v", err)
	}
	vars := fake.Variables(4242)
	if len(vars) != 1 || vars[0].Value != aws.ToString(role.Role.Arn) {
		t.Fatalf("variables = %+v, want AWS_ROLE_ARN = %s", vars, aws.ToString(role.Role.Arn))
	}
	if _, err := os.Stat(filepath.Join(checkout, ".gitlab/ci/aws-oidc.yml")); err != nil {
		t.Fatalf("snippet not written: %v", err)
	}
}
