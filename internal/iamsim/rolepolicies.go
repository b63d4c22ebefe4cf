package iamsim

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

var errURLEncoded = errors.New("the document is URL-encoded; send plain JSON")

type managedPolicy struct {
	arn, name, document string
	attachments         int32
}

// AttachRolePolicy attaches a managed policy, which must exist (AWS managed
// policies from the built-in catalogue, or ones added with SeedPolicy).
// Attaching twice is a no-op, as in IAM.
func (s *Sim) AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	const op = "AttachRolePolicy"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.AttachRolePolicyOutput, error) {
		p, ok := s.policies[aws.ToString(in.PolicyArn)]
		if !ok {
			return nil, noSuchEntity(op, "Policy %s does not exist or is not attachable.", aws.ToString(in.PolicyArn))
		}
		if !slices.Contains(r.attached, p.arn) {
			r.attached = append(r.attached, p.arn)
			p.attachments++
		}
		return &iam.AttachRolePolicyOutput{}, nil
	})
}

// ListAttachedRolePolicies lists a role's managed policies in attach order.
func (s *Sim) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	const op = "ListAttachedRolePolicies"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.ListAttachedRolePoliciesOutput, error) {
		out := &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: []types.AttachedPolicy{}}
		for _, a := range r.attached {
			out.AttachedPolicies = append(out.AttachedPolicies, types.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(s.policies[a].name)})
		}
		return out, nil
	})
}

// PutRolePolicy creates or replaces an inline policy.
func (s *Sim) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	const op = "PutRolePolicy"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.PutRolePolicyOutput, error) {
		name := aws.ToString(in.PolicyName)
		if err := checkName(op, "policyName", name, 128); err != nil {
			return nil, err
		}
		if err := checkDocument(op, aws.ToString(in.PolicyDocument)); err != nil {
			return nil, err
		}
		r.inline[name] = aws.ToString(in.PolicyDocument)
		return &iam.PutRolePolicyOutput{}, nil
	})
}

// ListRolePolicies lists a role's inline policy names, sorted.
func (s *Sim) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	const op = "ListRolePolicies"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.ListRolePoliciesOutput, error) {
		names := []string{}
		for n := range r.inline {
			names = append(names, n)
		}
		sort.Strings(names)
		return &iam.ListRolePoliciesOutput{PolicyNames: names}, nil
	})
}

// GetRolePolicy returns an inline policy, URL-encoded as IAM returns it.
func (s *Sim) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	const op = "GetRolePolicy"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.GetRolePolicyOutput, error) {
		doc, ok := r.inline[aws.ToString(in.PolicyName)]
		if !ok {
			return nil, noSuchEntity(op, "The role policy with name %s cannot be found.", aws.ToString(in.PolicyName))
		}
		return &iam.GetRolePolicyOutput{RoleName: aws.String(r.name), PolicyName: in.PolicyName, PolicyDocument: aws.String(encodeDocument(doc))}, nil
	})
}

// GetPolicy returns a managed policy's metadata (one version, v1).
func (s *Sim) GetPolicy(ctx context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	const op = "GetPolicy"
	if err := s.begin(ctx, "IAM", op); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	p, ok := s.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, noSuchEntity(op, "Policy %s was not found.", aws.ToString(in.PolicyArn))
	}
	return &iam.GetPolicyOutput{Policy: &types.Policy{
		Arn: aws.String(p.arn), PolicyName: aws.String(p.name), Path: aws.String("/"),
		DefaultVersionId: aws.String("v1"), AttachmentCount: aws.Int32(p.attachments), IsAttachable: true,
	}}, nil
}

// GetPolicyVersion returns a managed policy's document, URL-encoded.
func (s *Sim) GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	const op = "GetPolicyVersion"
	if err := s.begin(ctx, "IAM", op); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	p, ok := s.policies[aws.ToString(in.PolicyArn)]
	if !ok || aws.ToString(in.VersionId) != "v1" {
		return nil, noSuchEntity(op, "Policy %s version %s does not exist or is not attachable.", aws.ToString(in.PolicyArn), aws.ToString(in.VersionId))
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: &types.PolicyVersion{
		VersionId: aws.String("v1"), IsDefaultVersion: true, Document: aws.String(encodeDocument(p.document)),
	}}, nil
}

// policyName is the last path element of a policy ARN.
func policyName(policyARN string) string {
	return policyARN[strings.LastIndexByte(policyARN, '/')+1:]
}
