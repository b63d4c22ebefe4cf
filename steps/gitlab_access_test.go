package steps

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/token"
)

func TestCheckAccess(t *testing.T) {
	tests := map[string]struct {
		token    string
		project  string
		scope    string
		group    string
		want     []string // substrings of each blocking problem, in order
		wantNote bool
	}{
		"Maintainer, project variable":   {token: glMaintainer, project: "acme/payments", scope: "project"},
		"Owner of the group, group var":  {token: glOwner, project: "acme/payments", scope: "group"},
		"admin may do anything":          {token: "glpat-admin", project: "acme/payments", scope: "group"},
		"Developer, project variable":    {token: glDeveloper, project: "acme/payments", scope: "project", want: []string{"you are Developer of acme/payments; setting project variables needs Maintainer"}},
		"Maintainer, group variable":     {token: glMaintainer, project: "acme/payments", scope: "group", want: []string{"you are not a member of acme; group variables need Owner of acme"}},
		"explicit group of another tree": {token: glOwner, project: "acme/payments", scope: "group", group: "other", want: []string{"cannot read group other", "hides private groups"}},
		"invisible project":              {token: glDeveloper, project: "acme/secret", scope: "project", want: []string{"@dev cannot read project acme/secret", "GitLab answers 404 for private projects"}},
		"revoked token":                  {token: "glpat-revoked", project: "acme/payments", want: []string{"the GitLab token does not work", "invalid, expired or revoked"}},
		"old instance":                   {token: glMaintainer, project: "acme/legacy", scope: "project", wantNote: true},
		"personal project, group var":    {token: glMaintainer, project: "maria/tools", scope: "group", want: []string{"personal namespace maria", "--variable-scope project"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := gitlabWorld(t)
			srv.AddProject(gitlabfake.Project{Path: "acme/secret"})
			srv.AddProject(gitlabfake.Project{Path: "acme/legacy"})
			srv.AddProject(gitlabfake.Project{Path: "maria/tools", Personal: true, SubClaimComponents: token.DefaultSubComponents})
			srv.AddGroup("other")
			srv.SetAccess(glMaintainer, "acme/legacy", gitlabapi.Maintainer)
			srv.SetAccess(glMaintainer, "maria/tools", gitlabapi.Owner)
			srv.AddUser("glpat-admin", "root")
			srv.SetAdmin("glpat-admin", true)

			problems := CheckAccess(context.Background(), gitlabClient(t, srv, tc.token), tc.project, tc.scope, tc.group)
			var blocking []AccessProblem
			notes := 0
			for _, p := range problems {
				if p.Blocking {
					blocking = append(blocking, p)
				} else {
					notes++
				}
			}
			require.Len(t, blocking, min(len(tc.want), 1), "%v", problems)
			for _, w := range tc.want {
				assert.Contains(t, blocking[0].String(), w)
			}
			assert.Equal(t, tc.wantNote, notes > 0, "%v", problems)
			assert.Empty(t, srv.Writes(), "checking access only reads")
		})
	}
}
