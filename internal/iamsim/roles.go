package iamsim

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"gitlab-oidc/internal/policy"
)

// IAM's limits for roles.
const (
	minSession = 3600
	maxSession = 43200
)

// nameRE is IAM's pattern for role and inline policy names.
var nameRE = regexp.MustCompile(`^[\w+=,.@-]+$`)

type role struct {
	name        string
	id          string
	trust       string // as written by the caller; returned URL-encoded
	maxSession  int32
	description string
	tags        []types.Tag
	created     time.Time
	attached    []string          // managed policy ARNs in attach order
	inline      map[string]string // inline policy name -> document
}

func (r *role) arn() string { return arn("role", r.name) }

func (r *role) sdk() *types.Role {
	out := &types.Role{
		Arn:                      aws.String(r.arn()),
		RoleName:                 aws.String(r.name),
		RoleId:                   aws.String(r.id),
		Path:                     aws.String("/"),
		CreateDate:               aws.Time(r.created),
		AssumeRolePolicyDocument: aws.String(encodeDocument(r.trust)),
		MaxSessionDuration:       aws.Int32(r.maxSession),
		Tags:                     slices.Clone(r.tags),
	}
	if r.description != "" {
		out.Description = aws.String(r.description)
	}
	return out
}

func (s *Sim) role(op, name string) (*role, error) {
	r, ok := s.roles[strings.ToLower(name)]
	if !ok {
		return nil, noSuchEntity(op, "The role with name %s cannot be found.", name)
	}
	return r, nil
}

// GetRole returns a role with its trust policy URL-encoded, as IAM does.
func (s *Sim) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	const op = "GetRole"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.GetRoleOutput, error) {
		return &iam.GetRoleOutput{Role: r.sdk()}, nil
	})
}

// ListRoles lists roles by name, paginated with Marker and MaxItems
// (default 100) like IAM.
func (s *Sim) ListRoles(ctx context.Context, in *iam.ListRolesInput, _ ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	const op = "ListRoles"
	if err := s.begin(ctx, "IAM", op); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.roles))
	for k := range s.roles {
		names = append(names, k)
	}
	sort.Strings(names)
	start := 0
	if m := aws.ToString(in.Marker); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > len(names) {
			return nil, validation(op, "Invalid Marker %q", m)
		}
		start = n
	}
	limit := int(aws.ToInt32(in.MaxItems))
	if limit <= 0 {
		limit = 100
	}
	end := min(start+limit, len(names))
	out := &iam.ListRolesOutput{Roles: []types.Role{}}
	for _, k := range names[start:end] {
		out.Roles = append(out.Roles, *s.roles[k].sdk())
	}
	if end < len(names) {
		out.IsTruncated = true
		out.Marker = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

// CreateRole creates a role. Names are unique ignoring case; the trust
// policy must parse; MaxSessionDuration defaults to one hour.
func (s *Sim) CreateRole(ctx context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	const op = "CreateRole"
	if err := s.begin(ctx, "IAM", op); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	name := aws.ToString(in.RoleName)
	if err := checkName(op, "roleName", name, 64); err != nil {
		return nil, err
	}
	if _, exists := s.roles[strings.ToLower(name)]; exists {
		return nil, alreadyExists(op, "Role with name %s already exists.", name)
	}
	if err := checkDocument(op, aws.ToString(in.AssumeRolePolicyDocument)); err != nil {
		return nil, err
	}
	session := aws.ToInt32(in.MaxSessionDuration)
	if in.MaxSessionDuration == nil {
		session = minSession
	}
	if err := checkSession(op, session); err != nil {
		return nil, err
	}
	if len(in.Tags) > maxTags {
		return nil, limitExceeded(op, "Cannot exceed quota for TagsPerRole: %d", maxTags)
	}
	r := &role{
		name:        name,
		id:          s.id("AROA"),
		trust:       aws.ToString(in.AssumeRolePolicyDocument),
		maxSession:  session,
		description: aws.ToString(in.Description),
		tags:        slices.Clone(in.Tags),
		created:     time.Now().UTC(),
		inline:      map[string]string{},
	}
	s.roles[strings.ToLower(name)] = r
	return &iam.CreateRoleOutput{Role: r.sdk()}, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Sim) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	const op = "UpdateAssumeRolePolicy"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.UpdateAssumeRolePolicyOutput, error) {
		if err := checkDocument(op, aws.ToString(in.PolicyDocument)); err != nil {
			return nil, err
		}
		r.trust = aws.ToString(in.PolicyDocument)
		return &iam.UpdateAssumeRolePolicyOutput{}, nil
	})
}

// UpdateRole changes the description and/or maximum session duration.
func (s *Sim) UpdateRole(ctx context.Context, in *iam.UpdateRoleInput, _ ...func(*iam.Options)) (*iam.UpdateRoleOutput, error) {
	const op = "UpdateRole"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.UpdateRoleOutput, error) {
		if in.MaxSessionDuration != nil {
			if err := checkSession(op, *in.MaxSessionDuration); err != nil {
				return nil, err
			}
			r.maxSession = *in.MaxSessionDuration
		}
		if in.Description != nil {
			r.description = *in.Description
		}
		return &iam.UpdateRoleOutput{}, nil
	})
}

// TagRole adds tags, replacing the values of keys that exist.
func (s *Sim) TagRole(ctx context.Context, in *iam.TagRoleInput, _ ...func(*iam.Options)) (*iam.TagRoleOutput, error) {
	const op = "TagRole"
	return roleCall(s, ctx, op, in.RoleName, func(r *role) (*iam.TagRoleOutput, error) {
		tags := slices.Clone(r.tags)
		for _, t := range in.Tags {
			i := slices.IndexFunc(tags, func(x types.Tag) bool { return aws.ToString(x.Key) == aws.ToString(t.Key) })
			if i >= 0 {
				tags[i] = t
			} else {
				tags = append(tags, t)
			}
		}
		if len(tags) > maxTags {
			return nil, limitExceeded(op, "Cannot exceed quota for TagsPerRole: %d", maxTags)
		}
		r.tags = tags
		return &iam.TagRoleOutput{}, nil
	})
}

func checkName(op, field, name string, maxLen int) error {
	if name == "" || len(name) > maxLen || !nameRE.MatchString(name) {
		return validation(op, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and %d and match [\\w+=,.@-]+", name, field, maxLen)
	}
	return nil
}

func checkSession(op string, seconds int32) error {
	if seconds < minSession || seconds > maxSession {
		return validation(op, "1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between %d and %d", seconds, minSession, maxSession)
	}
	return nil
}

// checkDocument rejects what IAM rejects as MalformedPolicyDocument, using
// our own parser, which is as strict as IAM about the policy grammar.
func checkDocument(op, doc string) error {
	if strings.HasPrefix(strings.TrimSpace(doc), "%") {
		return malformed(op, errURLEncoded)
	}
	if _, err := policy.Parse([]byte(doc)); err != nil {
		return malformed(op, err)
	}
	return nil
}
