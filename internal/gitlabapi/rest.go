package gitlabapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

// Option tunes the real client (mostly for tests that cannot wait).
type Option func(*retryPolicy)

// WithRetries sets how often a safe GET is retried after 429 or 5xx and the
// exponential backoff bounds used when GitLab sends no Retry-After.
func WithRetries(maxRetries int, minWait, maxWait time.Duration) Option {
	return func(p *retryPolicy) {
		p.max, p.minWait, p.maxWait = maxRetries, minWait, maxWait
	}
}

// WithMaxRetryAfter caps how long a Retry-After is honoured; a longer wait
// is not retried but reported in the error so the user decides.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(p *retryPolicy) { p.maxRetryAfter = d }
}

// restClient is the Client backed by client-go.
type restClient struct {
	gl      *gitlab.Client
	baseURL string

	userOnce sync.Mutex
	user     *User
}

// New returns a Client for the GitLab instance at baseURL (e.g.
// https://gitlab.com, with or without /api/v4) authenticated by a personal,
// project or group access token. httpClient may be nil; it is copied, never
// modified. GETs are retried on 429 and 5xx (3 times by default, honouring
// Retry-After up to 20 s); writes are never retried.
func New(baseURL, token string, httpClient *http.Client, opts ...Option) (Client, error) {
	policy := retryPolicy{max: 3, minWait: 500 * time.Millisecond, maxWait: 5 * time.Second, maxRetryAfter: 20 * time.Second}
	for _, o := range opts {
		o(&policy)
	}
	hc := &http.Client{}
	if httpClient != nil {
		copied := *httpClient
		hc = &copied
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = inspectTransport{next: next}
	base := strings.TrimSuffix(strings.TrimSuffix(baseURL, "/"), "/api/v4")
	gl, err := gitlab.NewClient(token,
		gitlab.WithBaseURL(base),
		gitlab.WithHTTPClient(hc),
		gitlab.WithCustomRetry(policy.check),
		gitlab.WithCustomBackoff(policy.backoff),
		gitlab.WithCustomRetryMax(policy.max),
		gitlab.WithUserAgent("gitlab-oidc"),
	)
	if err != nil {
		return nil, fmt.Errorf("GitLab URL %q: %w", baseURL, err)
	}
	return &restClient{gl: gl, baseURL: base}, nil
}

func (c *restClient) BaseURL() string { return c.baseURL }

// start prepares one API call: its context carries the state the transport
// fills in, and the returned request option hands that context to client-go.
func start(ctx context.Context, method string) (gitlab.RequestOptionFunc, *callState) {
	ctx, st := withCallState(ctx, method)
	return gitlab.WithContext(ctx), st
}

// fail converts a client-go error into an *Error using what the transport saw.
func fail(op string, res resource, st *callState, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) {
		return newError(op, res, 0, "", 0, err)
	}
	msg := st.message
	if msg == "" {
		msg = er.Message
	}
	return newError(op, res, er.StatusCode, msg, st.retryAfter, err)
}

func (c *restClient) CurrentUser(ctx context.Context) (User, error) {
	c.userOnce.Lock()
	defer c.userOnce.Unlock()
	if c.user != nil {
		return *c.user, nil
	}
	ro, st := start(ctx, http.MethodGet)
	u, _, err := c.gl.Users.CurrentUser(ro)
	if err != nil {
		return User{}, fail("read the token's user (GET /user)", resUser, st, err)
	}
	c.user = &User{ID: u.ID, Username: u.Username, IsAdmin: u.IsAdmin}
	return *c.user, nil
}

func (c *restClient) Project(ctx context.Context, idOrPath string) (Project, error) {
	ro, st := start(ctx, http.MethodGet)
	p, _, err := c.gl.Projects.GetProject(idOrPath, nil, ro)
	if err != nil {
		return Project{}, fail("read project "+idOrPath, resProject, st, err)
	}
	return toProject(p), nil
}

func (c *restClient) Group(ctx context.Context, idOrPath string) (Group, error) {
	ro, st := start(ctx, http.MethodGet)
	// with_projects=false keeps GitLab from embedding every project of the
	// group in the answer; the field is deprecated only in favour of a
	// separate list call, which we make when we want projects.
	//lint:ignore SA1019 the API still honours it and it saves a large response
	g, _, err := c.gl.Groups.GetGroup(idOrPath, &gitlab.GetGroupOptions{WithProjects: gitlab.Ptr(false)}, ro)
	if err != nil {
		return Group{}, fail("read group "+idOrPath, resGroup, st, err)
	}
	out := Group{ID: g.ID, FullPath: g.FullPath}
	u, err := c.CurrentUser(ctx)
	if err != nil {
		return out, err
	}
	ro, st = start(ctx, http.MethodGet)
	m, _, err := c.gl.GroupMembers.GetInheritedGroupMember(g.ID, u.ID, ro)
	switch {
	case err == nil:
		out.AccessLevel = AccessLevel(m.AccessLevel)
	case st.status == http.StatusNotFound:
		out.AccessLevel = NoAccess // not a member, directly or through a parent
	default:
		return out, fail("read your membership of group "+g.FullPath, resGroup, st, err)
	}
	return out, nil
}

