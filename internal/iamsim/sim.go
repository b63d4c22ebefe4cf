// Package iamsim is an in-memory IAM and STS that behaves like the real
// services (and moto) for the calls gitlab-oidc makes: the same error codes
// (EntityAlreadyExists, NoSuchEntity, LimitExceeded, MalformedPolicyDocument,
// ValidationError), the same ARNs, URL-encoded policy documents from GetRole
// and GetRolePolicy, and URLs stored without their https:// scheme.
//
// It powers `setup --demo` and the tests that moto cannot serve (moto has no
// AddClientIDToOpenIDConnectProvider). Real commands never use it.
package iamsim

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"gitlab-oidc/internal/awsapi"
)

// AccountID is the simulated account, the same one moto uses.
const AccountID = "123456789012"

// Sim is one simulated AWS account. The zero value is not ready; use New.
// It is safe for concurrent use.
type Sim struct {
	// Latency is added to every call (honouring context cancellation) so a
	// demo shows its spinners.
	Latency time.Duration
	// Log, when set, records every call like awsapi.CallLog does for the
	// real clients, so tests assert the same way against both.
	Log *awsapi.CallLog

	mu        sync.Mutex
	providers map[string]*provider // by URL without scheme
	provOrder []string
	roles     map[string]*role // by lower-case name: IAM role names are unique ignoring case
	policies  map[string]*managedPolicy
	nextID    int
}

// New returns an empty account that already knows a few AWS managed
// policies (AdministratorAccess, ReadOnlyAccess, ...), as a real account does.
func New() *Sim {
	s := &Sim{
		providers: map[string]*provider{},
		roles:     map[string]*role{},
		policies:  map[string]*managedPolicy{},
	}
	for _, p := range awsManaged {
		s.policies[p.arn] = &managedPolicy{arn: p.arn, name: p.name, document: p.document}
	}
	return s
}

var (
	_ awsapi.IAM = (*Sim)(nil)
	_ awsapi.STS = (*Sim)(nil)
)

// begin records the call, waits the simulated latency and locks the
// account. The caller must call s.mu.Unlock when done.
func (s *Sim) begin(ctx context.Context, service, op string) error {
	if s.Log != nil {
		s.Log.Record(service, op)
	}
	if s.Latency > 0 {
		t := time.NewTimer(s.Latency)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return &smithy.OperationError{ServiceID: service, OperationName: op, Err: ctx.Err()}
		case <-t.C:
		}
	} else if err := ctx.Err(); err != nil {
		return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
	}
	s.mu.Lock()
	return nil
}

// call runs f as one locked API call: recorded, delayed, cancellable.
func call[T any](s *Sim, ctx context.Context, service, op string, f func() (*T, error)) (*T, error) {
	if err := s.begin(ctx, service, op); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return f()
}

// roleCall is call for operations on one role; a missing role is
// NoSuchEntity, as in IAM.
func roleCall[T any](s *Sim, ctx context.Context, op string, name *string, f func(r *role) (*T, error)) (*T, error) {
	return call(s, ctx, "IAM", op, func() (*T, error) {
		r, err := s.role(op, aws.ToString(name))
		if err != nil {
			return nil, err
		}
		return f(r)
	})
}

// providerCall is call for operations on one OIDC provider.
func providerCall[T any](s *Sim, ctx context.Context, op string, providerARN *string, f func(p *provider) (*T, error)) (*T, error) {
	return call(s, ctx, "IAM", op, func() (*T, error) {
		p, ok := s.providers[providerKey(aws.ToString(providerARN))]
		if !ok {
			return nil, noSuchEntity(op, "OpenIDConnect Provider not found for arn %s", aws.ToString(providerARN))
		}
		return f(p)
	})
}

// id returns a unique, IAM-looking identifier with the given prefix
// (AROA for roles, AIDA for users).
func (s *Sim) id(prefix string) string {
	s.nextID++
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	n := s.nextID
	b := []byte(prefix + "SIM")
	for i := 0; i < 14; i++ {
		b = append(b, alphabet[n%len(alphabet)])
		n /= len(alphabet)
	}
	return string(b)
}

// encodeDocument URL-encodes a policy document the way IAM returns it from
// GetRole, ListRoles, GetRolePolicy and GetPolicyVersion (RFC 3986: spaces
// as %20, a literal plus as %2B).
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func arn(kind, name string) string {
	return "arn:aws:iam::" + AccountID + ":" + kind + "/" + name
}
