package awsapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// isolateEnv points the SDK's default chain at testdata only, so the tests
// never read the developer's ~/.aws or environment.
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_IAM", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	abs, err := filepath.Abs("testdata/config")
	require.NoError(t, err)
	t.Setenv("AWS_CONFIG_FILE", abs)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLoadConfig(t *testing.T) {
	tests := map[string]struct {
		profile, region, endpointEnv string
		wantRegion, wantEndpoint     string
		wantErr                      bool
	}{
		"default profile region":       {wantRegion: "us-west-2"},
		"named profile":                {profile: "demo", wantRegion: "eu-west-1"},
		"explicit region wins":         {profile: "demo", region: "ap-south-1", wantRegion: "ap-south-1"},
		"AWS_ENDPOINT_URL is honoured": {endpointEnv: "http://127.0.0.1:5999", wantRegion: "us-west-2", wantEndpoint: "http://127.0.0.1:5999"},
		"unknown profile is an *Error": {profile: "nope", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			isolateEnv(t)
			if tc.endpointEnv != "" {
				t.Setenv("AWS_ENDPOINT_URL", tc.endpointEnv)
			}
			cfg, err := LoadConfig(context.Background(), tc.profile, tc.region)
			if tc.wantErr {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Contains(t, e.What, tc.profile)
				assert.NotEmpty(t, e.Fix)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantRegion, cfg.Region)
			assert.Equal(t, tc.wantEndpoint, aws.ToString(cfg.BaseEndpoint))
			require.NotNil(t, cfg.Retryer)
			assert.Equal(t, MaxAttempts, cfg.Retryer().MaxAttempts())
		})
	}
}

func TestRetryerNeverRetriesPermanentErrors(t *testing.T) {
	r := NewRetryer()
	tests := map[string]struct {
		err   error
		retry bool
	}{
		"AccessDenied":    {err: &smithy.GenericAPIError{Code: "AccessDenied"}, retry: false},
		"ValidationError": {err: &smithy.GenericAPIError{Code: "ValidationError"}, retry: false},
		"NoSuchEntity":    {err: &smithy.GenericAPIError{Code: "NoSuchEntity"}, retry: false},
		"Throttling":      {err: &smithy.GenericAPIError{Code: "Throttling"}, retry: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.retry, r.IsErrorRetryable(tc.err))
		})
	}
	assert.Equal(t, MaxAttempts, r.MaxAttempts())
}

// TestPermanentErrorsAreSentOnce sends real requests through the SDK to a
// server that answers with IAM's XML errors and counts how often each
// request arrives: a permanent error must arrive exactly once.
func TestPermanentErrorsAreSentOnce(t *testing.T) {
	tests := map[string]struct {
		fixture  string
		status   int
		wantCode string
		wantPerm string
	}{
		"access denied": {fixture: "testdata/access-denied.xml", status: 403, wantCode: "AccessDenied", wantPerm: "iam:CreateRole"},
		"validation":    {fixture: "testdata/validation.xml", status: 400, wantCode: "ValidationError"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			isolateEnv(t)
			body, err := os.ReadFile(tc.fixture)
			require.NoError(t, err)
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(tc.status)
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			t.Setenv("AWS_ENDPOINT_URL", srv.URL)
			cfg, err := LoadConfig(context.Background(), "demo", "")
			require.NoError(t, err)
			log := &CallLog{}
			log.Attach(&cfg)

			_, err = iam.NewFromConfig(cfg).CreateRole(context.Background(), &iam.CreateRoleInput{
				RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String("{}"),
			})
			require.Error(t, err)
			assert.Equal(t, int32(1), hits.Load(), "a permanent error must not be retried")
			assert.Equal(t, []string{"IAM.CreateRole"}, log.Calls())

			explained := Explain(err, `create role "deploy"`)
			var e *Error
			require.ErrorAs(t, explained, &e)
			assert.Equal(t, tc.wantCode, e.Code)
			assert.Equal(t, tc.wantPerm, e.Permission)
			assert.Equal(t, "IAM.CreateRole", e.Op)
			var apiErr smithy.APIError
			assert.True(t, errors.As(explained, &apiErr), "the SDK error stays reachable")
		})
	}
}
