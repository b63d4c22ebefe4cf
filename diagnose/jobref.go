package diagnose

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// JobRef names a job: the GitLab instance, the project's full path and the
// job ID.
type JobRef struct {
	BaseURL     string `json:"base_url"`
	ProjectPath string `json:"project_path"`
	JobID       int64  `json:"job_id"`
}

// ParseJobURL reads a job's web URL, such as
// https://gitlab.example.com/group/sub/proj/-/jobs/123. An instance under a
// relative URL root (https://host/gitlab/group/proj/-/jobs/1) cannot be told
// from a group path; pass its base URL as gitlabURL ("" for none) and it is
// stripped from the path.
func ParseJobURL(raw, gitlabURL string) (JobRef, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return JobRef{}, fmt.Errorf("job URL %q is not an http(s) URL; copy it from the job page, e.g. https://gitlab.example.com/group/project/-/jobs/123", MaskSecrets(raw))
	}
	path, rest, ok := strings.Cut(u.Path, "/-/jobs/")
	if !ok {
		return JobRef{}, fmt.Errorf("job URL %q has no /-/jobs/<id> part; copy it from the job page, or pass --project and --job-id", MaskSecrets(raw))
	}
	idText, _, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return JobRef{}, fmt.Errorf("job URL %q: %q is not a job ID", MaskSecrets(raw), idText)
	}
	base := u.Scheme + "://" + u.Host
	if gitlabURL != "" {
		g, err := url.Parse(strings.TrimSuffix(gitlabURL, "/"))
		if err != nil || g.Host == "" {
			return JobRef{}, fmt.Errorf("GitLab URL %q is not a URL", gitlabURL)
		}
		if !strings.EqualFold(g.Host, u.Host) {
			return JobRef{}, fmt.Errorf("job URL host %s differs from the GitLab URL %s", u.Host, gitlabURL)
		}
		root := strings.TrimSuffix(g.Path, "/")
		if root != "" {
			if !strings.HasPrefix(path, root+"/") {
				return JobRef{}, fmt.Errorf("job URL %q is not under the GitLab URL %s", MaskSecrets(raw), gitlabURL)
			}
			path = strings.TrimPrefix(path, root)
			base += root
		}
	}
	project := strings.Trim(path, "/")
	if project == "" || !strings.Contains(project, "/") {
		return JobRef{}, fmt.Errorf("job URL %q has no group/project path", MaskSecrets(raw))
	}
	return JobRef{BaseURL: base, ProjectPath: project, JobID: id}, nil
}
