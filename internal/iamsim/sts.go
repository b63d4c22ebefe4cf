package iamsim

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CallerARN is the identity the simulated credentials belong to.
const CallerARN = "arn:aws:iam::" + AccountID + ":user/demo"

// GetCallerIdentity reports the simulated caller.
func (s *Sim) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if err := s.begin(ctx, "STS", "GetCallerIdentity"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return &sts.GetCallerIdentityOutput{
		Account: aws.String(AccountID),
		Arn:     aws.String(CallerARN),
		UserId:  aws.String("AIDASIMDEMOUSER0000"),
	}, nil
}
