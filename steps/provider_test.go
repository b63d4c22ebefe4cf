package steps

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/iamsim"
	"gitlab-oidc/internal/testenv"
)

// awsBackend is one implementation of IAM the AWS steps are checked
// against: moto (a real emulator over HTTP, through the real SDK client) and
// iamsim (what --demo uses). Every contract test runs on both.
type awsBackend struct {
	name string
	iam  awsapi.IAM
	log  *awsapi.CallLog
	// createPolicy adds a customer managed policy (outside the steps' API).
	createPolicy func(t *testing.T, name, doc string) string
	// reset empties the account between subtests.
	reset func(t *testing.T)
}

// awsBackends starts moto once per test and returns both backends.
func awsBackends(t *testing.T) []*awsBackend {
	t.Helper()
	m := testenv.StartMoto(t)
	cfg := m.AWSConfig()
	motoLog := &awsapi.CallLog{}
	motoLog.Attach(&cfg)
	motoClient := iam.NewFromConfig(cfg)
	moto := &awsBackend{
		name: "moto", iam: motoClient, log: motoLog,
		createPolicy: func(t *testing.T, name, doc string) string {
			out, err := motoClient.CreatePolicy(context.Background(), &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
			require.NoError(t, err)
			return aws.ToString(out.Policy.Arn)
		},
		reset: func(t *testing.T) {
			resp, err := http.Post(m.Endpoint+"/moto-api/reset", "application/json", nil)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
		},
	}
	moto.reset(t)

	sim := &awsBackend{name: "iamsim"}
	sim.reset = func(t *testing.T) {
		s := iamsim.New()
		s.Log = &awsapi.CallLog{}
		sim.iam, sim.log = s, s.Log
		sim.createPolicy = func(t *testing.T, name, doc string) string {
			a, err := s.SeedPolicy(name, doc)
			require.NoError(t, err)
			return a
		}
	}
	sim.reset(t)
	return []*awsBackend{moto, sim}
}

// forEachBackend runs f as a subtest per backend, each in a fresh account
// with an empty call log.
func forEachBackend(t *testing.T, backends []*awsBackend, f func(t *testing.T, b *awsBackend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.reset(t)
			b.log.Reset()
			f(t, b)
		})
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "aws", name))
	require.NoError(t, err)
	return string(data)
}

func actions(changes []Change) []Action {
	out := make([]Action, len(changes))
	for i, c := range changes {
		out[i] = c.Action
	}
	return out
}

const gitlabProviderARN = "arn:aws:iam::123456789012:oidc-provider/gitlab.com"

func gitlabProvider() ProviderSpec {
	return ProviderSpec{URL: "https://gitlab.com", ClientIDs: []string{"https://gitlab.com"}, Tags: map[string]string{"gitlab-project": "acme/site"}}
}

func TestEnsureProviderContract(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		// existing provider (URL, client IDs) before the step, if any
		existingURL   string
		existingIDs   []string
		spec          ProviderSpec
		apply         bool
		wantActions   []Action
		wantExisted   bool
		wantConflict  bool
		wantWrites    []string
		wantClientIDs []string
	}{
		"fresh account creates": {
			spec: gitlabProvider(), apply: true,
			wantActions: []Action{ActionCreate}, wantWrites: []string{"IAM.CreateOpenIDConnectProvider"},
			wantClientIDs: []string{"https://gitlab.com"},
		},
		"preview on fresh account only reads": {
			spec: gitlabProvider(), apply: false,
			wantActions: []Action{ActionCreate}, wantClientIDs: []string{"https://gitlab.com"},
		},
		"existing provider reused": {
			existingURL: "https://gitlab.com", existingIDs: []string{"https://gitlab.com"},
			spec: gitlabProvider(), apply: true,
			wantActions: []Action{ActionKeep}, wantExisted: true, wantClientIDs: []string{"https://gitlab.com"},
		},
		"existing provider given with trailing slash": {
			existingURL: "https://gitlab.com", existingIDs: []string{"https://gitlab.com"},
			spec: ProviderSpec{URL: "https://gitlab.com/", ClientIDs: []string{"https://gitlab.com"}}, apply: true,
			wantActions: []Action{ActionKeep}, wantExisted: true, wantClientIDs: []string{"https://gitlab.com"},
		},
		"other providers are not confused with ours": {
			existingURL: "https://gitlab.com/sub", existingIDs: []string{"x"},
			spec: gitlabProvider(), apply: true,
			wantActions: []Action{ActionCreate}, wantWrites: []string{"IAM.CreateOpenIDConnectProvider"},
			wantClientIDs: []string{"https://gitlab.com"},
		},
		"missing audience without permission conflicts": {
			existingURL: "https://gitlab.com", existingIDs: []string{"sts.amazonaws.com"},
			spec: gitlabProvider(), apply: true,
			wantActions: []Action{ActionUpdate}, wantExisted: true, wantConflict: true,
			wantClientIDs: []string{"sts.amazonaws.com", "https://gitlab.com"},
		},
	}
	backends := awsBackends(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			forEachBackend(t, backends, func(t *testing.T, b *awsBackend) {
				if tc.existingURL != "" {
					_, err := b.iam.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(tc.existingURL), ClientIDList: tc.existingIDs})
					require.NoError(t, err)
					b.log.Reset()
				}
				res, changes, err := EnsureProvider(ctx, b.iam, tc.spec, Decisions{}, tc.apply)
				var conflict *ConflictError
				if tc.wantConflict {
					require.ErrorAs(t, err, &conflict)
					assert.Contains(t, conflict.Diff, "+   https://gitlab.com")
					assert.Contains(t, conflict.Hint, "--yes")
				} else {
					require.NoError(t, err)
				}
				assert.Equal(t, tc.wantActions, actions(changes))
				assert.Equal(t, tc.wantExisted, res.Existed)
				assert.Equal(t, tc.wantClientIDs, res.ClientIDs)
				assert.Equal(t, tc.wantWrites, b.log.Writes())
				for _, c := range changes {
					assert.Equal(t, tc.apply && !tc.wantConflict && c.IsWrite(), c.Applied, "Applied of %+v", c)
				}
				if tc.apply && !tc.wantConflict {
					assert.Equal(t, gitlabProviderARN, res.ARN)
				}
			})
		})
	}
}

