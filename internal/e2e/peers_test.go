package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab-oidc/steps"
)

// requirePeers is set in CI: a missing peer then fails instead of skipping.
const requirePeers = "GITLAB_OIDC_REQUIRE_PEERS"

// peerTool returns the path of a peer tool, skipping the test when it is
// missing and GITLAB_OIDC_REQUIRE_PEERS is unset.
func peerTool(t *testing.T, name, hint string) string {
	t.Helper()
	var p string
	var err error
	if name == "gitlab-ci-local" {
		p = filepath.Join(repoRoot(t), "node_modules", ".bin", name)
		_, err = os.Stat(p)
	} else {
		p, err = exec.LookPath(name)
	}
	if err != nil {
		if os.Getenv(requirePeers) != "" {
			t.Fatalf("%s not found (%s): %v", name, hint, err)
		}
		t.Skipf("%s not installed (%s); set %s=1 to make this a failure", name, hint, requirePeers)
	}
	return p
}

// gitlabCILocal checks every tool a gitlab-ci-local run needs.
func gitlabCILocal(t *testing.T) string {
	t.Helper()
	peerTool(t, "git", "apt-get install git")
	peerTool(t, "rsync", "apt-get install rsync: gitlab-ci-local copies the checkout with it")
	return peerTool(t, "gitlab-ci-local", "run npm ci at the repository root")
}

// repoRoot is the module root, where package.json and node_modules live.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

// project is a throwaway git repository holding a pipeline.
type project struct{ dir string }

// newProject writes the snippet and the include into a fresh repository
// through PlanCIFiles/ApplyCIFiles, exactly as setup does, and commits it on
// branch.
func newProject(t *testing.T, spec steps.SnippetSpec, existingCI, branch string) *project {
	t.Helper()
	dir := t.TempDir()
	if existingCI != "" {
		if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), []byte(existingCI), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snippet, err := steps.RenderSnippet(spec)
	if err != nil {
		t.Fatalf("RenderSnippet: %v", err)
	}
	edits, err := steps.PlanCIFiles(dir, "", "", snippet)
	if err != nil {
		t.Fatalf("PlanCIFiles: %v", err)
	}
	if _, err := steps.ApplyCIFiles(dir, edits, steps.Decisions{}, true); err != nil {
		t.Fatalf("ApplyCIFiles: %v", err)
	}
	p := &project{dir: dir}
	p.git(t, "init", "-q", "-b", branch)
	p.commit(t, "pipeline")
	return p
}

// commit commits everything with an identity of its own, so the test does
// not depend on the machine's git configuration.
func (p *project) commit(t *testing.T, msg string) {
	t.Helper()
	p.git(t, "add", "-A")
	p.git(t, "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "commit", "-q", "-m", msg)
}

func (p *project) git(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// run runs gitlab-ci-local in the project with a clean environment (PATH,
// HOME and PYENV_ROOT from ours, AWS config files disabled, so the host's
// AWS settings cannot leak in) and returns its combined output.
func (p *project) run(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// --home keeps the user's ~/.gitlab-ci-local/variables.yml out.
	cmd := exec.CommandContext(ctx, bin, append(args, "--home", t.TempDir())...)
	cmd.Dir = p.dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"NO_COLOR=1",
		"FORCE_COLOR=0",
		// Tests override CI_COMMIT_REF_PROTECTED on purpose.
		"GCL_IGNORE_PREDEFINED_VARS=CI_COMMIT_REF_PROTECTED",
	}
	if pyenv := os.Getenv("PYENV_ROOT"); pyenv != "" {
		cmd.Env = append(cmd.Env, "PYENV_ROOT="+pyenv) // the aws CLI may be a pyenv shim
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// signedToken returns a GitLab-shaped ID token signed RS256 with a key made
// here. moto does not verify it, but the aws CLI and STS's parameter
// validation see a real three-part JWT.
func signedToken(t *testing.T, aud string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	header := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "e2e"}
	claims := map[string]any{
		"iss": "https://gitlab.example.com", "aud": aud,
		"sub":          "project_path:group/project:ref_type:branch:ref:main",
		"project_id":   "1217",
		"project_path": "group/project", "ref": "main", "ref_type": "branch", "ref_protected": "true",
		"iat": now, "nbf": now - 5, "exp": now + 300, "jti": "e2e-token",
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signingInput := enc(header) + "." + enc(claims)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// redact keeps a token out of failure messages.
func redact(s, token string) string {
	return strings.ReplaceAll(s, token, "<token>")
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