// allPages calls list for page 1, 2, ... until GitLab reports no next page
// (x-next-page), converting each item with conv.
func allPages[T, R any](ctx context.Context, op string, res resource, list func(page int64, ro gitlab.RequestOptionFunc) ([]T, *gitlab.Response, error), conv func(T) R) ([]R, error) {
	var out []R
	for page := int64(1); ; {
		ro, st := start(ctx, http.MethodGet)
		items, resp, err := list(page, ro)
		if err != nil {
			return nil, fail(op, res, st, err)
		}
		for _, it := range items {
			out = append(out, conv(it))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		page = resp.NextPage
	}
}

func (c *restClient) GroupProjects(ctx context.Context, group string, includeSubgroups bool) ([]Project, error) {
	return allPages(ctx, "list projects of group "+group, resGroup,
		func(page int64, ro gitlab.RequestOptionFunc) ([]*gitlab.Project, *gitlab.Response, error) {
			return c.gl.Groups.ListGroupProjects(group, &gitlab.ListGroupProjectsOptions{
				ListOptions:      gitlab.ListOptions{PerPage: 100, Page: page},
				IncludeSubGroups: gitlab.Ptr(includeSubgroups),
			}, ro)
		}, toProject)
}

func (c *restClient) ProtectedBranches(ctx context.Context, projectID int64) ([]ProtectedRef, error) {
	return allPages(ctx, fmt.Sprintf("list protected branches of project %d", projectID), resProject,
		func(page int64, ro gitlab.RequestOptionFunc) ([]*gitlab.ProtectedBranch, *gitlab.Response, error) {
			opt := &gitlab.ListProtectedBranchesOptions{ListOptions: gitlab.ListOptions{PerPage: 100, Page: page}}
			return c.gl.ProtectedBranches.ListProtectedBranches(projectID, opt, ro)
		}, func(b *gitlab.ProtectedBranch) ProtectedRef { return ProtectedRef{Name: b.Name} })
}

func (c *restClient) ProtectedTags(ctx context.Context, projectID int64) ([]ProtectedRef, error) {
	return allPages(ctx, fmt.Sprintf("list protected tags of project %d", projectID), resProject,
		func(page int64, ro gitlab.RequestOptionFunc) ([]*gitlab.ProtectedTag, *gitlab.Response, error) {
			opt := &gitlab.ListProtectedTagsOptions{ListOptions: gitlab.ListOptions{PerPage: 100, Page: page}}
			return c.gl.ProtectedTags.ListProtectedTags(projectID, opt, ro)
		}, func(t *gitlab.ProtectedTag) ProtectedRef { return ProtectedRef{Name: t.Name} })
}

func (c *restClient) SetSubClaimComponents(ctx context.Context, projectID int64, components []string) error {
	ro, st := start(ctx, http.MethodPut)
	_, _, err := c.gl.Projects.EditProject(projectID, &gitlab.EditProjectOptions{
		CIIdTokenSubClaimComponents: &components,
	}, ro)
	return fail(fmt.Sprintf("set ci_id_token_sub_claim_components of project %d", projectID), resProjectWrite, st, err)
}

func toProject(p *gitlab.Project) Project {
	out := Project{
		ID:                 p.ID,
		PathWithNamespace:  p.PathWithNamespace,
		WebURL:             p.WebURL,
		DefaultBranch:      p.DefaultBranch,
		Visibility:         string(p.Visibility),
		SubClaimComponents: p.CIIdTokenSubClaimComponents,
	}
	if p.Namespace != nil {
		out.NamespaceID = p.Namespace.ID
		out.NamespacePath = p.Namespace.FullPath
		out.NamespaceKind = p.Namespace.Kind
	}
	if p.Permissions != nil {
		if pa := p.Permissions.ProjectAccess; pa != nil {
			out.AccessLevel = max(out.AccessLevel, AccessLevel(pa.AccessLevel))
		}
		if ga := p.Permissions.GroupAccess; ga != nil {
			out.AccessLevel = max(out.AccessLevel, AccessLevel(ga.AccessLevel))
		}
	}
	return out
}

func formatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}
