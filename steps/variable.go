package steps

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/textdiff"
)

// ResourceVariable names CI/CD variables in Changes and ConflictErrors.
const ResourceVariable = "CI/CD variable"

// VariableSpec is the CI/CD variable setup wants (AWS_ROLE_ARN by default).
type VariableSpec struct {
	Target           gitlabapi.VariableTarget
	Key, Value       string
	Protected        bool
	Masked           bool
	EnvironmentScope string // "*" when empty
	Description      string
}

var variableKeyRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// ValidateVariableKey applies GitLab's rule for keys (letters, digits and
// _, at most 255 characters) before any call, so the user gets the reason
// rather than a 400.
func ValidateVariableKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("CI/CD variable key is empty")
	case len(key) > 255:
		return fmt.Errorf("CI/CD variable key %.20q… is %d characters; GitLab allows at most 255", key, len(key))
	case !variableKeyRE.MatchString(key):
		return fmt.Errorf("CI/CD variable key %q: GitLab allows only letters, digits and _", key)
	}
	return nil
}

// maskableRE is what GitLab can mask in a variable with expansion on (the
// API's default): letters, digits and _ : @ - + . ~ = /.
var maskableRE = regexp.MustCompile(`^[A-Za-z0-9_:@\-+.~=/]{8,}$`)

// want is the variable as GitLab should hold it.
func (s VariableSpec) want() gitlabapi.Variable {
	scope := s.EnvironmentScope
	if scope == "" {
		scope = "*"
	}
	return gitlabapi.Variable{
		Key: s.Key, Value: s.Value, VariableType: "env_var", Protected: s.Protected, Masked: s.Masked,
		EnvironmentScope: scope, Description: s.Description,
	}
}

func (s VariableSpec) check() error {
	if err := ValidateVariableKey(s.Key); err != nil {
		return err
	}
	if s.Value == "" {
		return fmt.Errorf("CI/CD variable %s: the value is empty", s.Key)
	}
	if s.Masked && !maskableRE.MatchString(s.Value) {
		return fmt.Errorf("CI/CD variable %s cannot be masked: GitLab masks only single-line values of at least 8 characters made of letters, digits and _:@-+.~=/", s.Key)
	}
	return nil
}

// describe is the Change detail: where the variable lives and how.
func describeVariable(target gitlabapi.VariableTarget, v gitlabapi.Variable) string {
	parts := []string{target.String()}
	if v.Protected {
		parts = append(parts, "protected")
	} else {
		parts = append(parts, "all branches and tags")
	}
	if v.Masked {
		parts = append(parts, "masked")
	}
	if v.EnvironmentScope == "*" {
		parts = append(parts, "all environments")
	} else {
		parts = append(parts, "environment "+v.EnvironmentScope)
	}
	return strings.Join(parts, ", ")
}

// EnsureVariable makes sure the CI/CD variable of spec exists with spec's
// value and settings. A missing variable is created; one that already
// matches is kept with no write at all; one that differs (value, type,
// protected, masked) is replaced only with d.ReplaceVariable, otherwise the
// result is a *ConflictError carrying the diff. With apply false it only
// reads and returns the change it would make. It returns the variable as
// GitLab holds it afterwards (or would, in a preview).
func EnsureVariable(ctx context.Context, gl gitlabapi.Client, spec VariableSpec, d Decisions, apply bool) (gitlabapi.Variable, []Change, error) {
	if err := spec.check(); err != nil {
		return gitlabapi.Variable{}, nil, err
	}
	want := spec.want()
	existing, err := gl.Variable(ctx, spec.Target, spec.Key, want.EnvironmentScope)
	if err != nil {
		return gitlabapi.Variable{}, nil, err
	}
	// An instance too old for filter[environment_scope] may answer with the
	// variable of another scope; that one is not ours to compare or change.
	if existing != nil && existing.EnvironmentScope != want.EnvironmentScope {
		existing = nil
	}
	if existing == nil {
		ch := Change{Action: ActionCreate, Resource: ResourceVariable, Name: spec.Key, Detail: describeVariable(spec.Target, want)}
		if !apply {
			return want, []Change{ch}, nil
		}
		created, err := gl.CreateVariable(ctx, spec.Target, want)
		if err != nil {
			return gitlabapi.Variable{}, []Change{ch}, err
		}
		ch.Applied = true
		return created, []Change{ch}, nil
	}

	diff := variableDiff(*existing, want)
	if diff == "" {
		return *existing, []Change{{Action: ActionKeep, Resource: ResourceVariable, Name: spec.Key,
			Detail: "already set: " + describeVariable(spec.Target, *existing)}}, nil
	}
	ch := Change{Action: ActionUpdate, Resource: ResourceVariable, Name: spec.Key, Detail: describeVariable(spec.Target, want), Diff: diff}
	if !d.ReplaceVariable {
		return *existing, []Change{ch}, &ConflictError{Resource: ResourceVariable, Name: spec.Key, Diff: diff,
			Hint: fmt.Sprintf("it exists in %s with other settings; jobs that read it would get the new value: %s", spec.Target, confirmHint)}
	}
	if !apply {
		return want, []Change{ch}, nil
	}
	// Keep what the plan does not decide (raw, an existing description).
	want.Raw = existing.Raw
	if want.Description == "" {
		want.Description = existing.Description
	}
	updated, err := gl.UpdateVariable(ctx, spec.Target, want)
	if err != nil {
		return *existing, []Change{ch}, err
	}
	ch.Applied = true
	return updated, []Change{ch}, nil
}

// variableDiff compares what matters to a job (value, type, protected,
// masked, scope) and renders it as a unified diff; "" when equal. The
// description and raw flag do not change what the job sees for an ARN.
func variableDiff(have, want gitlabapi.Variable) string {
	if have.VariableType == "" {
		have.VariableType = "env_var"
	}
	render := func(v gitlabapi.Variable) string {
		value := v.Value
		if v.Masked && v.Value != want.Value {
			value = redactValue(v.Value)
		}
		return fmt.Sprintf("key: %s\nvalue: %s\nvariable_type: %s\nprotected: %t\nmasked: %t\nenvironment_scope: %s\n",
			v.Key, value, v.VariableType, v.Protected, v.Masked, v.EnvironmentScope)
	}
	return textdiff.Unified("GitLab", "plan", render(have), render(want), 5)
}

// redactValue hides a masked value someone else set, keeping enough to
// recognise it.
func redactValue(v string) string {
	if v == "" {
		return "(hidden)"
	}
	if len(v) <= 8 {
		return "(masked)"
	}
	return "(masked) …" + v[len(v)-4:]
}

// ProtectedVariableWarning explains, for a protected variable, which
// allowed refs (described in words, e.g. "branch feature/*") will not see
// it because they are not protected; "" when there is nothing to say.
func ProtectedVariableWarning(key string, protected bool, unprotectedRefs []string) string {
	if !protected || len(unprotectedRefs) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is protected but %s %s not protected: jobs there will see an empty %s and cannot assume the role; protect the ref or set the variable unprotected (--protected-variable false)",
		key, strings.Join(unprotectedRefs, ", "), isAre(len(unprotectedRefs)), key)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
