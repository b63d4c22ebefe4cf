package awsapi

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// Retry bounds. Setup is interactive, so a throttled or flaky call should be
// retried a few times but never leave a person staring at a spinner for
// minutes: five attempts with at most a few seconds between them.
const (
	MaxAttempts = 5
	MaxBackoff  = 3 * time.Second
)

// NewRetryer returns the SDK's standard retryer with gitlab-oidc's bounds. The
// standard retryer only retries throttling, transient 5xx and connection
// errors; AccessDenied and validation errors fail at once (see the tests),
// because retrying them cannot change the answer.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
	})
}

// LoadConfig loads the AWS configuration through the SDK's default chain
// (environment, shared config and credentials files, SSO, IMDS), optionally
// for a named profile and region. AWS_ENDPOINT_URL (and the per-service
// AWS_ENDPOINT_URL_IAM / _STS) keep working because the SDK reads them itself;
// that is how tests point the real client at moto.
func LoadConfig(ctx context.Context, profile, region string) (aws.Config, error) {
	// The SDK's own log lines (e.g. "falling back to IMDSv1" off EC2) would
	// land between our progress lines; failures reach the user as errors.
	opts := []func(*config.LoadOptions) error{config.WithRetryer(NewRetryer), config.WithLogger(logging.Nop{})}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if profile != "" {
			return aws.Config{}, &Error{
				Op:   "LoadConfig",
				What: fmt.Sprintf("load AWS configuration for profile %q", profile),
				Why:  err.Error(),
				Fix:  "check that the profile exists in ~/.aws/config (aws configure list-profiles) or unset --profile / AWS_PROFILE",
				Err:  err,
			}
		}
		return aws.Config{}, &Error{
			Op:   "LoadConfig",
			What: "load AWS configuration",
			Why:  err.Error(),
			Fix:  "check ~/.aws/config and the AWS_* environment variables",
			Err:  err,
		}
	}
	if cfg.Region == "" {
		// IAM is global, but the SDK still needs a region to sign and to
		// resolve the endpoint; us-east-1 is where IAM lives.
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}
