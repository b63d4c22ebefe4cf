package gitremote

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repo makes a real git repository whose origin is remote ("" for none).
func repo(t *testing.T, remote string) string {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	run("init", "-q")
	if remote != "" {
		run("remote", "add", "origin", remote)
	}
	return dir
}

func TestDetect(t *testing.T) {
	tests := map[string]struct {
		remote string
		want   Remote
	}{
		"scp-like ssh": {"git@gitlab.com:acme/payments.git",
			Remote{Host: "gitlab.com", BaseURL: "https://gitlab.com", ProjectPath: "acme/payments", URL: "git@gitlab.com:acme/payments.git"}},
		"ssh URL with port and subgroups": {"ssh://git@gitlab.example.org:2222/acme/platform/infra.git",
			Remote{Host: "gitlab.example.org", BaseURL: "https://gitlab.example.org", ProjectPath: "acme/platform/infra", URL: "ssh://git@gitlab.example.org:2222/acme/platform/infra.git"}},
		"https with credentials": {"https://oauth2:glpat-secret@gitlab.com/acme/payments.git",
			Remote{Host: "gitlab.com", BaseURL: "https://gitlab.com", ProjectPath: "acme/payments", URL: "https://gitlab.com/acme/payments.git"}},
		"http with port, no .git": {"http://git.corp.local:8080/team/app/",
			Remote{Host: "git.corp.local", BaseURL: "http://git.corp.local:8080", ProjectPath: "team/app", URL: "http://git.corp.local:8080/team/app/"}},
		"altssh over 443": {"ssh://git@altssh.gitlab.com:443/acme/payments.git",
			Remote{Host: "gitlab.com", BaseURL: "https://gitlab.com", ProjectPath: "acme/payments", URL: "ssh://git@altssh.gitlab.com:443/acme/payments.git"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Detect(repo(t, tc.remote))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, got.URL, "glpat-secret")
		})
	}
}

func TestDetectFailures(t *testing.T) {
	tests := map[string]struct {
		dir      func(t *testing.T) string
		wantText string
	}{
		"no origin":       {func(t *testing.T) string { return repo(t, "") }, "--project"},
		"not a repo":      {func(t *testing.T) string { return t.TempDir() }, "not a git repository"},
		"local path":      {func(t *testing.T) string { return repo(t, "/srv/git/app.git") }, "local path"},
		"file URL":        {func(t *testing.T) string { return repo(t, "file:///srv/git/app.git") }, "file URL"},
		"no project path": {func(t *testing.T) string { return repo(t, "https://u:glpat-secret@gitlab.com/app") }, "group/project"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Detect(tc.dir(t))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantText)
			assert.NotContains(t, err.Error(), "glpat-secret")
		})
	}
}

func TestIsGitLab(t *testing.T) {
	tests := map[string]struct {
		host  string
		known []string
		want  bool
	}{
		"gitlab.com":                {"gitlab.com", nil, true},
		"self-managed named gitlab": {"gitlab.acme.io", nil, true},
		"unknown name":              {"git.corp.local", nil, false},
		"known by URL":              {"git.corp.local", []string{"https://git.corp.local:8443"}, true},
		"known by host":             {"git.corp.local", []string{"GIT.corp.local"}, true},
		"github is not":             {"github.com", []string{"https://git.corp.local"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, Remote{Host: tc.host}.IsGitLab(tc.known...))
		})
	}
}
