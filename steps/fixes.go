package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/fix"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/textdiff"
)

// ApplyPatch applies a fix doctor proposed (see ApplyTrustPatch and
// ApplyVariablePatch); with apply false it only reads and returns the
// change it would make, with its diff. The client a patch does not need
// may be nil.
func ApplyPatch(ctx context.Context, c awsapi.IAM, gl gitlabapi.Client, p *fix.Patch, apply bool) ([]Change, error) {
	switch {
	case p == nil:
		return nil, errors.New("no fix to apply")
	case p.Kind == fix.KindTrustPolicy:
		if c == nil {
			return nil, fmt.Errorf("update the trust policy of role %q: no AWS access (set AWS_PROFILE or credentials, and do not pass --offline)", p.RoleName)
		}
		return ApplyTrustPatch(ctx, c, p, apply)
	case p.Kind == fix.KindVariable && p.Variable != nil:
		if gl == nil {
			return nil, fmt.Errorf("change CI/CD variable %s: no GitLab access (set GITLAB_TOKEN, and do not pass --offline)", p.Variable.Key)
		}
		return ApplyVariablePatch(ctx, gl, p.Variable, apply)
	}
	return nil, fmt.Errorf("cannot apply a fix of kind %q", p.Kind)
}

// ApplyTrustPatch replaces a role's trust policy p.Before with p.After. It
// reads the role again first and refuses with a *ConflictError when the
// trust policy is no longer equivalent to Before (someone changed it since
// doctor read it: the patch was computed for another policy), and refuses
// an After that leaves a web identity statement without a sub condition
// (ErrNoSub). The change's Diff is policy.Diff(Before, After). Nothing is
// written unless apply is true.
func ApplyTrustPatch(ctx context.Context, c awsapi.IAM, p *fix.Patch, apply bool) ([]Change, error) {
	switch {
	case p == nil || p.Kind != fix.KindTrustPolicy:
		return nil, errors.New("not a trust-policy fix")
	case p.Before == nil || p.After == nil:
		return nil, fmt.Errorf("role %q: the fix lacks the trust policy before or after", p.RoleName)
	}
	if err := ValidateRoleName(p.RoleName); err != nil {
		return nil, err
	}
	if st, open := fix.UnpinnedStatement(p.After); open || len(p.After.Statements) == 0 {
		return nil, fmt.Errorf("role %q: %w (statement %s)", p.RoleName, ErrNoSub, st.Name())
	}
	after, err := policy.Marshal(p.After)
	if err != nil {
		return nil, fmt.Errorf("role %q: render the fixed trust policy: %w", p.RoleName, err)
	}
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(p.RoleName)})
	if err != nil {
		return nil, awsapi.Explain(err, fmt.Sprintf("read role %q", p.RoleName))
	}
	current, err := policy.Parse([]byte(aws.ToString(out.Role.AssumeRolePolicyDocument)))
	if err != nil {
		return nil, fmt.Errorf("role %q: read its trust policy: %w", p.RoleName, err)
	}
	if policy.Equivalent(current, p.After) {
		return []Change{{Action: ActionKeep, Resource: ResourceTrustPolicy, Name: p.RoleName, Detail: "already fixed"}}, nil
	}
	if !policy.Equivalent(current, p.Before) {
		return nil, &ConflictError{Resource: ResourceTrustPolicy, Name: p.RoleName, Diff: policy.Diff(p.Before, current),
			Hint: "it changed since doctor read it (the diff shows how), so the fix no longer fits; nothing was written: run doctor again"}
	}
	ch := Change{Action: ActionUpdate, Resource: ResourceTrustPolicy, Name: p.RoleName,
		Detail: fmt.Sprintf("only the lines marked - and + change; its %d statement(s) are otherwise kept", len(p.After.Statements)),
		Diff:   policy.Diff(p.Before, p.After)}
	if !apply {
		return []Change{ch}, nil
	}
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(p.RoleName), PolicyDocument: aws.String(string(after))}); err != nil {
		return []Change{ch}, awsapi.Explain(err, fmt.Sprintf("update trust policy of role %q", p.RoleName))
	}
	ch.Applied = true
	return []Change{ch}, nil
}

