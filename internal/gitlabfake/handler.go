package gitlabfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
)

// call is one request being served, with the caller resolved.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	user   *user
	seg    []string // decoded path segments after /api/v4
	params map[string]any
	status int
}

func (c *call) json(status int, v any) {
	c.status = status
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	_ = json.NewEncoder(c.w).Encode(v)
}

// message answers GitLab's usual {"message": ...} error body.
func (c *call) message(status int, msg any) { c.json(status, map[string]any{"message": msg}) }

func (c *call) notFound(what string) { c.message(http.StatusNotFound, "404 "+what+" Not Found") }
func (c *call) forbidden()           { c.message(http.StatusForbidden, "403 Forbidden") }

// ServeHTTP serves the fake API. It logs every request, applies queued
// faults, authenticates and routes.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &call{w: w, r: r}
	escaped := r.URL.EscapedPath()
	defer func() {
		f.log = append(f.log, Request{Method: r.Method, Path: escaped, Query: r.URL.RawQuery, Status: c.status})
	}()
	rest, ok := strings.CutPrefix(escaped, "/api/v4/")
	if !ok {
		c.json(http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	if f.injectFault(c, "/"+rest) {
		return
	}
	for _, s := range strings.Split(rest, "/") {
		d, err := url.PathUnescape(s)
		if err != nil {
			c.json(http.StatusBadRequest, map[string]string{"error": "invalid path"})
			return
		}
		c.seg = append(c.seg, d)
	}
	c.user = f.users[token(r)]
	if c.user == nil {
		c.message(http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	if err := c.parseParams(); err != nil {
		c.json(http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	f.route(c)
}

func token(r *http.Request) string {
	if t := r.Header.Get("PRIVATE-TOKEN"); t != "" {
		return t
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	return ""
}

func (f *Fake) injectFault(c *call, rest string) bool {
	for i, fl := range f.faults {
		if fl.method != "" && fl.method != c.r.Method {
			continue
		}
		if ok, _ := path.Match(fl.pattern, rest); !ok {
			continue
		}
		f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
		if fl.retryAfter > 0 {
			c.w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(fl.retryAfter.Seconds()))))
		}
		c.message(fl.status, fmt.Sprintf("%d %s", fl.status, http.StatusText(fl.status)))
		return true
	}
	return false
}

// route dispatches on the decoded segments.
func (f *Fake) route(c *call) {
	s, m := c.seg, c.r.Method
	switch {
	case len(s) == 1 && s[0] == "user" && m == "GET":
		f.getUser(c)
	case len(s) >= 2 && s[0] == "projects":
		p := f.visibleProject(c, s[1])
		if p == nil {
			return
		}
		f.routeProject(c, p, s[2:])
	case len(s) >= 2 && s[0] == "groups":
		g := f.visibleGroup(c, s[1])
		if g == nil {
			return
		}
		f.routeGroup(c, g, s[2:])
	default:
		c.json(http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	}
}

func (f *Fake) routeProject(c *call, p *project, s []string) {
	m := c.r.Method
	switch {
	case len(s) == 0 && m == "GET":
		c.json(http.StatusOK, f.projectJSON(p, c.user))
	case len(s) == 0 && m == "PUT":
		f.editProject(c, p)
	case len(s) == 1 && (s[0] == "protected_branches" || s[0] == "protected_tags") && m == "GET":
		f.protectedRefs(c, p, s[0])
	case len(s) >= 1 && s[0] == "variables":
		f.variables(c, varOwner{project: p}, s[1:])
	case len(s) >= 2 && s[0] == "jobs":
		f.job(c, p, s[1:])
	case len(s) == 2 && s[0] == "pipelines" && m == "GET":
		f.pipeline(c, p, s[1])
	default:
		c.json(http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	}
}

func (f *Fake) routeGroup(c *call, g *group, s []string) {
	m := c.r.Method
	switch {
	case len(s) == 0 && m == "GET":
		c.json(http.StatusOK, f.groupJSON(g))
	case len(s) == 1 && s[0] == "projects" && m == "GET":
		f.groupProjects(c, g)
	case len(s) == 3 && s[0] == "members" && s[1] == "all" && m == "GET":
		f.inheritedMember(c, g, s[2])
	case len(s) >= 1 && s[0] == "variables":
		f.variables(c, varOwner{group: g}, s[1:])
	default:
		c.json(http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	}
}

func (f *Fake) getUser(c *call) {
	u := c.user
	c.json(http.StatusOK, map[string]any{
		"id": u.id, "username": u.username, "name": strings.ToUpper(u.username[:1]) + u.username[1:],
		"state": "active", "is_admin": u.admin, "web_url": f.baseURL + "/" + u.username,
		"avatar_url": nil, "bot": false,
	})
}

// parseParams reads a JSON or form body (GitLab accepts both) and the query.
func (c *call) parseParams() error {
	c.params = map[string]any{}
	for k, v := range c.r.URL.Query() {
		c.params[k] = v[len(v)-1]
	}
	if c.r.Body == nil || c.r.Method == "GET" {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, 1<<20))
	if err != nil || len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if strings.HasPrefix(c.r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("body is not valid JSON: %v", err)
		}
		for k, v := range m {
			c.params[k] = v
		}
		// Flatten {"filter": {"environment_scope": "x"}} like Rack does.
		if fm, ok := m["filter"].(map[string]any); ok {
			for k, v := range fm {
				c.params["filter["+k+"]"] = v
			}
		}
		return nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("body is not valid form data: %v", err)
	}
	for k, v := range form {
		c.params[k] = v[len(v)-1]
	}
	return nil
}

// str returns a string parameter and whether it was given.
func (c *call) str(name string) (string, bool) {
	v, ok := c.params[name]
	if !ok || v == nil {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	default:
		return fmt.Sprint(v), true
	}
}

// boolean returns a boolean parameter (true/false, "true"/"false", 1/0).
func (c *call) boolean(name string) (value, given bool, err error) {
	v, ok := c.params[name]
	if !ok || v == nil {
		return false, false, nil
	}
	switch v := v.(type) {
	case bool:
		return v, true, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, true, fmt.Errorf("%s is invalid", name)
		}
		return b, true, nil
	case float64:
		return v != 0, true, nil
	}
	return false, true, fmt.Errorf("%s is invalid", name)
}

// paginate slices n items by page/per_page and sets GitLab's headers.
func (c *call) paginate(n int) (from, to int) {
	page, _ := strconv.Atoi(c.r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(c.r.URL.Query().Get("per_page"))
	if page < 1 {
		page = 1
	}
	if per < 1 {
		per = 20
	}
	per = min(per, 100)
	pages := max(1, (n+per-1)/per)
	h := c.w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(n))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
	}
	from = min((page-1)*per, n)
	to = min(from+per, n)
	return from, to
}

// accessTo is the user's effective membership of a group or project path:
// the highest of the path's own and every ancestor group's.
func (u *user) accessTo(fullPath string) gitlabapi.AccessLevel {
	best := u.access[fullPath]
	for p := fullPath; ; {
		i := strings.LastIndex(p, "/")
		if i < 0 {
			return best
		}
		p = p[:i]
		best = max(best, u.access[p])
	}
}

// may reports whether the user reaches level on path (admins always do).
func (u *user) may(fullPath string, level gitlabapi.AccessLevel) bool {
	return u.admin || u.accessTo(fullPath) >= level
}
