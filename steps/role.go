package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/fix"
	"gitlab-oidc/internal/policy"
)

// RoleSpec is the IAM role setup wants.
type RoleSpec struct {
	Name        string
	TrustPolicy *policy.Document
	// MaxSessionSeconds is the role's maximum session (3600-43200); 0 keeps
	// IAM's default on create and the current value on an existing role.
	MaxSessionSeconds int32
	// PolicyARNs are managed policies to attach. Others already attached are
	// never detached.
	PolicyARNs []string
	// InlinePolicies are put on the role; inline policies with other names
	// are left alone.
	InlinePolicies []InlinePolicy
	// Tags and Description are set on create only.
	Tags        map[string]string
	Description string
}

// RoleResult is the role after EnsureRole.
type RoleResult struct {
	ARN     string
	Existed bool
}

var roleNameRE = regexp.MustCompile(`^[\w+=,.@-]+$`)

// ValidateRoleName checks IAM's rules for role names: 1 to 64 characters of
// letters, digits and + = , . @ _ -.
func ValidateRoleName(name string) error {
	switch {
	case name == "":
		return errors.New("role name is empty")
	case len(name) > 64:
		return fmt.Errorf("role name %q is %d characters; IAM allows at most 64", name, len(name))
	case !roleNameRE.MatchString(name):
		return fmt.Errorf("role name %q has characters IAM does not allow; use letters, digits and + = , . @ _ -", name)
	}
	return nil
}

// pending is a change that EnsureRole will write once every read is done
// and nothing needs the user's permission.
type pending struct {
	index int // into the change list
	write func(context.Context) error
}

// EnsureRole makes sure the role exists with our trust statement, the
// managed and inline policies asked for, and the maximum session. It reads
// everything first and writes only when apply is true and nothing conflicts,
// so a conflict never leaves a half-updated role.
//
// An existing role's trust policy is never replaced: if it neither equals
// nor already contains our statement, the statement is appended (every
// existing statement kept) only with d.AddTrustStatement; otherwise the
// result is a *ConflictError with the diff, alongside every change computed.
// A trust policy without a sub condition is refused outright.
func EnsureRole(ctx context.Context, c awsapi.IAM, spec RoleSpec, d Decisions, apply bool) (RoleResult, []Change, error) {
	if err := checkRoleSpec(spec); err != nil {
		return RoleResult{}, nil, err
	}
	trustJSON, err := policy.Marshal(spec.TrustPolicy)
	if err != nil {
		return RoleResult{}, nil, fmt.Errorf("role %s: render trust policy: %w", spec.Name, err)
	}

	reads := readRole(ctx, c, spec.Name)
	var r *roleRun
	switch err := reads.roleErr; {
	case isCode(err, "NoSuchEntity"):
		r = planNewRole(c, spec, string(trustJSON))
	case err != nil:
		return RoleResult{}, nil, awsapi.Explain(err, fmt.Sprintf("read role %q", spec.Name))
	default:
		r, err = planExistingRole(ctx, c, spec, reads, d)
		if err != nil {
			return r.res, nil, err
		}
	}
	if r.conflict != nil {
		return r.res, r.changes, r.conflict
	}
	if !apply {
		return r.res, r.changes, nil
	}
	for _, p := range r.writes {
		if err := p.write(ctx); err != nil {
			return r.res, r.changes, err
		}
		r.changes[p.index].Applied = true
	}
	return r.res, r.changes, nil
}

// roleRun is EnsureRole's plan: the changes, the writes that realise them,
// and a conflict that blocks all writes.
type roleRun struct {
	res      RoleResult
	changes  []Change
	writes   []pending
	conflict *ConflictError
}

func (r *roleRun) add(ch Change, write func(context.Context) error) {
	r.changes = append(r.changes, ch)
	if write != nil {
		r.writes = append(r.writes, pending{index: len(r.changes) - 1, write: write})
	}
}

