package gitlabfake

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
)

// allowedSubComponents are the values GitLab accepts in
// ci_id_token_sub_claim_components (docs/oidc-facts.md section 1).
var allowedSubComponents = map[string]bool{
	"project_path": true, "project_id": true, "ref_type": true, "ref": true,
	"ref_protected": true, "environment_protected": true, "deployment_tier": true,
}

func (f *Fake) findProject(idOrPath string) *project {
	if id, err := strconv.ParseInt(idOrPath, 10, 64); err == nil {
		return f.projects[id]
	}
	for _, p := range f.projects {
		if strings.EqualFold(p.path, idOrPath) {
			return p
		}
	}
	return nil
}

func (f *Fake) findGroup(idOrPath string) *group {
	if id, err := strconv.ParseInt(idOrPath, 10, 64); err == nil {
		for _, g := range f.groups {
			if g.id == id {
				return g
			}
		}
		return nil
	}
	for _, g := range f.groups {
		if strings.EqualFold(g.fullPath, idOrPath) {
			return g
		}
	}
	return nil
}

func (u *user) sees(fullPath, visibility string) bool {
	return visibility != "private" || u.may(fullPath, gitlabapi.Guest)
}

func (u *user) memberInside(groupPath string) bool {
	for p, level := range u.access {
		if level > gitlabapi.NoAccess && strings.HasPrefix(p, groupPath+"/") {
			return true
		}
	}
	return false
}

// visibleProject resolves :id, answering 404 (as GitLab does for private
// projects) when it does not exist or the user cannot see it.
func (f *Fake) visibleProject(c *call, id string) *project {
	p := f.findProject(id)
	if p == nil || !c.user.sees(p.path, p.visibility) {
		c.notFound("Project")
		return nil
	}
	return p
}

// visibleGroup resolves a group :id. As on GitLab, a private group is
// visible to its members and to members of anything inside it.
func (f *Fake) visibleGroup(c *call, id string) *group {
	g := f.findGroup(id)
	if g == nil || !(c.user.sees(g.fullPath, g.visibility) || c.user.memberInside(g.fullPath)) {
		c.notFound("Group")
		return nil
	}
	return g
}

func accessJSON(level gitlabapi.AccessLevel) any {
	if level == gitlabapi.NoAccess {
		return nil
	}
	return map[string]any{"access_level": int(level), "notification_level": 3}
}

func lastSegment(p string) string { return p[strings.LastIndex(p, "/")+1:] }

// projectJSON is the shape of GET /projects/:id, permissions included.
func (f *Fake) projectJSON(p *project, u *user) map[string]any {
	ns := map[string]any{
		"id": p.id + 1_000_000, "name": parent(p.path), "path": parent(p.path), "kind": "user",
		"full_path": parent(p.path), "parent_id": nil, "web_url": f.baseURL + "/" + parent(p.path),
	}
	var groupAccess gitlabapi.AccessLevel
	if g := p.namespace; g != nil {
		ns = map[string]any{
			"id": g.id, "name": lastSegment(g.fullPath), "path": lastSegment(g.fullPath), "kind": "group",
			"full_path": g.fullPath, "parent_id": f.parentID(g), "web_url": f.baseURL + "/groups/" + g.fullPath,
		}
		if u != nil {
			groupAccess = u.accessTo(g.fullPath)
		}
	}
	out := map[string]any{
		"id": p.id, "description": "", "name": lastSegment(p.path), "path": lastSegment(p.path),
		"name_with_namespace": strings.ReplaceAll(p.path, "/", " / "), "path_with_namespace": p.path,
		"created_at": p.createdAt.Format("2006-01-02T15:04:05.000Z"), "default_branch": p.defaultBranch,
		"visibility": p.visibility, "web_url": f.baseURL + "/" + p.path,
		"http_url_to_repo": f.baseURL + "/" + p.path + ".git",
		"ssh_url_to_repo":  "git@" + hostOf(f.baseURL) + ":" + p.path + ".git",
		"namespace":        ns, "archived": false, "empty_repo": false,
	}
	if u != nil {
		out["permissions"] = map[string]any{
			"project_access": accessJSON(u.access[p.path]),
			"group_access":   accessJSON(groupAccess),
		}
	}
	if p.subClaim != nil {
		out["ci_id_token_sub_claim_components"] = p.subClaim
	}
	return out
}

func parent(p string) string {
	if i := strings.LastIndex(p, "/"); i > 0 {
		return p[:i]
	}
	return p
}

