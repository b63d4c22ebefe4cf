package gitlabapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
)

const (
	maintainerToken = "glpat-maintainer"
	developerToken  = "glpat-developer"
	ownerToken      = "glpat-owner"
	strangerToken   = "glpat-stranger"
)

// world is a fake instance with one project (acme/payments, ID 42) in group
// acme/team and users of each role.
func world(t *testing.T) *gitlabfake.Server {
	t.Helper()
	srv := gitlabfake.Start(t)
	srv.AddProject(gitlabfake.Project{
		ID: 42, Path: "acme/team/payments", DefaultBranch: "main",
		SubClaimComponents: []string{"project_path", "ref_type", "ref"},
		ProtectedBranches:  []string{"main", "release/*"}, ProtectedTags: []string{"v*"},
	})
	srv.AddUser(maintainerToken, "maria")
	srv.SetAccess(maintainerToken, "acme", gitlabapi.Developer)
	srv.SetAccess(maintainerToken, "acme/team/payments", gitlabapi.Maintainer)
	srv.AddUser(developerToken, "dev")
	srv.SetAccess(developerToken, "acme/team/payments", gitlabapi.Developer)
	srv.AddUser(ownerToken, "olga")
	srv.SetAccess(ownerToken, "acme", gitlabapi.Owner)
	srv.AddUser(strangerToken, "sam")
	return srv
}

func client(t *testing.T, srv *gitlabfake.Server, token string, opts ...gitlabapi.Option) gitlabapi.Client {
	t.Helper()
	opts = append([]gitlabapi.Option{gitlabapi.WithRetries(3, time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := gitlabapi.New(srv.URL, token, nil, opts...)
	require.NoError(t, err)
	return c
}

func TestProjectAccessIsMaxOfProjectAndGroup(t *testing.T) {
	srv := world(t)
	tests := map[string]struct {
		token string
		id    string
		want  gitlabapi.AccessLevel
	}{
		"project Maintainer beats group Developer": {maintainerToken, "acme/team/payments", gitlabapi.Maintainer},
		"group Owner inherited by the project":     {ownerToken, "42", gitlabapi.Owner},
		"direct Developer":                         {developerToken, "acme/team/payments", gitlabapi.Developer},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := client(t, srv, tc.token).Project(context.Background(), tc.id)
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.AccessLevel)
			assert.Equal(t, int64(42), p.ID)
			assert.Equal(t, "acme/team/payments", p.PathWithNamespace)
			assert.Equal(t, "acme/team", p.NamespacePath)
			assert.Equal(t, "group", p.NamespaceKind)
			assert.Equal(t, "main", p.DefaultBranch)
			assert.Equal(t, srv.URL+"/acme/team/payments", p.WebURL)
			assert.Equal(t, []string{"project_path", "ref_type", "ref"}, p.SubClaimComponents)
		})
	}
}

func TestProjectWithoutSubClaimAttribute(t *testing.T) {
	srv := world(t)
	srv.AddProject(gitlabfake.Project{ID: 7, Path: "acme/old"})
	srv.SetAccess(maintainerToken, "acme/old", gitlabapi.Maintainer)
	p, err := client(t, srv, maintainerToken).Project(context.Background(), "acme/old")
	require.NoError(t, err)
	assert.Nil(t, p.SubClaimComponents, "an instance that does not report the attribute gives nil (default shape)")
}

func TestCurrentUserAndGroup(t *testing.T) {
	srv := world(t)
	ctx := context.Background()
	c := client(t, srv, ownerToken)
	u, err := c.CurrentUser(ctx)
	require.NoError(t, err)
	assert.Equal(t, "olga", u.Username)

	g, err := c.Group(ctx, "acme/team")
	require.NoError(t, err)
	assert.Equal(t, "acme/team", g.FullPath)
	assert.Equal(t, gitlabapi.Owner, g.AccessLevel, "Owner of acme is Owner of its subgroups")

	g, err = client(t, srv, developerToken).Group(ctx, "acme")
	require.NoError(t, err, "a project member sees the parent group")
	assert.Equal(t, gitlabapi.NoAccess, g.AccessLevel, "project membership is no group membership")
}

func TestGroupProjectsPaginatesAndFollowsSubgroups(t *testing.T) {
	srv := world(t)
	for i := range 130 {
		srv.AddProject(gitlabfake.Project{Path: fmt.Sprintf("acme/svc-%03d", i)})
	}
	c := client(t, srv, ownerToken)
	direct, err := c.GroupProjects(context.Background(), "acme", false)
	require.NoError(t, err)
	assert.Len(t, direct, 130)
	all, err := c.GroupProjects(context.Background(), "acme", true)
	require.NoError(t, err)
	assert.Len(t, all, 131)
	pages := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/projects") {
			pages++
		}
	}
	assert.Equal(t, 4, pages, "two pages of 100 for each listing")
}