func planNewRole(c awsapi.IAM, spec RoleSpec, trustJSON string) *roleRun {
	r := &roleRun{}
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(spec.Name),
		AssumeRolePolicyDocument: aws.String(trustJSON),
		Tags:                     iamTags(spec.Tags),
	}
	if spec.MaxSessionSeconds != 0 {
		in.MaxSessionDuration = aws.Int32(spec.MaxSessionSeconds)
	}
	if spec.Description != "" {
		in.Description = aws.String(spec.Description)
	}
	detail := fmt.Sprintf("trust policy with %d statement(s)", len(spec.TrustPolicy.Statements))
	if spec.MaxSessionSeconds != 0 {
		detail += fmt.Sprintf(", max session %ds", spec.MaxSessionSeconds)
	}
	idx := len(r.changes)
	r.add(Change{Action: ActionCreate, Resource: ResourceRole, Name: spec.Name, Detail: detail}, func(ctx context.Context) error {
		var out *iam.CreateRoleOutput
		err := retryPropagation(ctx, func() (err error) {
			out, err = c.CreateRole(ctx, in)
			return err
		})
		if err != nil {
			return awsapi.Explain(err, fmt.Sprintf("create role %q", spec.Name))
		}
		r.res.ARN = aws.ToString(out.Role.Arn)
		r.changes[idx].Name = r.res.ARN
		return nil
	})
	for _, a := range spec.PolicyARNs {
		r.add(Change{Action: ActionAttach, Resource: ResourceManaged, Name: a, Detail: "to role " + spec.Name}, attachWrite(c, spec.Name, a))
	}
	for _, p := range spec.InlinePolicies {
		r.add(Change{Action: ActionCreate, Resource: ResourceInlinePolicy, Name: p.Name, Detail: "on role " + spec.Name}, putWrite(c, spec.Name, p))
	}
	return r
}

// roleReads is everything EnsureRole reads about an existing role. The three
// reads are independent, so they run at once: a re-run then costs one round
// trip instead of three. For a role that does not exist the list calls fail
// with NoSuchEntity too, and their errors are ignored.
type roleReads struct {
	role        *iam.GetRoleOutput
	roleErr     error
	attached    []string
	attachedErr error
	inline      []string
	inlineErr   error
}

func readRole(ctx context.Context, c awsapi.IAM, name string) roleReads {
	var r roleReads
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		r.role, r.roleErr = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	}()
	go func() {
		defer wg.Done()
		r.attached, r.attachedErr = listAttached(ctx, c, name)
	}()
	go func() {
		defer wg.Done()
		r.inline, r.inlineErr = listInline(ctx, c, name)
	}()
	wg.Wait()
	return r
}

func listAttached(ctx context.Context, c awsapi.IAM, name string) ([]string, error) {
	var attached []string
	in := &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}
	for {
		out, err := c.ListAttachedRolePolicies(ctx, in)
		if err != nil {
			return nil, awsapi.Explain(err, fmt.Sprintf("list managed policies of role %q", name))
		}
		for _, p := range out.AttachedPolicies {
			attached = append(attached, aws.ToString(p.PolicyArn))
		}
		if !out.IsTruncated {
			return attached, nil
		}
		in.Marker = out.Marker
	}
}

func listInline(ctx context.Context, c awsapi.IAM, name string) ([]string, error) {
	var names []string
	in := &iam.ListRolePoliciesInput{RoleName: aws.String(name)}
	for {
		out, err := c.ListRolePolicies(ctx, in)
		if err != nil {
			return nil, awsapi.Explain(err, fmt.Sprintf("list inline policies of role %q", name))
		}
		names = append(names, out.PolicyNames...)
		if !out.IsTruncated {
			return names, nil
		}
		in.Marker = out.Marker
	}
}

func planExistingRole(ctx context.Context, c awsapi.IAM, spec RoleSpec, reads roleReads, d Decisions) (*roleRun, error) {
	role := reads.role.Role
	r := &roleRun{res: RoleResult{ARN: aws.ToString(role.Arn), Existed: true}}
	r.add(Change{Action: ActionKeep, Resource: ResourceRole, Name: r.res.ARN, Detail: "exists"}, nil)

	if err := planTrust(c, spec, aws.ToString(role.AssumeRolePolicyDocument), d, r); err != nil {
		return r, err
	}
	if cur := aws.ToInt32(role.MaxSessionDuration); spec.MaxSessionSeconds != 0 && cur != spec.MaxSessionSeconds {
		r.add(Change{Action: ActionUpdate, Resource: ResourceRole, Name: r.res.ARN,
			Detail: fmt.Sprintf("max session %ds -> %ds", cur, spec.MaxSessionSeconds)}, func(ctx context.Context) error {
			_, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(spec.Name), MaxSessionDuration: aws.Int32(spec.MaxSessionSeconds)})
			return awsapi.Explain(err, fmt.Sprintf("set max session of role %q", spec.Name))
		})
	}
	if reads.attachedErr != nil {
		return r, reads.attachedErr
	}
	planManaged(c, spec, reads.attached, r)
	if reads.inlineErr != nil {
		return r, reads.inlineErr
	}
	return r, planInline(ctx, c, spec, reads.inline, r)
}

