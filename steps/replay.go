package steps

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/gitlabapi"
)

// readLog remembers the answers of the reads a check phase made, so that
// applying the checked plan right after does not ask AWS and GitLab the
// same questions again: each answer is handed out once, in order, and a
// read the check did not make goes to the service. Within one apply no
// step reads what an earlier step wrote (the provider, the role and the
// variable are different resources), so the answers are still current up
// to changes made by someone else in those seconds, which the writes
// themselves then report.
type readLog struct {
	mu      sync.Mutex
	answers map[string][]any
}

func newReadLog() *readLog { return &readLog{answers: map[string][]any{}} }

func (l *readLog) put(key string, v any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers[key] = append(l.answers[key], v)
}

func (l *readLog) take(key string) (any, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.answers[key]
	if len(q) == 0 {
		return nil, false
	}
	l.answers[key] = q[1:]
	return q[0], true
}

// answer is one remembered read.
type answer[T any] struct {
	out T
	err error
}

// remembered records (replay false) or replays (replay true) one read.
func remembered[T any](l *readLog, replay bool, key string, read func() (T, error)) (T, error) {
	if replay {
		if v, ok := l.take(key); ok {
			a := v.(answer[T])
			return a.out, a.err
		}
		return read()
	}
	out, err := read()
	if err == nil || !isContextErr(err) {
		l.put(key, answer[T]{out, err})
	}
	return out, err
}

// isContextErr reports a read cut short by the caller: not an answer.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// replayIAM records or replays the IAM reads the setup steps make.
type replayIAM struct {
	awsapi.IAM
	log    *readLog
	replay bool
}

func (c replayIAM) ListOpenIDConnectProviders(ctx context.Context, in *iam.ListOpenIDConnectProvidersInput, o ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error) {
	return remembered(c.log, c.replay, "ListOpenIDConnectProviders", func() (*iam.ListOpenIDConnectProvidersOutput, error) {
		return c.IAM.ListOpenIDConnectProviders(ctx, in, o...)
	})
}

func (c replayIAM) GetOpenIDConnectProvider(ctx context.Context, in *iam.GetOpenIDConnectProviderInput, o ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error) {
	return remembered(c.log, c.replay, "GetOpenIDConnectProvider "+aws.ToString(in.OpenIDConnectProviderArn), func() (*iam.GetOpenIDConnectProviderOutput, error) {
		return c.IAM.GetOpenIDConnectProvider(ctx, in, o...)
	})
}

func (c replayIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return remembered(c.log, c.replay, "GetRole "+aws.ToString(in.RoleName), func() (*iam.GetRoleOutput, error) {
		return c.IAM.GetRole(ctx, in, o...)
	})
}

func (c replayIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	return remembered(c.log, c.replay, "ListAttachedRolePolicies "+aws.ToString(in.RoleName)+" "+aws.ToString(in.Marker), func() (*iam.ListAttachedRolePoliciesOutput, error) {
		return c.IAM.ListAttachedRolePolicies(ctx, in, o...)
	})
}

func (c replayIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	return remembered(c.log, c.replay, "ListRolePolicies "+aws.ToString(in.RoleName)+" "+aws.ToString(in.Marker), func() (*iam.ListRolePoliciesOutput, error) {
		return c.IAM.ListRolePolicies(ctx, in, o...)
	})
}

func (c replayIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, o ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	return remembered(c.log, c.replay, "GetRolePolicy "+aws.ToString(in.RoleName)+" "+aws.ToString(in.PolicyName), func() (*iam.GetRolePolicyOutput, error) {
		return c.IAM.GetRolePolicy(ctx, in, o...)
	})
}

// replayGitLab records or replays the variable reads.
type replayGitLab struct {
	gitlabapi.Client
	log    *readLog
	replay bool
}

func (c replayGitLab) Variable(ctx context.Context, target gitlabapi.VariableTarget, key, scope string) (*gitlabapi.Variable, error) {
	return remembered(c.log, c.replay, "Variable "+target.Kind+" "+target.ID+" "+key+" "+scope, func() (*gitlabapi.Variable, error) {
		return c.Client.Variable(ctx, target, key, scope)
	})
}

// recordingAndReplaying returns two runners over the same clients: the
// first records its reads, the second replays them once.
func (r *Runner) recordingAndReplaying() (*Runner, *Runner) {
	log := newReadLog()
	rec, rep := *r, *r
	rec.Env.IAM = replayIAM{IAM: r.Env.IAM, log: log}
	rep.Env.IAM = replayIAM{IAM: r.Env.IAM, log: log, replay: true}
	if r.Env.GitLab != nil {
		rec.Env.GitLab = replayGitLab{Client: r.Env.GitLab, log: log}
		rep.Env.GitLab = replayGitLab{Client: r.Env.GitLab, log: log, replay: true}
	}
	return &rec, &rep
}
