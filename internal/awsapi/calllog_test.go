package awsapi_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/testenv"
)

// TestCallLogAgainstMoto records real SDK calls sent to moto.
func TestCallLogAgainstMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	cfg := m.AWSConfig()
	log := &awsapi.CallLog{}
	log.Attach(&cfg)
	ctx := context.Background()
	client := iam.NewFromConfig(cfg)

	_, err := client.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	require.NoError(t, err)
	_, err = client.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("r"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
	})
	require.NoError(t, err)
	_, err = client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	require.NoError(t, err)
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)

	assert.Equal(t, []string{"IAM.ListOpenIDConnectProviders", "IAM.CreateRole", "IAM.GetRole", "STS.GetCallerIdentity"}, log.Calls())
	assert.Equal(t, []string{"IAM.CreateRole"}, log.Writes())
	log.Reset()
	assert.Empty(t, log.Calls())
}

func TestCallLogConcurrentRecord(t *testing.T) {
	log := &awsapi.CallLog{}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log.Record("IAM", "GetRole")
			log.Record("IAM", "PutRolePolicy")
		}()
	}
	wg.Wait()
	assert.Len(t, log.Calls(), 100)
	assert.Len(t, log.Writes(), 50)
}

func TestIsWrite(t *testing.T) {
	tests := map[string]bool{
		"IAM.GetRole":                        false,
		"IAM.ListRoles":                      false,
		"EC2.DescribeInstances":              false,
		"IAM.CreateRole":                     true,
		"IAM.UpdateAssumeRolePolicy":         true,
		"AddClientIDToOpenIDConnectProvider": true,
	}
	for call, want := range tests {
		t.Run(call, func(t *testing.T) { assert.Equal(t, want, awsapi.IsWrite(call)) })
	}
}