// planTrust compares the role's trust policy with ours.
func planTrust(c awsapi.IAM, spec RoleSpec, encoded string, d Decisions, r *roleRun) error {
	current, err := policy.Parse([]byte(encoded))
	if err != nil {
		return fmt.Errorf("role %q: its current trust policy cannot be read, so setup will not touch it: %w", spec.Name, err)
	}
	if policy.Equivalent(current, spec.TrustPolicy) {
		r.add(Change{Action: ActionKeep, Resource: ResourceTrustPolicy, Name: spec.Name, Detail: "already as planned"}, nil)
		return nil
	}
	updated := current
	var added []string
	for _, st := range spec.TrustPolicy.Statements {
		if !policy.ContainsStatement(updated, st) {
			updated = policy.AddStatement(updated, st)
			added = append(added, st.Name())
		}
	}
	if len(added) == 0 {
		r.add(Change{Action: ActionKeep, Resource: ResourceTrustPolicy, Name: spec.Name,
			Detail: fmt.Sprintf("already contains the planned statement; %d other statement(s) kept", max(0, len(current.Statements)-len(spec.TrustPolicy.Statements)))}, nil)
		return nil
	}
	doc, err := policy.Marshal(updated)
	if err != nil {
		return fmt.Errorf("role %q: render the updated trust policy: %w", spec.Name, err)
	}
	ch := Change{Action: ActionUpdate, Resource: ResourceTrustPolicy, Name: spec.Name,
		Detail: fmt.Sprintf("add statement %s; the %d existing statement(s) are kept", strings.Join(added, ", "), len(current.Statements)),
		Diff:   policy.Diff(current, updated)}
	if !d.AddTrustStatement {
		r.add(ch, nil)
		r.conflict = &ConflictError{Resource: ResourceRole, Name: spec.Name, Diff: ch.Diff,
			Hint: "its trust policy differs; setup only appends its statement and keeps the others: " + confirmHint + ", or choose another role name"}
		return nil
	}
	r.add(ch, func(ctx context.Context) error {
		err := retryPropagation(ctx, func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(spec.Name), PolicyDocument: aws.String(string(doc))})
			return err
		})
		return awsapi.Explain(err, fmt.Sprintf("update trust policy of role %q", spec.Name))
	})
	return nil
}

// planManaged attaches missing managed policies and lists the others as kept.
func planManaged(c awsapi.IAM, spec RoleSpec, attached []string, r *roleRun) {
	for _, a := range attached {
		detail := "attached, kept"
		if !slices.Contains(spec.PolicyARNs, a) {
			detail = "attached, not part of this setup, kept"
		}
		r.add(Change{Action: ActionKeep, Resource: ResourceManaged, Name: a, Detail: detail}, nil)
	}
	for _, a := range spec.PolicyARNs {
		if !slices.Contains(attached, a) {
			r.add(Change{Action: ActionAttach, Resource: ResourceManaged, Name: a, Detail: "to role " + spec.Name}, attachWrite(c, spec.Name, a))
		}
	}
}

