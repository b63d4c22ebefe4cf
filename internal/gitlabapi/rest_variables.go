package gitlabapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

// Variable target kinds.
const (
	TargetProject = "project"
	TargetGroup   = "group"
)

// String names the target for messages: "project acme/payments".
func (t VariableTarget) String() string { return t.Kind + " " + t.ID }

func (t VariableTarget) resource() resource {
	if t.Kind == TargetGroup {
		return resGroupVariable
	}
	return resProjectVariable
}

func (t VariableTarget) check() error {
	if t.Kind != TargetProject && t.Kind != TargetGroup {
		return fmt.Errorf("variable target kind %q: use %q or %q", t.Kind, TargetProject, TargetGroup)
	}
	if t.ID == "" {
		return fmt.Errorf("variable target: the %s ID or path is empty", t.Kind)
	}
	return nil
}

func scopeFilter(scope string) *gitlab.VariableFilter {
	if scope == "" {
		return nil
	}
	return &gitlab.VariableFilter{EnvironmentScope: scope}
}

func (c *restClient) Variable(ctx context.Context, target VariableTarget, key, environmentScope string) (*Variable, error) {
	if err := target.check(); err != nil {
		return nil, err
	}
	op := fmt.Sprintf("read CI/CD variable %s of %s", key, target)
	ro, st := start(ctx, http.MethodGet)
	var pv *gitlab.ProjectVariable
	var err error
	if target.Kind == TargetGroup {
		var gv *gitlab.GroupVariable
		gv, _, err = c.gl.GroupVariables.GetVariable(target.ID, key, &gitlab.GetGroupVariableOptions{Filter: scopeFilter(environmentScope)}, ro)
		pv = (*gitlab.ProjectVariable)(gv)
	} else {
		pv, _, err = c.gl.ProjectVariables.GetVariable(target.ID, key, &gitlab.GetProjectVariableOptions{Filter: scopeFilter(environmentScope)}, ro)
	}
	if err != nil {
		// GitLab says "404 Variable Not Found" for a missing variable and
		// "404 Project Not Found" when the project itself is hidden or gone.
		if st.status == http.StatusNotFound && !strings.Contains(st.message, "Project") && !strings.Contains(st.message, "Group") {
			return nil, nil
		}
		return nil, fail(op, target.resource(), st, err)
	}
	v := fromProjectVariable(pv)
	return &v, nil
}

func (c *restClient) CreateVariable(ctx context.Context, target VariableTarget, v Variable) (Variable, error) {
	if err := target.check(); err != nil {
		return Variable{}, err
	}
	op := fmt.Sprintf("create CI/CD variable %s in %s", v.Key, target)
	ro, st := start(ctx, http.MethodPost)
	// The project and group option structs are identical, so one is built
	// and converted.
	opt := &gitlab.CreateProjectVariableOptions{
		Key:              gitlab.Ptr(v.Key),
		Value:            gitlab.Ptr(v.Value),
		Description:      optString(v.Description),
		EnvironmentScope: optString(v.EnvironmentScope),
		Masked:           gitlab.Ptr(v.Masked),
		Protected:        gitlab.Ptr(v.Protected),
		Raw:              gitlab.Ptr(v.Raw),
		VariableType:     variableType(v.VariableType),
	}
	var pv *gitlab.ProjectVariable
	var err error
	if target.Kind == TargetGroup {
		var gv *gitlab.GroupVariable
		gv, _, err = c.gl.GroupVariables.CreateVariable(target.ID, (*gitlab.CreateGroupVariableOptions)(opt), ro)
		pv = (*gitlab.ProjectVariable)(gv)
	} else {
		pv, _, err = c.gl.ProjectVariables.CreateVariable(target.ID, opt, ro)
	}
	if err != nil {
		return Variable{}, fail(op, target.resource(), st, err)
	}
	return fromProjectVariable(pv), nil
}

// UpdateVariable replaces the value and settings of the variable with v.Key
// in v.EnvironmentScope (the scope selects the variable; it is not changed).
func (c *restClient) UpdateVariable(ctx context.Context, target VariableTarget, v Variable) (Variable, error) {
	if err := target.check(); err != nil {
		return Variable{}, err
	}
	op := fmt.Sprintf("update CI/CD variable %s in %s", v.Key, target)
	ro, st := start(ctx, http.MethodPut)
	opt := &gitlab.UpdateProjectVariableOptions{
		Value:            gitlab.Ptr(v.Value),
		Description:      optString(v.Description),
		EnvironmentScope: optString(v.EnvironmentScope),
		Filter:           scopeFilter(v.EnvironmentScope),
		Masked:           gitlab.Ptr(v.Masked),
		Protected:        gitlab.Ptr(v.Protected),
		Raw:              gitlab.Ptr(v.Raw),
		VariableType:     variableType(v.VariableType),
	}
	var pv *gitlab.ProjectVariable
	var err error
	if target.Kind == TargetGroup {
		var gv *gitlab.GroupVariable
		gv, _, err = c.gl.GroupVariables.UpdateVariable(target.ID, v.Key, (*gitlab.UpdateGroupVariableOptions)(opt), ro)
		pv = (*gitlab.ProjectVariable)(gv)
	} else {
		pv, _, err = c.gl.ProjectVariables.UpdateVariable(target.ID, v.Key, opt, ro)
	}
	if err != nil {
		return Variable{}, fail(op, target.resource(), st, err)
	}
	return fromProjectVariable(pv), nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func variableType(t string) *gitlab.VariableTypeValue {
	if t == "" {
		return nil
	}
	return gitlab.Ptr(gitlab.VariableTypeValue(t))
}

func fromProjectVariable(v *gitlab.ProjectVariable) Variable {
	return Variable{
		Key: v.Key, Value: v.Value, VariableType: string(v.VariableType),
		Protected: v.Protected, Masked: v.Masked, Raw: v.Raw,
		EnvironmentScope: v.EnvironmentScope, Description: v.Description,
	}
}
