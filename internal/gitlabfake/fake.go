// Package gitlabfake is a stateful, in-memory GitLab REST API (/api/v4) for
// tests and for `setup --demo`. It implements only the endpoints gitlab-oidc
// uses, with the JSON shapes, status codes and validation messages of the
// GitLab API documentation, so the real client (internal/gitlabapi) runs
// against it unchanged: over a socket (Start) or in-process (Transport).
package gitlabfake

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"gitlab-oidc/internal/gitlabapi"
)

// Fake is the state of one fake GitLab instance. All methods are safe for
// concurrent use.
type Fake struct {
	mu      sync.Mutex
	baseURL string
	nextID  int64

	users    map[string]*user // by token
	groups   map[string]*group
	projects map[int64]*project
	faults   []fault
	log      []Request
}

type user struct {
	id       int64
	username string
	admin    bool
	access   map[string]gitlabapi.AccessLevel // group or project full path -> level
}

type group struct {
	id         int64
	fullPath   string
	visibility string
	vars       []*gitlabapi.Variable
}

type project struct {
	id                int64
	path              string
	namespace         *group // nil for a personal project
	defaultBranch     string
	visibility        string
	subClaim          []string
	protectedBranches []string
	protectedTags     []string
	vars              []*gitlabapi.Variable
	pipelines         map[int64]gitlabapi.Pipeline
	jobs              map[int64]gitlabapi.Job
	traces            map[int64]string
	createdAt         time.Time
}

// Project describes a project to seed. Path is the full path
// ("acme/payments"); its parent groups are created as needed unless
// Personal is set (then the parent is a user namespace).
type Project struct {
	ID            int64 // 0 picks the next free ID
	Path          string
	DefaultBranch string // "main" when empty
	Visibility    string // "private" when empty
	// SubClaimComponents is ci_id_token_sub_claim_components; nil means the
	// instance does not report the attribute (GitLab before 17.10).
	SubClaimComponents []string
	ProtectedBranches  []string
	ProtectedTags      []string
	Personal           bool
}

// Request is one request the fake served, for asserting what a step did.
type Request struct {
	Method string
	Path   string // escaped, as sent: /api/v4/projects/acme%2Fpayments
	Query  string
	Status int
}

// IsWrite reports whether the request could have changed state.
func (r Request) IsWrite() bool { return r.Method != "GET" && r.Method != "HEAD" }

// New returns an empty fake whose URLs (web_url and so on) start with
// https://gitlab.example.com until Start or SetBaseURL says otherwise.
func New() *Fake {
	return &Fake{
		baseURL:  "https://gitlab.example.com",
		nextID:   100,
		users:    map[string]*user{},
		groups:   map[string]*group{},
		projects: map[int64]*project{},
	}
}

// SetBaseURL sets the instance URL used in web_url fields.
func (f *Fake) SetBaseURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.baseURL = strings.TrimSuffix(u, "/")
}

// BaseURL is the instance URL used in web_url fields.
func (f *Fake) BaseURL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.baseURL
}

func (f *Fake) newID() int64 {
	f.nextID++
	return f.nextID
}

// AddUser registers a user reachable with token and returns its ID.
func (f *Fake) AddUser(token, username string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := &user{id: f.newID(), username: username, access: map[string]gitlabapi.AccessLevel{}}
	f.users[token] = u
	return u.id
}

// SetAdmin makes the token's user an instance administrator (who sees and
// may change everything, like on GitLab).
func (f *Fake) SetAdmin(token string, admin bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustUser(token).admin = admin
}

// SetAccess gives the token's user a membership of the group or project at
// path. Group memberships are inherited by subgroups and their projects.
func (f *Fake) SetAccess(token, path string, level gitlabapi.AccessLevel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustUser(token).access[path] = level
}

func (f *Fake) mustUser(token string) *user {
	u, ok := f.users[token]
	if !ok {
		panic("gitlabfake: no user for this token (call AddUser first)")
	}
	return u
}

// AddGroup creates the group at fullPath (and its parents) and returns its
// ID; an existing group's ID is returned unchanged.
func (f *Fake) AddGroup(fullPath string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addGroup(fullPath).id
}

func (f *Fake) addGroup(fullPath string) *group {
	if g, ok := f.groups[fullPath]; ok {
		return g
	}
	if i := strings.LastIndex(fullPath, "/"); i > 0 {
		f.addGroup(fullPath[:i])
	}
	g := &group{id: f.newID(), fullPath: fullPath, visibility: "private"}
	f.groups[fullPath] = g
	return g
}