func hostOf(baseURL string) string {
	h := baseURL[strings.Index(baseURL, "://")+3:]
	if i := strings.IndexAny(h, ":/"); i >= 0 {
		h = h[:i]
	}
	return h
}

func (f *Fake) parentID(g *group) any {
	if i := strings.LastIndex(g.fullPath, "/"); i > 0 {
		return f.groups[g.fullPath[:i]].id
	}
	return nil
}

func (f *Fake) groupJSON(g *group) map[string]any {
	return map[string]any{
		"id": g.id, "name": lastSegment(g.fullPath), "path": lastSegment(g.fullPath),
		"full_name": strings.ReplaceAll(g.fullPath, "/", " / "), "full_path": g.fullPath,
		"parent_id": f.parentID(g), "visibility": g.visibility, "description": "",
		"web_url": f.baseURL + "/groups/" + g.fullPath,
	}
}

// editProject is PUT /projects/:id; only ci_id_token_sub_claim_components
// and default_branch are stored, with GitLab's validation messages.
func (f *Fake) editProject(c *call, p *project) {
	if !c.user.may(p.path, gitlabapi.Maintainer) {
		c.forbidden()
		return
	}
	if raw, ok := c.params["ci_id_token_sub_claim_components"]; ok {
		comps, err := stringList(raw)
		if err == nil {
			err = validateSubComponents(comps)
		}
		if err != nil {
			c.message(http.StatusBadRequest, map[string][]string{"ci_id_token_sub_claim_components": {err.Error()}})
			return
		}
		p.subClaim = comps
	}
	if b, ok := c.str("default_branch"); ok && b != "" {
		p.defaultBranch = b
	}
	c.json(http.StatusOK, f.projectJSON(p, c.user))
}

func stringList(raw any) ([]string, error) {
	switch v := raw.(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("is invalid")
			}
			out = append(out, s)
		}
		return out, nil
	case string:
		return strings.Split(v, ","), nil
	}
	return nil, fmt.Errorf("is invalid")
}

func validateSubComponents(comps []string) error {
	if len(comps) == 0 || (comps[0] != "project_path" && comps[0] != "project_id") {
		return fmt.Errorf("project_path or project_id must be the first element of the sub claim")
	}
	for _, c := range comps {
		if !allowedSubComponents[c] {
			return fmt.Errorf("%s is not an allowed sub claim component", c)
		}
	}
	return nil
}

func (f *Fake) protectedRefs(c *call, p *project, kind string) {
	names := p.protectedBranches
	if kind == "protected_tags" {
		names = p.protectedTags
	}
	from, to := c.paginate(len(names))
	out := []map[string]any{}
	for i, n := range names[from:to] {
		level := []map[string]any{{"id": i + 1, "access_level": 40, "access_level_description": "Maintainers"}}
		if kind == "protected_tags" {
			out = append(out, map[string]any{"name": n, "create_access_levels": level})
			continue
		}
		out = append(out, map[string]any{
			"id": from + i + 1, "name": n, "push_access_levels": level, "merge_access_levels": level,
			"allow_force_push": false, "code_owner_approval_required": false,
		})
	}
	c.json(http.StatusOK, out)
}

// groupProjects is GET /groups/:id/projects (include_subgroups, paginated).
func (f *Fake) groupProjects(c *call, g *group) {
	sub, _, _ := c.boolean("include_subgroups")
	var list []*project
	for _, p := range f.projects {
		if p.namespace == nil || !c.user.sees(p.path, p.visibility) {
			continue
		}
		if p.namespace == g || (sub && strings.HasPrefix(p.namespace.fullPath, g.fullPath+"/")) {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].id > list[j].id }) // created_at desc
	from, to := c.paginate(len(list))
	out := []map[string]any{}
	for _, p := range list[from:to] {
		out = append(out, f.projectJSON(p, nil))
	}
	c.json(http.StatusOK, out)
}

// inheritedMember is GET /groups/:id/members/all/:user_id.
func (f *Fake) inheritedMember(c *call, g *group, idStr string) {
	id, _ := strconv.ParseInt(idStr, 10, 64)
	for _, u := range f.users {
		if u.id != id {
			continue
		}
		level := u.accessTo(g.fullPath)
		if level == gitlabapi.NoAccess {
			break
		}
		c.json(http.StatusOK, map[string]any{
			"id": u.id, "username": u.username, "name": u.username, "state": "active",
			"access_level": int(level), "web_url": f.baseURL + "/" + u.username,
		})
		return
	}
	c.message(http.StatusNotFound, "404 Not found")
}
