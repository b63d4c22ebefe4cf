package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/token"
)

// predictedUnknown are the claims a prediction from the GitLab API cannot
// know: they depend on who ran the pipeline and on which runner.
var predictedUnknown = []string{"user_id", "user_login", "user_email", "user_access_level", "runner_environment", "amr", "azp"}

// PredictClaims builds the claims GitLab would have put into the job's ID
// token, from the job, its project's sub claim components and protected
// refs. aud is the job's id_tokens audience when the pipeline file says
// (nil otherwise). unknown lists the claims that could not be predicted,
// whose conditions the rules do not judge.
func PredictClaims(j *JobFacts, aud []string) (c token.Claims, unknown []string) {
	iss := strings.TrimSuffix(j.BaseURL, "/")
	refType := "branch"
	if j.Tag {
		refType = "tag"
	}
	raw := map[string]any{
		"iss": iss, "project_path": j.ProjectPath, "ref": j.Ref, "ref_type": refType,
		"ref_path": refPath(j.Ref, j.Tag),
	}
	if j.ProjectID != 0 {
		raw["project_id"] = fmt.Sprint(j.ProjectID)
	}
	if j.NamespaceID != 0 {
		raw["namespace_id"] = fmt.Sprint(j.NamespaceID)
	}
	if ns, _, ok := cutLast(j.ProjectPath, "/"); ok {
		raw["namespace_path"] = ns
	}
	if j.PipelineID != 0 {
		raw["pipeline_id"] = fmt.Sprint(j.PipelineID)
	}
	if j.JobID != 0 {
		raw["job_id"] = fmt.Sprint(j.JobID)
	}
	if j.PipelineSource != "" {
		raw["pipeline_source"] = j.PipelineSource
	} else {
		unknown = append(unknown, "pipeline_source")
	}
	if j.RefProtected != nil {
		raw["ref_protected"] = fmt.Sprint(*j.RefProtected)
	} else {
		unknown = append(unknown, "ref_protected")
	}
	if j.Environment != "" {
		raw["environment"] = j.Environment
	}
	if len(aud) == 1 {
		raw["aud"] = aud[0]
	} else if len(aud) > 1 {
		list := make([]any, len(aud))
		for i, a := range aud {
			list[i] = a
		}
		raw["aud"] = list
	} else {
		unknown = append(unknown, "aud")
	}
	comps := j.SubComponents
	if len(comps) == 0 {
		comps = token.DefaultSubComponents
	}
	values := map[string]string{}
	for _, name := range token.AllowedSubComponents {
		if v, ok := raw[name].(string); ok {
			values[name] = v
		}
	}
	raw["sub"] = token.BuildSub(comps, values)
	for _, name := range comps {
		if values[name] == "" {
			// environment_protected, deployment_tier, an unknown
			// ref_protected: the real sub may hold a component we cannot
			// fill in.
			unknown = append(unknown, "sub")
			break
		}
	}
	unknown = append(unknown, predictedUnknown...)
	slices.Sort(unknown)
	unknown = slices.Compact(unknown)

	str := func(k string) string { s, _ := raw[k].(string); return s }
	c = token.Claims{
		Issuer: iss, Subject: str("sub"), Audience: aud,
		NamespaceID: str("namespace_id"), NamespacePath: str("namespace_path"),
		ProjectID: str("project_id"), ProjectPath: j.ProjectPath,
		Ref: j.Ref, RefType: refType, RefPath: str("ref_path"), RefProtected: str("ref_protected"),
		PipelineID: str("pipeline_id"), PipelineSource: j.PipelineSource, JobID: str("job_id"),
		Environment: j.Environment, Raw: raw,
	}
	return c, unknown
}

func refPath(ref string, tag bool) string {
	if tag {
		return "refs/tags/" + ref
	}
	return "refs/heads/" + ref
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// refIsProtected applies the protected branch or tag patterns to a ref.
func refIsProtected(ref string, tag bool, branches, tags []string) bool {
	patterns := branches
	if tag {
		patterns = tags
	}
	return slices.ContainsFunc(patterns, func(p string) bool { return gitlabapi.WildcardMatch(p, ref) })
}
