package testenv

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestStartMotoAnswersSTS(t *testing.T) {
	m := StartMoto(t)
	out, err := sts.NewFromConfig(m.AWSConfig()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity against moto: %v", err)
	}
	if got := *out.Account; got != m.AccountID {
		t.Fatalf("account = %q, want %q", got, m.AccountID)
	}
}