// planInline puts inline policies whose document differs (or is missing).
func planInline(ctx context.Context, c awsapi.IAM, spec RoleSpec, names []string, r *roleRun) error {
	for _, n := range names {
		if !slices.ContainsFunc(spec.InlinePolicies, func(p InlinePolicy) bool { return p.Name == n }) {
			r.add(Change{Action: ActionKeep, Resource: ResourceInlinePolicy, Name: n, Detail: "not part of this setup, kept"}, nil)
		}
	}
	for _, p := range spec.InlinePolicies {
		ch := Change{Action: ActionCreate, Resource: ResourceInlinePolicy, Name: p.Name, Detail: "on role " + spec.Name}
		if slices.Contains(names, p.Name) {
			out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String(p.Name)})
			if err != nil {
				return awsapi.Explain(err, fmt.Sprintf("read inline policy %q of role %q", p.Name, spec.Name))
			}
			current, perr := policy.Parse([]byte(aws.ToString(out.PolicyDocument)))
			want, _ := policy.Parse([]byte(p.Document)) // checked by checkRoleSpec
			if perr == nil && policy.Equivalent(current, want) {
				r.add(Change{Action: ActionKeep, Resource: ResourceInlinePolicy, Name: p.Name, Detail: "already as planned"}, nil)
				continue
			}
			ch.Action, ch.Detail = ActionUpdate, "replace the document on role "+spec.Name
			if perr == nil {
				ch.Diff = policy.Diff(current, want)
			}
		}
		r.add(ch, putWrite(c, spec.Name, p))
	}
	return nil
}

func attachWrite(c awsapi.IAM, role, policyARN string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(policyARN)})
		return awsapi.Explain(err, fmt.Sprintf("attach %s to role %q", policyARN, role))
	}
}

func putWrite(c awsapi.IAM, role string, p InlinePolicy) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(p.Name), PolicyDocument: aws.String(p.Document)})
		return awsapi.Explain(err, fmt.Sprintf("put inline policy %q on role %q", p.Name, role))
	}
}

// checkRoleSpec validates everything that can be checked without AWS.
func checkRoleSpec(spec RoleSpec) error {
	if err := ValidateRoleName(spec.Name); err != nil {
		return err
	}
	if err := CheckTrustPinsSub(spec.TrustPolicy); err != nil {
		return fmt.Errorf("role %q: %w", spec.Name, err)
	}
	if s := spec.MaxSessionSeconds; s != 0 && (s < 3600 || s > 43200) {
		return fmt.Errorf("role %q: max session %ds is outside IAM's 3600 to 43200 seconds", spec.Name, s)
	}
	for _, p := range spec.InlinePolicies {
		if p.Name == "" || len(p.Name) > 128 || !roleNameRE.MatchString(p.Name) {
			return fmt.Errorf("inline policy name %q: IAM allows 1 to 128 characters of letters, digits and + = , . @ _ -", p.Name)
		}
		if _, err := policy.Parse([]byte(p.Document)); err != nil {
			return fmt.Errorf("inline policy %q: %w", p.Name, err)
		}
	}
	return nil
}

// CheckTrustPinsSub returns ErrNoSub (wrapped, naming the statement) unless
// every Allow statement of the trust policy restricts the token's sub with a
// positive string condition (StringEquals/StringLike on KEY:sub, no bare
// "*"). Without it any project on the GitLab instance could assume the role;
// this is defence in depth behind the plan, which always pins sub.
func CheckTrustPinsSub(doc *policy.Document) error {
	if doc == nil || len(doc.Statements) == 0 {
		return fmt.Errorf("%w: the trust policy is empty", ErrNoSub)
	}
	for _, st := range doc.Statements {
		if st.Effect == "Allow" && !pinsSub(st) {
			return fmt.Errorf("%w (statement %s)", ErrNoSub, st.Name())
		}
	}
	return nil
}

// pinsSub is the rule doctor's fixes follow too (internal/fix), so that
// setup and doctor never disagree on what pins sub.
func pinsSub(st policy.Statement) bool { return fix.PinsSub(st) }

// propagationDelays are the waits between attempts while a just-created OIDC
// provider propagates through IAM (eventually consistent): until it has,
// IAM rejects a trust policy naming it as "Invalid principal in policy".
var propagationDelays = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// retryPropagation runs f again while IAM says the trust policy's principal
// is invalid, which right after EnsureProvider created it means "not yet
// visible". Other errors, and the last one, are returned as they are.
func retryPropagation(ctx context.Context, f func() error) error {
	for i := 0; ; i++ {
		err := f()
		if i == len(propagationDelays) || !isCode(err, "MalformedPolicyDocument") || !strings.Contains(err.Error(), "Invalid principal") {
			return err
		}
		t := time.NewTimer(propagationDelays[i])
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// isCode reports whether err is an AWS API error with the given code.
func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
