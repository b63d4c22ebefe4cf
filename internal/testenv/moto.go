// Package testenv starts the real peers that tests run against: moto_server,
// a real IAM/STS emulator, on a free loopback port.
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Moto is a running moto_server with a fresh, empty account.
type Moto struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:43127.
	Endpoint string
	// AccountID is moto's default account.
	AccountID string
}

// AWSConfig returns an SDK config pointed at this moto with dummy credentials.
func (m *Moto) AWSConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "dummy-secret", ""),
		BaseEndpoint: aws.String(m.Endpoint),
	}
}

// Env returns the environment variables that point the aws CLI and the SDK's
// default chain at this moto.
func (m *Moto) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.Endpoint,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=dummy-secret",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv points this process's default AWS chain at the moto for the
// length of the test (as a user would with AWS_ENDPOINT_URL), with no
// shared config or credentials file that could name another account.
func (m *Moto) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
}

// StartMoto starts a private moto_server for this test on a free loopback
// port and stops it when the test ends. Every call gets a fresh account, so
// tests never see each other's resources. The test is skipped only when
// moto_server is not installed and GITLAB_OIDC_REQUIRE_MOTO is unset; CI sets
// it so that a missing peer fails loudly instead of skipping.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("GITLAB_OIDC_REQUIRE_MOTO") != "" {
			t.Fatalf("moto_server not found on PATH (install moto[server] 5.2.1): %v", err)
		}
		t.Skip("moto_server not installed")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		logPath := filepath.Join(t.TempDir(), "moto.log")
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatalf("create moto log: %v", err)
		}
		cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start moto_server: %v", err)
		}
		endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
		if err := waitReady(endpoint, 20*time.Second); err != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
			logFile.Close()
			log, _ := os.ReadFile(logPath)
			lastErr = fmt.Errorf("moto_server on port %d did not start: %v\n%s", port, err, log)
			continue
		}
		t.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
			logFile.Close()
		})
		return &Moto{Endpoint: endpoint, AccountID: "123456789012"}
	}
	t.Fatalf("%v", lastErr)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(endpoint string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/moto-api/", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
