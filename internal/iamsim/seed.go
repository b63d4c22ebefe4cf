package iamsim

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// SeedRole is a role that exists before the demo (or test) starts.
type SeedRole struct {
	Name        string
	TrustPolicy string // JSON
	PolicyARNs  []string
	// InlinePolicies maps inline policy names to JSON documents.
	InlinePolicies map[string]string
}

// Seed returns a demo account that looks lived-in: an organization access
// role that has nothing to do with GitLab, the given roles, and, when
// existingProvider is true, an OIDC provider for issuerURL whose only
// audience is the issuer URL itself (GitLab's usual aud).
func Seed(existingProvider bool, issuerURL string, roles ...SeedRole) (*Sim, error) {
	s := New()
	if existingProvider {
		if _, err := s.SeedProvider(issuerURL, issuerURL); err != nil {
			return nil, err
		}
	}
	org := SeedRole{
		Name:        "OrganizationAccountAccessRole",
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}]}`,
		PolicyARNs:  []string{"arn:aws:iam::aws:policy/AdministratorAccess"},
	}
	for _, r := range append([]SeedRole{org}, roles...) {
		if _, err := s.SeedRole(r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// The Seed* methods go through the same validation as the API but are not
// recorded in Log and do not wait Latency. Call them before sharing the Sim.

// SeedProvider registers an OIDC provider (issuerURL with https://) and
// returns its ARN.
func (s *Sim) SeedProvider(issuerURL string, clientIDs ...string) (string, error) {
	var out *iam.CreateOpenIDConnectProviderOutput
	err := s.quietly(func(ctx context.Context) (err error) {
		out, err = s.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
			Url: aws.String(issuerURL), ClientIDList: clientIDs,
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}},
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("seed provider %s: %w", issuerURL, err)
	}
	return aws.ToString(out.OpenIDConnectProviderArn), nil
}

// SeedPolicy adds a customer managed policy to the account and returns its
// ARN, so tests can attach it (the API subset has no CreatePolicy).
func (s *Sim) SeedPolicy(name, document string) (string, error) {
	if err := checkName("CreatePolicy", "policyName", name, 128); err != nil {
		return "", err
	}
	if err := checkDocument("CreatePolicy", document); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := arn("policy", name)
	if _, ok := s.policies[a]; ok {
		return "", alreadyExists("CreatePolicy", "A policy called %s already exists.", name)
	}
	s.policies[a] = &managedPolicy{arn: a, name: policyName(a), document: document}
	return a, nil
}

// SeedRole creates a role with its managed and inline policies and returns
// its ARN.
func (s *Sim) SeedRole(r SeedRole) (string, error) {
	var roleARN string
	err := s.quietly(func(ctx context.Context) error {
		out, err := s.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.Name), AssumeRolePolicyDocument: aws.String(r.TrustPolicy)})
		if err != nil {
			return err
		}
		roleARN = aws.ToString(out.Role.Arn)
		for _, p := range r.PolicyARNs {
			if _, err := s.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(r.Name), PolicyArn: aws.String(p)}); err != nil {
				return err
			}
		}
		for name, doc := range r.InlinePolicies {
			if _, err := s.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(r.Name), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("seed role %s: %w", r.Name, err)
	}
	return roleARN, nil
}

// quietly runs f with logging and latency switched off.
func (s *Sim) quietly(f func(context.Context) error) error {
	log, latency := s.Log, s.Latency
	s.Log, s.Latency = nil, 0
	defer func() { s.Log, s.Latency = log, latency }()
	return f(context.Background())
}