// ApplyVariablePatch changes the settings of a CI/CD variable: Protected
// when set, or, with NewEnvironmentScope, adds the variable in that scope
// with the same value and settings (the original is kept: other
// environments may rely on it). It reads the variable again first; the
// value passes from GitLab back to GitLab and is never part of a Change.
// A variable whose value GitLab does not return (hidden) is refused rather
// than overwritten with nothing. Nothing is written unless apply is true.
func ApplyVariablePatch(ctx context.Context, gl gitlabapi.Client, p *fix.VariablePatch, apply bool) ([]Change, error) {
	if p == nil {
		return nil, errors.New("not a variable fix")
	}
	if err := ValidateVariableKey(p.Key); err != nil {
		return nil, err
	}
	if p.Protected == nil && p.NewEnvironmentScope == "" {
		return nil, fmt.Errorf("CI/CD variable %s: the fix changes no setting", p.Key)
	}
	v, err := gl.Variable(ctx, p.Target, p.Key, p.EnvironmentScope)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, &ConflictError{Resource: ResourceVariable, Name: p.Key,
			Hint: fmt.Sprintf("it no longer exists in %s (scope %s); nothing was written: run doctor again", p.Target, orAll(p.EnvironmentScope))}
	}
	if p.NewEnvironmentScope != "" {
		return copyVariable(ctx, gl, p, *v, apply)
	}
	if v.Protected == *p.Protected {
		return []Change{{Action: ActionKeep, Resource: ResourceVariable, Name: p.Key, Detail: "already fixed: " + describeVariable(p.Target, *v)}}, nil
	}
	want := *v
	want.Protected = *p.Protected
	ch := Change{Action: ActionUpdate, Resource: ResourceVariable, Name: p.Key, Detail: describeVariable(p.Target, want),
		Diff: textdiff.Unified("GitLab", "fix", variableSettings(*v), variableSettings(want), 5)}
	if v.Value == "" {
		return []Change{ch}, hiddenValue(p)
	}
	if !apply {
		return []Change{ch}, nil
	}
	if _, err := gl.UpdateVariable(ctx, p.Target, want); err != nil {
		return []Change{ch}, err
	}
	ch.Applied = true
	return []Change{ch}, nil
}

// copyVariable adds v in p.NewEnvironmentScope unless a variable of that
// key already exists there.
func copyVariable(ctx context.Context, gl gitlabapi.Client, p *fix.VariablePatch, v gitlabapi.Variable, apply bool) ([]Change, error) {
	there, err := gl.Variable(ctx, p.Target, p.Key, p.NewEnvironmentScope)
	if err != nil {
		return nil, err
	}
	if there != nil && there.EnvironmentScope == p.NewEnvironmentScope {
		return []Change{{Action: ActionKeep, Resource: ResourceVariable, Name: p.Key, Detail: "already defined: " + describeVariable(p.Target, *there)}}, nil
	}
	want := v
	want.EnvironmentScope = p.NewEnvironmentScope
	ch := Change{Action: ActionCreate, Resource: ResourceVariable, Name: p.Key,
		Detail: describeVariable(p.Target, want) + fmt.Sprintf("; same value as the one scoped to %s, which is kept", orAll(v.EnvironmentScope)),
		Diff:   textdiff.Unified("GitLab", "fix", "", variableSettings(want), 5)}
	if v.Value == "" {
		return []Change{ch}, hiddenValue(p)
	}
	if !apply {
		return []Change{ch}, nil
	}
	if _, err := gl.CreateVariable(ctx, p.Target, want); err != nil {
		return []Change{ch}, err
	}
	ch.Applied = true
	return []Change{ch}, nil
}

// variableSettings renders what a fix may change, without the value.
func variableSettings(v gitlabapi.Variable) string {
	return fmt.Sprintf("key: %s\nprotected: %t\nmasked: %t\nenvironment_scope: %s\n", v.Key, v.Protected, v.Masked, v.EnvironmentScope)
}

func hiddenValue(p *fix.VariablePatch) error {
	return fmt.Errorf("CI/CD variable %s in %s: GitLab did not return its value (a hidden variable), and updating it would need it; change the setting in Settings > CI/CD > Variables", p.Key, p.Target)
}

func orAll(scope string) string {
	if scope == "" {
		return "*"
	}
	return scope
}
