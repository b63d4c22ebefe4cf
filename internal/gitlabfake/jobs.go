package gitlabfake

import (
	"net/http"
	"strconv"

	"gitlab-oidc/internal/gitlabapi"
)

// job serves GET /projects/:id/jobs/:job_id and .../trace. Jobs of a
// private project need Reporter, as on GitLab.
func (f *Fake) job(c *call, p *project, s []string) {
	if c.r.Method != "GET" || len(s) > 2 || (len(s) == 2 && s[1] != "trace") {
		c.json(http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	if !f.mayReadCI(c, p) {
		return
	}
	id, _ := strconv.ParseInt(s[0], 10, 64)
	j, ok := p.jobs[id]
	if !ok {
		c.message(http.StatusNotFound, "404 Not found")
		return
	}
	if len(s) == 1 {
		c.json(http.StatusOK, f.jobJSON(p, j))
		return
	}
	trace, ok := p.traces[id]
	if !ok {
		c.message(http.StatusNotFound, "404 Not found")
		return
	}
	c.status = http.StatusOK
	c.w.Header().Set("Content-Type", "text/plain")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write([]byte(trace))
}

func (f *Fake) mayReadCI(c *call, p *project) bool {
	if p.visibility != "private" || c.user.may(p.path, gitlabapi.Reporter) {
		return true
	}
	c.forbidden()
	return false
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (f *Fake) jobJSON(p *project, j gitlabapi.Job) map[string]any {
	pl := p.pipelines[j.PipelineID]
	out := map[string]any{
		"id": j.ID, "name": j.Name, "stage": "deploy", "status": j.Status, "ref": j.Ref, "tag": j.Tag,
		"created_at": nullable(j.CreatedAt), "started_at": nullable(j.StartedAt), "finished_at": nullable(j.FinishedAt),
		"allow_failure": false, "tag_list": []string{}, "coverage": nil,
		"web_url":  f.baseURL + "/" + p.path + "/-/jobs/" + strconv.FormatInt(j.ID, 10),
		"pipeline": map[string]any{"id": j.PipelineID, "project_id": p.id, "ref": j.Ref, "sha": pl.SHA, "status": pl.Status},
		"runner":   nil,
	}
	if j.FailureReason != "" {
		out["failure_reason"] = j.FailureReason
	}
	return out
}

func (f *Fake) pipeline(c *call, p *project, idStr string) {
	if !f.mayReadCI(c, p) {
		return
	}
	id, _ := strconv.ParseInt(idStr, 10, 64)
	pl, ok := p.pipelines[id]
	if !ok {
		c.message(http.StatusNotFound, "404 Not found")
		return
	}
	c.json(http.StatusOK, map[string]any{
		"id": pl.ID, "iid": pl.ID % 1000, "project_id": p.id, "sha": pl.SHA, "before_sha": "0000000000000000000000000000000000000000",
		"ref": pl.Ref, "tag": pl.Tag, "status": pl.Status, "source": pl.Source,
		"web_url":    f.baseURL + "/" + p.path + "/-/pipelines/" + idStr,
		"created_at": "2025-05-12T10:00:00.000Z", "updated_at": "2025-05-12T10:04:00.000Z",
	})
}