func TestProtectedRefs(t *testing.T) {
	srv := world(t)
	c := client(t, srv, developerToken)
	b, err := c.ProtectedBranches(context.Background(), 42)
	require.NoError(t, err)
	assert.Equal(t, []gitlabapi.ProtectedRef{{Name: "main"}, {Name: "release/*"}}, b)
	tags, err := c.ProtectedTags(context.Background(), 42)
	require.NoError(t, err)
	assert.Equal(t, []gitlabapi.ProtectedRef{{Name: "v*"}}, tags)
}

func TestSetSubClaimComponents(t *testing.T) {
	tests := map[string]struct {
		token      string
		components []string
		wantStatus int
		wantText   string
	}{
		"valid":              {maintainerToken, []string{"project_id", "ref_type", "ref"}, 0, ""},
		"wrong first":        {maintainerToken, []string{"ref", "project_path"}, 400, "project_path or project_id must be the first element of the sub claim"},
		"unknown component":  {maintainerToken, []string{"project_path", "pipeline_source"}, 400, "pipeline_source is not an allowed sub claim component"},
		"Developer may not":  {developerToken, []string{"project_id"}, 403, "Maintainer"},
		"stranger sees none": {strangerToken, []string{"project_id"}, 404, "private projects"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := world(t)
			err := client(t, srv, tc.token).SetSubClaimComponents(context.Background(), 42, tc.components)
			if tc.wantStatus == 0 {
				require.NoError(t, err)
				assert.Equal(t, tc.components, srv.SubClaimComponents(42))
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.wantStatus, gitlabapi.StatusOf(err))
			assert.Contains(t, err.Error(), tc.wantText)
			assert.Equal(t, []string{"project_path", "ref_type", "ref"}, srv.SubClaimComponents(42))
		})
	}
}

func TestJobPipelineAndTraceTail(t *testing.T) {
	srv := world(t)
	srv.AddPipeline(42, gitlabapi.Pipeline{ID: 9, Ref: "v1.0.0", Tag: true, Source: "push", Status: "failed", SHA: "abc123"})
	srv.AddJob(42, gitlabapi.Job{ID: 99, Name: "deploy", Ref: "v1.0.0", Tag: true, Status: "failed", FailureReason: "script_failure",
		PipelineID: 9, CreatedAt: "2025-05-12T11:02:13Z"})
	srv.SetTrace(42, 99, strings.Repeat("x", 5000)+"AccessDenied\n")
	ctx := context.Background()
	c := client(t, srv, developerToken)

	j, err := c.Job(ctx, 42, 99)
	require.NoError(t, err)
	assert.Equal(t, gitlabapi.Job{ID: 99, Name: "deploy", Ref: "v1.0.0", Tag: true, Status: "failed", FailureReason: "script_failure",
		PipelineID: 9, ProjectID: 42, CreatedAt: "2025-05-12T11:02:13Z", WebURL: srv.URL + "/acme/team/payments/-/jobs/99"}, j)

	p, err := c.Pipeline(ctx, 42, 9)
	require.NoError(t, err)
	assert.Equal(t, gitlabapi.Pipeline{ID: 9, Ref: "v1.0.0", Tag: true, Source: "push", Status: "failed", SHA: "abc123"}, p)

	tail, err := c.JobTrace(ctx, 42, 99, 16)
	require.NoError(t, err)
	assert.Equal(t, "xxxAccessDenied\n", tail)

	_, err = c.JobTrace(ctx, 42, 100, 16)
	assert.True(t, gitlabapi.IsNotFound(err), "missing job: %v", err)
	_, err = client(t, srv, strangerToken).Job(ctx, 42, 99)
	assert.True(t, gitlabapi.IsNotFound(err), "private project is hidden: %v", err)
}

func TestInProcessTransportReachesNothingElse(t *testing.T) {
	demo := gitlabfake.DemoSeed()
	c, err := gitlabapi.New(gitlabfake.DemoBaseURL, gitlabfake.DemoToken, &http.Client{Transport: demo.Transport()})
	require.NoError(t, err)
	p, err := c.Project(context.Background(), gitlabfake.DemoProject)
	require.NoError(t, err)
	assert.Equal(t, int64(gitlabfake.DemoProjectID), p.ID)
	assert.Equal(t, gitlabapi.Maintainer, p.AccessLevel)
	assert.Equal(t, "https://gitlab.com/acme/payments", p.WebURL)
	log, err := c.JobTrace(context.Background(), p.ID, gitlabfake.DemoFailedJobID, 0)
	require.NoError(t, err)
	assert.Contains(t, log, "AssumeRoleWithWebIdentity")
	assert.Len(t, demo.Requests(), 2)
}
