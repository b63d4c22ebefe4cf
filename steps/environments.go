package steps

import (
	"fmt"
	"regexp"
	"strings"
)

// EnvChoice is one deployment environment with its own role: who may deploy
// to it and with which permissions.
type EnvChoice struct {
	Name       string
	Allow      []Allow
	PolicyARNs []string
	Templates  []TemplateChoice
	// Tier is GitLab's deployment_tier (production, staging, testing,
	// development, other); used only when the sub claim includes it.
	Tier string
}

var envNameRE = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)

// ParseEnvironment parses "production=branch:main" or
// "staging=branch:*+tag:rc-*" (several allows joined with '+').
func ParseEnvironment(spec string) (EnvChoice, error) {
	name, allows, ok := strings.Cut(spec, "=")
	if !ok || name == "" || allows == "" {
		return EnvChoice{}, fmt.Errorf("--environment %q: expected NAME=ALLOW[+ALLOW...], e.g. production=branch:main", spec)
	}
	if !envNameRE.MatchString(name) {
		return EnvChoice{}, fmt.Errorf("--environment %q: %q is not a usable environment name (letters, digits, _ . / -)", spec, name)
	}
	env := EnvChoice{Name: name, Tier: tierFor(name)}
	for _, a := range strings.Split(allows, "+") {
		allow, err := ParseAllow(a)
		if err != nil {
			return EnvChoice{}, fmt.Errorf("--environment %s: %w", name, err)
		}
		env.Allow = append(env.Allow, allow)
	}
	return env, nil
}

// tierFor guesses GitLab's deployment tier from the environment name the
// way GitLab does when none is set.
func tierFor(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "prod") || n == "live":
		return "production"
	case strings.HasPrefix(n, "stag") || strings.HasPrefix(n, "model") || strings.HasPrefix(n, "pre"):
		return "staging"
	case strings.HasPrefix(n, "test") || strings.HasPrefix(n, "qa"):
		return "testing"
	case strings.HasPrefix(n, "dev") || strings.HasPrefix(n, "review"):
		return "development"
	}
	return "other"
}

// PlanEnvironments builds one plan per environment from shared base choices:
// role "<base>-<env>", the variable scoped to the environment, protected only
// when every ref allowed for it is protected.
func (r *Runner) PlanEnvironments(conn *Connection, base Choices, envs []EnvChoice) ([]Plan, error) {
	seen := map[string]bool{}
	var plans []Plan
	for _, env := range envs {
		if seen[env.Name] {
			return nil, fmt.Errorf("environment %q is given twice", env.Name)
		}
		seen[env.Name] = true
		ch := base
		ch.Allow = env.Allow
		ch.PolicyARNs = append(append([]string(nil), base.PolicyARNs...), env.PolicyARNs...)
		ch.Templates = append(append([]TemplateChoice(nil), base.Templates...), env.Templates...)
		ch.EnvironmentScope = env.Name
		stem := base.RoleName
		if stem == "" {
			stem = DefaultRoleName(conn.Project.Path, nil)
		}
		ch.RoleName = roleNameWithSuffix(stem, envSuffix(env.Name))
		p, err := r.Plan(conn, ch)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", env.Name, err)
		}
		p.Environment = env.Name
		p.DeploymentTier = env.Tier
		plans = append(plans, p)
	}
	return plans, nil
}

// roleNameWithSuffix appends "-suffix" and keeps the name within IAM's 64.
func roleNameWithSuffix(stem, suffix string) string {
	return fitRoleName(stem + "-" + suffix)
}
