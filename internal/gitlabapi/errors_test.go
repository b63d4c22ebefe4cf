package gitlabapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/gitlabapi"
)

func TestErrorHints(t *testing.T) {
	ctx := context.Background()
	write := gitlabapi.Variable{Key: "AWS_ROLE_ARN", Value: roleARN}
	tests := map[string]struct {
		token    string
		call     func(c gitlabapi.Client) error
		status   int
		wantWhy  string
		wantFix  string
		requests int
	}{
		"unknown token": {
			"glpat-revoked", func(c gitlabapi.Client) error { _, err := c.CurrentUser(ctx); return err },
			401, "invalid, expired or revoked", "GITLAB_TOKEN", 1,
		},
		"Developer writes a project variable": {
			developerToken, func(c gitlabapi.Client) error { _, err := c.CreateVariable(ctx, projectTarget, write); return err },
			403, "need the Maintainer role", "api scope", 1,
		},
		"Maintainer writes a group variable": {
			maintainerToken, func(c gitlabapi.Client) error { _, err := c.CreateVariable(ctx, groupTarget, write); return err },
			403, "need the Owner role", "--variable-scope project", 1,
		},
		"private project of others": {
			strangerToken, func(c gitlabapi.Client) error { _, err := c.Project(ctx, "acme/team/payments"); return err },
			404, "GitLab answers 404 for private projects", "check the project path", 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := world(t)
			err := tc.call(client(t, srv, tc.token))
			var ge *gitlabapi.Error
			require.True(t, errors.As(err, &ge), "want *gitlabapi.Error, got %v", err)
			assert.Equal(t, tc.status, ge.Status)
			assert.Contains(t, ge.Why, tc.wantWhy)
			assert.Contains(t, ge.Fix, tc.wantFix)
			assert.NotContains(t, err.Error(), tc.token, "a token never appears in messages")
			assert.Len(t, srv.Requests(), tc.requests, "4xx other than 429 is never retried")
			assert.Empty(t, srv.Variables(42))
		})
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		pattern    string
		faults     []int // statuses queued with FailNext
		retryAfter time.Duration
		call       func(c gitlabapi.Client) error
		wantStatus int // 0: success
		requests   int
		minElapsed time.Duration
	}{
		"429 then success honours Retry-After": {
			faults: []int{429}, retryAfter: time.Second,
			call:     func(c gitlabapi.Client) error { _, err := c.Project(ctx, "42"); return err },
			requests: 2, minElapsed: time.Second,
		},
		"503 twice then success": {
			faults:   []int{503, 502},
			call:     func(c gitlabapi.Client) error { _, err := c.Project(ctx, "42"); return err },
			requests: 3,
		},
		"500 forever gives up after 3 retries": {
			faults:     []int{500, 500, 500, 500, 500},
			call:       func(c gitlabapi.Client) error { _, err := c.Project(ctx, "42"); return err },
			wantStatus: 500, requests: 4,
		},
		"a write is never retried": {
			pattern: "POST /projects/*/variables", faults: []int{503},
			call: func(c gitlabapi.Client) error {
				_, err := c.CreateVariable(ctx, projectTarget, gitlabapi.Variable{Key: "K", Value: "v"})
				return err
			},
			wantStatus: 503, requests: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := world(t)
			if tc.pattern == "" {
				tc.pattern = "/projects/*"
			}
			for _, s := range tc.faults {
				srv.FailNext(tc.pattern, s, tc.retryAfter)
			}
			began := time.Now()
			err := tc.call(client(t, srv, maintainerToken))
			assert.GreaterOrEqual(t, time.Since(began), tc.minElapsed)
			assert.Len(t, srv.Requests(), tc.requests)
			if tc.wantStatus == 0 {
				require.NoError(t, err)
				return
			}
			assert.Equal(t, tc.wantStatus, gitlabapi.StatusOf(err))
		})
	}
}

func TestLongRetryAfterIsReportedNotWaited(t *testing.T) {
	srv := world(t)
	srv.FailNext("/user", 429, 90*time.Second)
	began := time.Now()
	_, err := client(t, srv, maintainerToken).CurrentUser(context.Background())
	assert.Less(t, time.Since(began), 5*time.Second)
	var ge *gitlabapi.Error
	require.True(t, errors.As(err, &ge))
	assert.Equal(t, 429, ge.Status)
	assert.Equal(t, 90*time.Second, ge.RetryAfter)
	assert.Contains(t, ge.Fix, "wait 1m30s")
	assert.Len(t, srv.Requests(), 1)
}

func TestCallLogCountsRequests(t *testing.T) {
	srv := world(t)
	log := &gitlabapi.CallLog{}
	c, err := gitlabapi.New(srv.URL+"/api/v4", maintainerToken, &http.Client{Transport: log})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.Project(ctx, "acme/team/payments")
	require.NoError(t, err)
	_, err = c.CreateVariable(ctx, projectTarget, gitlabapi.Variable{Key: "K", Value: "v"})
	require.NoError(t, err)
	assert.Equal(t, []gitlabapi.Call{
		{Method: "GET", Path: "/api/v4/projects/acme%2Fteam%2Fpayments", Status: 200},
		{Method: "POST", Path: "/api/v4/projects/acme%2Fteam%2Fpayments/variables", Status: 201},
	}, log.Calls())
	assert.Equal(t, 1, log.Writes())
	assert.Equal(t, 1, log.Count("GET"))
}