// AddProject seeds a project and returns its ID.
func (f *Fake) AddProject(p Project) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.ID == 0 {
		p.ID = f.newID()
	}
	if p.DefaultBranch == "" {
		p.DefaultBranch = "main"
	}
	if p.Visibility == "" {
		p.Visibility = "private"
	}
	pr := &project{
		id: p.ID, path: p.Path, defaultBranch: p.DefaultBranch, visibility: p.Visibility,
		subClaim:          p.SubClaimComponents,
		protectedBranches: p.ProtectedBranches, protectedTags: p.ProtectedTags,
		pipelines: map[int64]gitlabapi.Pipeline{}, jobs: map[int64]gitlabapi.Job{}, traces: map[int64]string{},
		createdAt: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC),
	}
	if i := strings.LastIndex(p.Path, "/"); i > 0 && !p.Personal {
		pr.namespace = f.addGroup(p.Path[:i])
	}
	f.projects[p.ID] = pr
	return p.ID
}

// AddPipeline seeds a pipeline of a project.
func (f *Fake) AddPipeline(projectID int64, p gitlabapi.Pipeline) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustProject(projectID).pipelines[p.ID] = p
}

// AddJob seeds a job of a project; its PipelineID should name a pipeline
// added with AddPipeline so the job's pipeline object is complete.
func (f *Fake) AddJob(projectID int64, j gitlabapi.Job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j.ProjectID = projectID
	f.mustProject(projectID).jobs[j.ID] = j
}

// SetTrace sets the log of a job.
func (f *Fake) SetTrace(projectID, jobID int64, log string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustProject(projectID).traces[jobID] = log
}

func (f *Fake) mustProject(id int64) *project {
	p, ok := f.projects[id]
	if !ok {
		panic(fmt.Sprintf("gitlabfake: no project %d (AddProject first)", id))
	}
	return p
}

// AddVariable seeds a CI/CD variable without any validation (to model
// states the API would refuse to create, such as duplicates from old
// instances). target.ID is a numeric project ID or a group's full path.
func (f *Fake) AddVariable(target gitlabapi.VariableTarget, v gitlabapi.Variable) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v.EnvironmentScope == "" {
		v.EnvironmentScope = "*"
	}
	if v.VariableType == "" {
		v.VariableType = "env_var"
	}
	if target.Kind == gitlabapi.TargetGroup {
		g := f.addGroup(target.ID)
		g.vars = append(g.vars, &v)
		return
	}
	p := f.findProject(target.ID)
	if p == nil {
		panic(fmt.Sprintf("gitlabfake: no project %q", target.ID))
	}
	p.vars = append(p.vars, &v)
}

// Variables returns a copy of a project's variables, sorted by key and scope.
func (f *Fake) Variables(projectID int64) []gitlabapi.Variable {
	f.mu.Lock()
	defer f.mu.Unlock()
	return copyVars(f.mustProject(projectID).vars)
}

// GroupVariables returns a copy of a group's variables.
func (f *Fake) GroupVariables(fullPath string) []gitlabapi.Variable {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g, ok := f.groups[fullPath]; ok {
		return copyVars(g.vars)
	}
	return nil
}

// SubClaimComponents returns a project's ci_id_token_sub_claim_components.
func (f *Fake) SubClaimComponents(projectID int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.mustProject(projectID).subClaim...)
}

func copyVars(vs []*gitlabapi.Variable) []gitlabapi.Variable {
	out := make([]gitlabapi.Variable, 0, len(vs))
	for _, v := range vs {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].EnvironmentScope < out[j].EnvironmentScope
	})
	return out
}

// Requests returns the requests served so far, in order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.log...)
}

// Writes returns the requests that could have changed state.
func (f *Fake) Writes() []Request {
	var out []Request
	for _, r := range f.Requests() {
		if r.IsWrite() {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the request log (state is kept).
func (f *Fake) ResetRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = nil
}

// fault is one queued failure.
type fault struct {
	method     string
	pattern    string
	status     int
	retryAfter time.Duration
}

// FailNext makes the next request matching pattern fail with status (429,
// 500, 503, ...) and, when retryAfter > 0, a Retry-After header in whole
// seconds. pattern is a path.Match glob over the escaped path after
// /api/v4, optionally led by a method: "/user", "/projects/*/variables/*",
// "PUT /projects/*". Each call queues one failure.
func (f *Fake) FailNext(pattern string, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := fault{pattern: pattern, status: status, retryAfter: retryAfter}
	if m, p, ok := strings.Cut(pattern, " "); ok {
		fl.method, fl.pattern = m, p
	}
	fl.pattern = strings.TrimPrefix(fl.pattern, "/api/v4")
	f.faults = append(f.faults, fl)
}
