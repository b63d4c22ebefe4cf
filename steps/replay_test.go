package steps

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/iamsim"
)

// The apply phase gets each answer of the check phase once, errors included;
// further reads and reads the check did not make go to the service.
func TestReplayServesEachCheckedReadOnce(t *testing.T) {
	sim := iamsim.New()
	sim.Log = &awsapi.CallLog{}
	r := &Runner{Env: Env{IAM: sim}}
	rec, rep := r.recordingAndReplaying()
	ctx := context.Background()
	in := &iam.GetRoleInput{RoleName: aws.String("missing")}

	_, recErr := rec.Env.IAM.GetRole(ctx, in)
	if !isCode(recErr, "NoSuchEntity") {
		t.Fatalf("check read = %v, want NoSuchEntity", recErr)
	}
	_, repErr := rep.Env.IAM.GetRole(ctx, in)
	if repErr != recErr {
		t.Fatalf("replayed answer = %v, want the recorded %v", repErr, recErr)
	}
	if n := len(sim.Log.Calls()); n != 1 {
		t.Fatalf("the replayed read reached IAM: %d calls", n)
	}
	_, _ = rep.Env.IAM.GetRole(ctx, in)
	_, _ = rep.Env.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("other")})
	if n := len(sim.Log.Calls()); n != 3 {
		t.Fatalf("a second read and an unrecorded read must go to IAM: %d calls, want 3", n)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = rec.Env.IAM.GetRole(cancelled, &iam.GetRoleInput{RoleName: aws.String("x")})
	if _, ok := rec.Env.IAM.(replayIAM).log.take("GetRole x"); ok {
		t.Fatal("a read cut short by cancellation was recorded as an answer")
	}
}
