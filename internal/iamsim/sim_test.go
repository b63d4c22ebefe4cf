package iamsim_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/iamsim"
)

// The cases here are where moto is laxer than IAM (it accepts bad names and
// http URLs) or lacks the call (AddClientIDToOpenIDConnectProvider), so they
// are checked against the simulator only, following IAM's documentation.

func TestValidation(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		call func(s *iamsim.Sim) error
		want string
	}{
		"provider URL without https": {
			call: func(s *iamsim.Sim) error {
				_, err := s.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://gitlab.com")})
				return err
			},
			want: "InvalidInput",
		},
		"thumbprint not 40 hex": {
			call: func(s *iamsim.Sim) error {
				_, err := s.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://gitlab.com"), ThumbprintList: []string{"abc"}})
				return err
			},
			want: "ValidationError",
		},
		"six thumbprints": {
			call: func(s *iamsim.Sim) error {
				tp := "0123456789abcdef0123456789abcdef01234567"
				_, err := s.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://gitlab.com"), ThumbprintList: []string{tp, tp, tp, tp, tp, tp}})
				return err
			},
			want: "LimitExceeded",
		},
		"role name with a space": {
			call: func(s *iamsim.Sim) error {
				_, err := s.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad name"), AssumeRolePolicyDocument: aws.String(trust)})
				return err
			},
			want: "ValidationError",
		},
		"role name case-insensitively taken": {
			call: func(s *iamsim.Sim) error {
				if _, err := s.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Deploy"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
					return err
				}
				_, err := s.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trust)})
				return err
			},
			want: "EntityAlreadyExists",
		},
		"malformed trust on create": {
			call: func(s *iamsim.Sim) error {
				_, err := s.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Statement":"x"}`)})
				return err
			},
			want: "MalformedPolicyDocument",
		},
		"session too long": {
			call: func(s *iamsim.Sim) error {
				_, err := s.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(50000)})
				return err
			},
			want: "ValidationError",
		},
		"101st provider": {
			call: func(s *iamsim.Sim) error {
				for i := 0; i <= 100; i++ {
					_, err := s.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(fmt.Sprintf("https://gitlab%d.example.com", i))})
					if err != nil {
						return err
					}
				}
				return nil
			},
			want: "LimitExceeded",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, code(tc.call(iamsim.New())))
		})
	}
}

func TestAddClientID(t *testing.T) {
	ctx := context.Background()
	s := iamsim.New()
	provARN, err := s.SeedProvider("https://gitlab.example.com/gitlab", "https://gitlab.example.com/gitlab")
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::123456789012:oidc-provider/gitlab.example.com/gitlab", provARN)

	for _, id := range []string{"sts.amazonaws.com", "sts.amazonaws.com"} {
		_, err = s.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provARN), ClientID: aws.String(id)})
		require.NoError(t, err, "adding an existing client ID succeeds, as in IAM")
	}
	got, err := s.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provARN)})
	require.NoError(t, err)
	assert.Equal(t, []string{"https://gitlab.example.com/gitlab", "sts.amazonaws.com"}, got.ClientIDList)

	_, err = s.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provARN + "x"), ClientID: aws.String("a")})
	assert.Equal(t, "NoSuchEntity", code(err))
}

func TestListRolesPaginates(t *testing.T) {
	s := iamsim.New()
	for i := 0; i < 5; i++ {
		_, err := s.SeedRole(iamsim.SeedRole{Name: fmt.Sprintf("role-%d", i), TrustPolicy: trust})
		require.NoError(t, err)
	}
	var names []string
	in := &iam.ListRolesInput{MaxItems: aws.Int32(2)}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		out, err := s.ListRoles(context.Background(), in)
		require.NoError(t, err)
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
		if !out.IsTruncated {
			break
		}
		in.Marker = out.Marker
	}
	assert.Equal(t, []string{"role-0", "role-1", "role-2", "role-3", "role-4"}, names)
}

func TestLatencyAndCancellation(t *testing.T) {
	s := iamsim.New()
	s.Latency = 50 * time.Millisecond
	start := time.Now()
	_, err := s.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	s.Latency = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = s.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("x")})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestCallLogAndConcurrency(t *testing.T) {
	s := iamsim.New()
	s.Log = &awsapi.CallLog{}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("r%d", i)), AssumeRolePolicyDocument: aws.String(trust)})
			_, _ = s.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(fmt.Sprintf("r%d", i))})
		}()
	}
	wg.Wait()
	assert.Len(t, s.Log.Calls(), 40)
	assert.Len(t, s.Log.Writes(), 20)
	out, err := s.ListRoles(context.Background(), &iam.ListRolesInput{})
	require.NoError(t, err)
	assert.Len(t, out.Roles, 20)
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		existingProvider bool
		wantProviders    int
	}{
		"fresh account":     {existingProvider: false, wantProviders: 0},
		"existing provider": {existingProvider: true, wantProviders: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := iamsim.Seed(tc.existingProvider, "https://gitlab.com", iamsim.SeedRole{
				Name: "legacy-deploy", TrustPolicy: trust,
				InlinePolicies: map[string]string{"s3": inline},
			})
			require.NoError(t, err)
			s.Log = &awsapi.CallLog{}
			provs, err := s.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
			require.NoError(t, err)
			assert.Len(t, provs.OpenIDConnectProviderList, tc.wantProviders)
			org, err := s.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("OrganizationAccountAccessRole")})
			require.NoError(t, err)
			require.Len(t, org.AttachedPolicies, 1)
			assert.Equal(t, "AdministratorAccess", aws.ToString(org.AttachedPolicies[0].PolicyName))
			pol, err := s.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("legacy-deploy")})
			require.NoError(t, err)
			assert.Equal(t, []string{"s3"}, pol.PolicyNames)
			assert.Len(t, s.Log.Calls(), 3, "seeding is not logged, the reads are")
		})
	}
}

func TestManagedPolicyDocument(t *testing.T) {
	ctx := context.Background()
	s := iamsim.New()
	a, err := s.SeedPolicy("deploy-extra", inline)
	require.NoError(t, err)
	for _, arn := range []string{a, "arn:aws:iam::aws:policy/AdministratorAccess"} {
		p, err := s.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		require.NoError(t, err)
		v, err := s.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
		require.NoError(t, err)
		assert.Contains(t, aws.ToString(v.PolicyVersion.Document), "%22Statement%22")
	}
}
