package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/token"
)

// AccessProblem is one thing the GitLab token cannot do that setup needs,
// said in words with what to do about it.
type AccessProblem struct {
	// What names the gap: "you are Developer of acme/payments; setting
	// project variables needs Maintainer".
	What string
	// Fix says how to close it.
	Fix string
	// Blocking is false for notes that do not stop setup.
	Blocking bool
}

func (p AccessProblem) String() string {
	if p.Fix == "" {
		return p.What
	}
	return p.What + "; " + p.Fix
}

// CheckAccess reads who the token is and what it may do on project, and
// returns everything that would make setup fail: an unusable token, a
// project it cannot see, a role too low for the CI/CD variable at
// variableScope ("project" needs Maintainer, "group" needs Owner of group,
// which defaults to the project's parent group). It only reads. An empty
// result means setup can proceed.
func CheckAccess(ctx context.Context, gl gitlabapi.Client, project, variableScope string, group string) []AccessProblem {
	user, err := gl.CurrentUser(ctx)
	if err != nil {
		return []AccessProblem{problemFromError("the GitLab token does not work", err)}
	}
	p, err := gl.Project(ctx, project)
	if err != nil {
		return []AccessProblem{problemFromError(fmt.Sprintf("@%s cannot read project %s", user.Username, project), err)}
	}
	return accessProblems(ctx, gl, user, p, variableScope, group)
}

// accessProblems judges what was already read: the user and the project.
func accessProblems(ctx context.Context, gl gitlabapi.Client, user gitlabapi.User, p gitlabapi.Project, variableScope, group string) []AccessProblem {
	var problems []AccessProblem
	if p.SubClaimComponents == nil {
		problems = append(problems, AccessProblem{
			What: fmt.Sprintf("GitLab did not report ci_id_token_sub_claim_components for %s (an instance older than 17.10)", p.PathWithNamespace),
			Fix:  "assuming the default sub claim " + strings.Join(token.DefaultSubComponents, ",") + "; custom components need GitLab 17.10 or later",
		})
	}
	switch variableScope {
	case "", gitlabapi.TargetProject:
		if !user.IsAdmin && p.AccessLevel < gitlabapi.Maintainer {
			problems = append(problems, AccessProblem{Blocking: true,
				What: fmt.Sprintf("you are %s of %s; setting project variables needs Maintainer", roleOf(p.AccessLevel), p.PathWithNamespace),
				Fix:  "ask an Owner of " + p.PathWithNamespace + " for the Maintainer role, or let a Maintainer run setup",
			})
		}
	case gitlabapi.TargetGroup:
		problems = append(problems, checkGroupAccess(ctx, gl, user, p, group)...)
	default:
		problems = append(problems, AccessProblem{Blocking: true,
			What: fmt.Sprintf("variable scope %q is neither project nor group", variableScope), Fix: "use --variable-scope project or group"})
	}
	return problems
}

func checkGroupAccess(ctx context.Context, gl gitlabapi.Client, user gitlabapi.User, p gitlabapi.Project, group string) []AccessProblem {
	if group == "" {
		if p.NamespaceKind == "user" {
			return []AccessProblem{{Blocking: true,
				What: fmt.Sprintf("%s lives in the personal namespace %s, which has no group variables", p.PathWithNamespace, p.NamespacePath),
				Fix:  "use project variables (--variable-scope project)"}}
		}
		group = p.NamespacePath
	}
	g, err := gl.Group(ctx, group)
	if err != nil {
		return []AccessProblem{problemFromError(fmt.Sprintf("@%s cannot read group %s", user.Username, group), err)}
	}
	if !user.IsAdmin && g.AccessLevel < gitlabapi.Owner {
		return []AccessProblem{{Blocking: true,
			What: fmt.Sprintf("you are %s of %s; group variables need Owner of %s", roleOf(g.AccessLevel), g.FullPath, g.FullPath),
			Fix:  "ask an Owner of " + g.FullPath + " to run setup, or store the variable in the project (--variable-scope project)"}}
	}
	return nil
}

// SubComponentsOf is the project's sub claim shape, GitLab's default when
// the instance does not report one.
func SubComponentsOf(p gitlabapi.Project) []string {
	if p.SubClaimComponents == nil {
		return token.DefaultSubComponents
	}
	return p.SubClaimComponents
}

func roleOf(l gitlabapi.AccessLevel) string {
	if l == gitlabapi.NoAccess {
		return "not a member"
	}
	return l.String()
}

// problemFromError turns a failed read into a blocking problem, keeping the
// hint of a *gitlabapi.Error.
func problemFromError(what string, err error) AccessProblem {
	var ge *gitlabapi.Error
	if !errors.As(err, &ge) {
		return AccessProblem{Blocking: true, What: what + ": " + err.Error()}
	}
	why := ge.Why
	if ge.Status == http.StatusNotFound || ge.Status == http.StatusUnauthorized {
		return AccessProblem{Blocking: true, What: what + ": " + why, Fix: ge.Fix}
	}
	return AccessProblem{Blocking: true, What: what + ": " + ge.What + " (" + why + ")", Fix: ge.Fix}
}