func TestEnsureProviderCreatesWithTags(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, awsBackends(t), func(t *testing.T, b *awsBackend) {
		res, _, err := EnsureProvider(ctx, b.iam, gitlabProvider(), Decisions{}, true)
		require.NoError(t, err)
		out, err := b.iam.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(res.ARN)})
		require.NoError(t, err)
		tags := map[string]string{}
		for _, tg := range out.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		assert.Equal(t, map[string]string{"managed-by": "gitlab-oidc", "gitlab-project": "acme/site"}, tags)

		b.log.Reset()
		_, changes, err := EnsureProvider(ctx, b.iam, gitlabProvider(), Decisions{}, true)
		require.NoError(t, err)
		assert.Equal(t, []Action{ActionKeep}, actions(changes), "second run keeps")
		assert.Empty(t, b.log.Writes(), "second run writes nothing")
	})
}

// TestEnsureProviderAddsClientID runs only against iamsim: moto answers
// AddClientIDToOpenIDConnectProvider with 500 NotImplemented.
func TestEnsureProviderAddsClientID(t *testing.T) {
	ctx := context.Background()
	s := iamsim.New()
	s.Log = &awsapi.CallLog{}
	_, err := s.SeedProvider("https://gitlab.com", "sts.amazonaws.com")
	require.NoError(t, err)

	res, changes, err := EnsureProvider(ctx, s, gitlabProvider(), Decisions{AddClientID: true}, false)
	require.NoError(t, err)
	assert.Equal(t, []Action{ActionUpdate}, actions(changes))
	assert.Empty(t, s.Log.Writes(), "a preview with permission still only reads")
	assert.Equal(t, []string{"sts.amazonaws.com", "https://gitlab.com"}, res.ClientIDs)

	_, changes, err = EnsureProvider(ctx, s, gitlabProvider(), Decisions{AddClientID: true}, true)
	require.NoError(t, err)
	require.Len(t, changes, 1)
	assert.True(t, changes[0].Applied)
	assert.Equal(t, []string{"IAM.AddClientIDToOpenIDConnectProvider"}, s.Log.Writes())

	out, err := s.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(gitlabProviderARN)})
	require.NoError(t, err)
	assert.Equal(t, []string{"sts.amazonaws.com", "https://gitlab.com"}, out.ClientIDList)
}

func TestEnsureProviderInvalidSpec(t *testing.T) {
	tests := map[string]ProviderSpec{
		"http issuer":  {URL: "http://gitlab.com", ClientIDs: []string{"a"}},
		"no audience":  {URL: "https://gitlab.com"},
		"not a URL":    {URL: "gitlab", ClientIDs: []string{"a"}},
		"query in URL": {URL: "https://gitlab.com/?x=1", ClientIDs: []string{"a"}},
	}
	for name, spec := range tests {
		t.Run(name, func(t *testing.T) {
			s := iamsim.New()
			s.Log = &awsapi.CallLog{}
			_, _, err := EnsureProvider(context.Background(), s, spec, Decisions{AddClientID: true}, true)
			require.Error(t, err)
			assert.Empty(t, s.Log.Calls(), "invalid specs are refused before any AWS call")
		})
	}
}

func TestEnsureProviderExplainsAWSErrors(t *testing.T) {
	s := iamsim.New()
	for i := 0; i < 100; i++ {
		_, err := s.SeedProvider("https://gitlab" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".example.com")
		require.NoError(t, err)
	}
	_, _, err := EnsureProvider(context.Background(), s, gitlabProvider(), Decisions{}, true)
	var e *awsapi.Error
	require.True(t, errors.As(err, &e), "got %v", err)
	assert.Equal(t, "LimitExceeded", e.Code)
	assert.Contains(t, e.Why, "100")
}

// accessDenied is the error the SDK returns when IAM denies op.
func accessDenied(op string) error {
	return &smithy.OperationError{ServiceID: "IAM", OperationName: op, Err: &smithy.GenericAPIError{
		Code:    "AccessDenied",
		Message: "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:" + op + " on resource: arn:aws:iam::123456789012:role/r",
	}}
}
