package gitlabfake

import (
	"net/http"
	"regexp"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
)

// varOwner is the project or the group whose variables a request touches.
type varOwner struct {
	project *project
	group   *group
}

func (o varOwner) path() string {
	if o.group != nil {
		return o.group.fullPath
	}
	return o.project.path
}

func (o varOwner) vars() *[]*gitlabapi.Variable {
	if o.group != nil {
		return &o.group.vars
	}
	return &o.project.vars
}

// required is the role GitLab wants for CI/CD variables: Maintainer of a
// project, Owner of a group (gitlabhq doc/ci/variables/_index.md).
func (o varOwner) required() gitlabapi.AccessLevel {
	if o.group != nil {
		return gitlabapi.Owner
	}
	return gitlabapi.Maintainer
}

const ambiguousVariable = "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'."

var keyPattern = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

// maskablePattern is what a masked value with variable expansion (raw=false)
// may contain; with raw=true any non-space character is allowed.
var maskablePattern = regexp.MustCompile(`^[a-zA-Z0-9_:@\-+.~=/]+$`)

func variableJSON(v *gitlabapi.Variable) map[string]any {
	var desc any
	if v.Description != "" {
		desc = v.Description
	}
	return map[string]any{
		"variable_type": v.VariableType, "key": v.Key, "value": v.Value, "hidden": false,
		"protected": v.Protected, "masked": v.Masked, "raw": v.Raw,
		"environment_scope": v.EnvironmentScope, "description": desc,
	}
}

func (f *Fake) variables(c *call, o varOwner, s []string) {
	if !c.user.may(o.path(), o.required()) {
		c.forbidden()
		return
	}
	m := c.r.Method
	switch {
	case len(s) == 0 && m == "GET":
		vs := *o.vars()
		from, to := c.paginate(len(vs))
		out := []map[string]any{}
		for _, v := range vs[from:to] {
			out = append(out, variableJSON(v))
		}
		c.json(http.StatusOK, out)
	case len(s) == 0 && m == "POST":
		f.createVariable(c, o)
	case len(s) == 1 && (m == "GET" || m == "PUT"):
		v := c.selectVariable(o, s[0])
		if v == nil {
			return
		}
		if m == "GET" {
			c.json(http.StatusOK, variableJSON(v))
			return
		}
		f.updateVariable(c, o, v)
	default:
		c.json(http.StatusMethodNotAllowed, map[string]string{"error": "405 Not Allowed"})
	}
}

// selectVariable finds key, narrowed by filter[environment_scope]; it
// answers 404 or 409 (several scopes, no filter) itself and returns nil.
func (c *call) selectVariable(o varOwner, key string) *gitlabapi.Variable {
	scope, filtered := c.str("filter[environment_scope]")
	var found []*gitlabapi.Variable
	for _, v := range *o.vars() {
		if v.Key == key && (!filtered || v.EnvironmentScope == scope) {
			found = append(found, v)
		}
	}
	switch len(found) {
	case 0:
		c.notFound("Variable")
		return nil
	case 1:
		return found[0]
	}
	c.message(http.StatusConflict, ambiguousVariable)
	return nil
}

func (f *Fake) createVariable(c *call, o varOwner) {
	key, _ := c.str("key")
	value, hasValue := c.str("value")
	if key == "" {
		c.json(http.StatusBadRequest, map[string]string{"error": "key is missing"})
		return
	}
	if !hasValue {
		c.json(http.StatusBadRequest, map[string]string{"error": "value is missing"})
		return
	}
	v := &gitlabapi.Variable{Key: key, Value: value, VariableType: "env_var", EnvironmentScope: "*"}
	if !c.applyVariableParams(v) {
		return
	}
	if hidden, _, _ := c.boolean("masked_and_hidden"); hidden {
		v.Masked = true
	}
	if !c.validVariable(o, v, nil) {
		return
	}
	*o.vars() = append(*o.vars(), v)
	c.json(http.StatusCreated, variableJSON(v))
}

func (f *Fake) updateVariable(c *call, o varOwner, v *gitlabapi.Variable) {
	next := *v
	if value, ok := c.str("value"); ok {
		next.Value = value
	}
	if !c.applyVariableParams(&next) || !c.validVariable(o, &next, v) {
		return
	}
	*v = next
	c.json(http.StatusOK, variableJSON(v))
}

// applyVariableParams copies the optional attributes shared by POST and PUT.
func (c *call) applyVariableParams(v *gitlabapi.Variable) bool {
	if t, ok := c.str("variable_type"); ok {
		if t != "env_var" && t != "file" {
			c.json(http.StatusBadRequest, map[string]string{"error": "variable_type does not have a valid value"})
			return false
		}
		v.VariableType = t
	}
	if s, ok := c.str("environment_scope"); ok && s != "" {
		v.EnvironmentScope = s
	}
	if d, ok := c.str("description"); ok {
		v.Description = d
	}
	for name, dst := range map[string]*bool{"protected": &v.Protected, "masked": &v.Masked, "raw": &v.Raw} {
		b, given, err := c.boolean(name)
		if err != nil {
			c.json(http.StatusBadRequest, map[string]string{"error": err.Error()})
			return false
		}
		if given {
			*dst = b
		}
	}
	return true
}

// validVariable applies GitLab's model validations; self is the variable
// being updated (nil on create). It answers 400 itself.
func (c *call) validVariable(o varOwner, v, self *gitlabapi.Variable) bool {
	errs := map[string][]string{}
	if len(v.Key) > 255 {
		errs["key"] = append(errs["key"], "is too long (maximum is 255 characters)")
	}
	if !keyPattern.MatchString(v.Key) {
		errs["key"] = append(errs["key"], "can contain only letters, digits and '_'.")
	}
	if len(v.Value) > 10000 {
		errs["value"] = append(errs["value"], "is too long (maximum is 10000 characters)")
	}
	nameClash := false // a masked value may not equal another variable's name
	for _, other := range *o.vars() {
		if other == self {
			continue
		}
		if other.Key == v.Key && other.EnvironmentScope == v.EnvironmentScope {
			errs["key"] = append(errs["key"], v.Key+" has already been taken")
		}
		nameClash = nameClash || other.Key == v.Value
	}
	if v.Masked && (nameClash || !maskable(v.Value, v.Raw)) {
		errs["value"] = append(errs["value"], "is invalid")
	}
	if len(errs) > 0 {
		c.message(http.StatusBadRequest, errs)
		return false
	}
	return true
}

// maskable reports whether GitLab can mask value: one line, no spaces, at
// least 8 characters, and only _:@-+.~=/ besides letters and digits unless
// the variable is raw.
func maskable(value string, raw bool) bool {
	if len(value) < 8 || strings.ContainsAny(value, " \t\r\n") {
		return false
	}
	return raw || maskablePattern.MatchString(value)
}
