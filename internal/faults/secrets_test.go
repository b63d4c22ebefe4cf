package faults_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gitlab-oidc/internal/token/tokentest"
)

// binary is $GITLAB_OIDC_BIN (make test-unit sets it) or a fresh build.
func binary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GITLAB_OIDC_BIN"); bin != "" {
		return bin
	}
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("find the module root: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "gitlab-oidc")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gitlab-oidc")
	build.Dir = strings.TrimSpace(string(root))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gitlab-oidc: %v\n%s", err, out)
	}
	return bin
}

// TestDoctorNeverPrintsSecrets pastes a job log full of credentials and a
// token into the doctor, in every output format and through its error
// paths, and checks that no secret appears whole anywhere it writes.
func TestDoctorNeverPrintsSecrets(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	signer := tokentest.NewSigner(t)
	jwt := signer.Sign(tokentest.GitLabClaims(nil))
	signature := jwt[strings.LastIndex(jwt, ".")+1:]
	secrets := map[string]string{
		"access key":    "AKIA2E0A8F3B244C9986",
		"temporary key": "ASIA5RT7YU3IO9PA1SDF",
		"secret key":    "h5Yk2mQ9vX8pR3tL7wZ1nB4cJ6dF0gS2aE8uI5oP",
		"session token": "FwoGZXIvYXdzEJr//////////wEaDPk3n9Hq0Ti7Vw2xSyKvAb4E3mP8q2LrT6yU1oI9sD5fG7hJ0kZxC4vB8nM3QwErTyUiOpAsDfGhJkLzXcVbNm==",
		"gitlab token":  "glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm",
		"the JWT":       jwt,
		"JWT signature": signature,
		"runner token":  "glrt-t3_Qw7Er5Ty9Ui1Op3As",
	}
	log := strings.Join([]string{
		"Running with gitlab-runner 17.11.0 (0f6a4c5e)",
		"$ echo $GITLAB_OIDC_TOKEN",
		jwt,
		"$ aws sts assume-role-with-web-identity --role-arn ${AWS_ROLE_ARN} --role-session-name gitlab --web-identity-token " + jwt,
		"$ env | grep AWS",
		"AWS_ACCESS_KEY_ID=" + secrets["access key"],
		"AWS_SECRET_ACCESS_KEY=" + secrets["secret key"],
		`{"Credentials": {"AccessKeyId": "` + secrets["temporary key"] + `", "SecretAccessKey": "` + secrets["secret key"] + `", "SessionToken": "` + secrets["session token"] + `"}}`,
		"export AWS_SESSION_TOKEN=" + secrets["session token"],
		"PRIVATE-TOKEN: " + secrets["gitlab token"],
		"registering runner with " + secrets["runner token"],
		"An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity",
	}, "\n") + "\n"
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	logFile := write("job.log", log)
	tokenFile := write("token.jwt", jwt+"\n")
	cut := jwt[:len(jwt)-7] // truncated when copied: a malformed token
	cutFile := write("cut.jwt", cut)
	trust := write("trust.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/gitlab.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":"project_path:acme/payments:ref_type:branch:ref:release"}}}]}`)
	offline := []string{"doctor", "--offline", "--no-tui", "--ci-file", "", "--provider-url", "https://gitlab.com", "--client-id", "sts.amazonaws.com", "--trust-policy", trust, "--role-arn", "arn:aws:iam::123456789012:role/deploy"}

	runs := map[string]struct {
		args    []string
		secrets []string // "" means all
		extra   map[string]string
	}{
		"log and token, text": {args: append(offline[:len(offline):len(offline)], "--job-log", logFile, "--token-file", tokenFile)},
		"log and token, json": {args: append(offline[:len(offline):len(offline)], "--job-log", logFile, "--token-file", tokenFile, "--format", "json")},
		"log on stdin, json":  {args: append(offline[:len(offline):len(offline)], "--job-log", "-", "--format", "json")},
		"error text is a log": {args: append(offline[:len(offline):len(offline)], "--error", log)},
		"truncated token":     {args: append(offline[:len(offline):len(offline)], "--token-file", cutFile, "--format", "json"), extra: map[string]string{"truncated token": cut}},
		"token as role ARN":   {args: []string{"doctor", "--offline", "--no-tui", "--role-arn", jwt}},
		"token as job URL":    {args: []string{"doctor", "--offline", "--no-tui", "--job", jwt}},
		"token as trust file": {args: []string{"doctor", "--offline", "--no-tui", "--trust-policy", tokenFile}},
		"token as error text": {args: []string{"doctor", "--offline", "--no-tui", "--error", "InvalidIdentityToken: " + jwt, "--format", "json"}},
	}
	for name, run := range runs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin, run.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "NO_COLOR=1", "TERM=dumb", "AWS_EC2_METADATA_DISABLED=true")
			if slicesContains(run.args, "-") {
				cmd.Stdin = strings.NewReader(log)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if _, ok := err.(*exec.ExitError); err != nil && !ok {
				t.Fatal(err)
			}
			out := stdout.String() + stderr.String()
			if strings.TrimSpace(out) == "" {
				t.Fatal("the doctor printed nothing")
			}
			check := map[string]string{}
			for k, v := range secrets {
				check[k] = v
			}
			for k, v := range run.extra {
				check[k] = v
			}
			for what, secret := range check {
				if strings.Contains(out, secret) {
					t.Errorf("%s appears in the output:\n%s", what, excerpt(out, secret))
				}
			}
		})
	}
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// excerpt shows where a secret leaked without printing the secret whole.
func excerpt(out, secret string) string {
	i := strings.Index(out, secret)
	from := max(0, i-80)
	return out[from:i] + "<SECRET " + secret[:min(6, len(secret))] + "...>" + out[i+len(secret):min(len(out), i+len(secret)+40)]
}
