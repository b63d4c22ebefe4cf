// Package demo wires `--demo`: a simulated AWS account (internal/iamsim) and
// a simulated GitLab project (internal/gitlabfake served in-process), behind
// the same interfaces as the real clients. Nothing leaves the machine, and
// the real commands never use it.
package demo

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/iamsim"
	"gitlab-oidc/steps"
)

// Latency is added to every simulated call so the wizard's spinners show.
const Latency = 350 * time.Millisecond

// sampleCI is the demo checkout's pipeline before setup adds the include.
const sampleCI = `# acme/payments pipeline (demo checkout)
stages:
  - test
  - deploy

unit-tests:
  stage: test
  image: golang:1.26
  script:
    - go test ./...
`

// Env returns a setup environment against the simulation. The snippet is
// written to a fresh demo checkout under the system temp directory, never to
// the current directory.
func Env(_ string) (steps.Env, error) {
	return EnvWithLatency(Latency)
}

// EnvWithLatency is Env with a chosen per-call latency (tests use 0).
func EnvWithLatency(latency time.Duration) (steps.Env, error) {
	sim := iamsim.New()
	sim.Latency = latency
	fake := gitlabfake.DemoSeed()
	gl, err := gitlabapi.New(gitlabfake.DemoBaseURL, gitlabfake.DemoToken, &http.Client{Transport: fake.Transport()})
	if err != nil {
		return steps.Env{}, fmt.Errorf("demo GitLab: %w", err)
	}
	dir, err := os.MkdirTemp("", "gitlab-oidc-demo-")
	if err != nil {
		return steps.Env{}, fmt.Errorf("demo checkout: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), []byte(sampleCI), 0o644); err != nil {
		return steps.Env{}, fmt.Errorf("demo checkout: %w", err)
	}
	return steps.Env{
		IAM:               sim,
		STS:               sim,
		GitLab:            slowGitLab{Client: gl, latency: latency},
		GitLabTokenSource: "demo token",
		Region:            "eu-central-1",
		Profile:           "demo",
		Project:           gitlabfake.DemoProject,
		ProjectSource:     "demo checkout " + dir,
		Probe:             probe(latency),
		WorkDir:           dir,
		Simulated:         true,
	}, nil
}

// probe simulates the issuer probe of gitlab.com (public CA, quick answers).
func probe(latency time.Duration) steps.IssuerProbe {
	return func(ctx context.Context, issuerURL string) steps.IssuerStatus {
		select {
		case <-ctx.Done():
		case <-time.After(latency):
		}
		return steps.IssuerStatus{
			URL:             strings.TrimSuffix(issuerURL, "/"),
			Source:          "discovery",
			DiscoveryMillis: 182,
			JWKSMillis:      94,
			PubliclyTrusted: true,
			OK:              true,
		}
	}
}

// slowGitLab adds the demo latency to the write calls, so Apply shows them.
type slowGitLab struct {
	gitlabapi.Client
	latency time.Duration
}

func (s slowGitLab) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.latency):
		return nil
	}
}

func (s slowGitLab) CreateVariable(ctx context.Context, t gitlabapi.VariableTarget, v gitlabapi.Variable) (gitlabapi.Variable, error) {
	if err := s.wait(ctx); err != nil {
		return gitlabapi.Variable{}, err
	}
	return s.Client.CreateVariable(ctx, t, v)
}

func (s slowGitLab) UpdateVariable(ctx context.Context, t gitlabapi.VariableTarget, v gitlabapi.Variable) (gitlabapi.Variable, error) {
	if err := s.wait(ctx); err != nil {
		return gitlabapi.Variable{}, err
	}
	return s.Client.UpdateVariable(ctx, t, v)
}
