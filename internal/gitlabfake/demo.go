package gitlabfake

import (
	"strings"

	"gitlab-oidc/internal/gitlabapi"
)

// Demo world constants, shared with the demo AWS side and the UI.
const (
	DemoBaseURL   = "https://gitlab.com"
	DemoToken     = "glpat-demo-not-a-real-token"
	DemoUser      = "alice"
	DemoProject   = "acme/payments"
	DemoProjectID = 4242
	// DemoFailedJobID is a deploy job on tag v2.3.0 whose log shows STS
	// refusing the token (the doctor demo).
	DemoFailedJobID = 7003
)

// DemoSeed builds the simulated world of `setup --demo` and `doctor --demo`:
// gitlab.com, user alice (Maintainer of acme/payments, Developer of group
// acme, so group variables are out of reach), project acme/payments (ID
// 4242, default branch main, protected main and tags v*), sibling
// projects, and a few pipelines and jobs with logs. Serve it with
// Transport() so nothing leaves the machine.
func DemoSeed() *Fake {
	f := New()
	f.SetBaseURL(DemoBaseURL)
	f.AddUser(DemoToken, DemoUser)
	f.AddProject(Project{
		ID: DemoProjectID, Path: DemoProject, DefaultBranch: "main",
		SubClaimComponents: []string{"project_path", "ref_type", "ref"},
		ProtectedBranches:  []string{"main"}, ProtectedTags: []string{"v*"},
	})
	f.AddProject(Project{ID: 4243, Path: "acme/web", SubClaimComponents: []string{"project_path", "ref_type", "ref"}, ProtectedBranches: []string{"main"}})
	f.AddProject(Project{ID: 4250, Path: "acme/platform/terraform", SubClaimComponents: []string{"project_id", "ref_type", "ref"}, ProtectedBranches: []string{"main", "release/*"}})
	f.SetAccess(DemoToken, "acme", gitlabapi.Developer)
	f.SetAccess(DemoToken, DemoProject, gitlabapi.Maintainer)

	pipelines := []gitlabapi.Pipeline{
		{ID: 1201, Ref: "main", Source: "push", Status: "success", SHA: "9f3c2a1b7e4d5f60718293a4b5c6d7e8f9012345"},
		{ID: 1202, Ref: "feature/refunds", Source: "push", Status: "failed", SHA: "1a2b3c4d5e6f708192a3b4c5d6e7f80912345678"},
		{ID: 1203, Ref: "v2.3.0", Tag: true, Source: "push", Status: "failed", SHA: "2b3c4d5e6f708192a3b4c5d6e7f8091234567890"},
	}
	for _, p := range pipelines {
		f.AddPipeline(DemoProjectID, p)
	}
	jobs := []struct {
		job gitlabapi.Job
		log string
	}{
		{gitlabapi.Job{ID: 7001, Name: "deploy", Ref: "main", Status: "success", PipelineID: 1201,
			CreatedAt: "2025-05-12T09:58:02Z", StartedAt: "2025-05-12T09:58:10Z", FinishedAt: "2025-05-12T09:59:01Z"},
			demoLog("main", "", `{
    "AssumedRoleUser": {
        "Arn": "arn:aws:sts::123456789012:assumed-role/acme-payments-main/gitlab-7001"
    }
}`)},
		{gitlabapi.Job{ID: 7002, Name: "deploy", Ref: "feature/refunds", Status: "failed", FailureReason: "script_failure", PipelineID: 1202,
			CreatedAt: "2025-05-12T10:10:41Z", StartedAt: "2025-05-12T10:10:50Z", FinishedAt: "2025-05-12T10:11:12Z"},
			demoLog("feature/refunds", "", "\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity")},
		{gitlabapi.Job{ID: DemoFailedJobID, Name: "deploy", Ref: "v2.3.0", Tag: true, Status: "failed", FailureReason: "script_failure", PipelineID: 1203,
			CreatedAt: "2025-05-12T11:02:13Z", StartedAt: "2025-05-12T11:02:20Z", FinishedAt: "2025-05-12T11:02:44Z"},
			demoLog("v2.3.0", "tag", "\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity")},
	}
	for _, j := range jobs {
		f.AddJob(DemoProjectID, j.job)
		f.SetTrace(DemoProjectID, j.job.ID, j.log)
	}
	return f
}

// demoLog is a plausible runner log of the explicit snippet's script.
func demoLog(ref, kind, result string) string {
	if kind == "" {
		kind = "branch"
	}
	lines := []string{
		"Running with gitlab-runner 17.11.0 (0f6a4c5e)",
		"  on green-4.saas-linux-small-amd64.runners-manager.gitlab.com/default x7q2Mz, system ID: s_0e6850b2bce1",
		"Preparing the \"docker+machine\" executor",
		"Using Docker executor with image public.ecr.aws/aws-cli/aws-cli:2.27.0 ...",
		"Getting source from Git repository",
		"Checking out " + ref + " (" + kind + ")",
		"Executing \"step_script\" stage of the job script",
		"$ aws sts assume-role-with-web-identity --role-arn \"$AWS_ROLE_ARN\" --role-session-name \"gitlab-${CI_JOB_ID}\" --web-identity-token \"$GITLAB_OIDC_TOKEN\" --duration-seconds 3600",
	}
	out := strings.Join(lines, "\n") + "\n" + strings.TrimPrefix(result, "\n") + "\n"
	if strings.Contains(result, "AccessDenied") {
		out += "Cleaning up project directory and file based variables\nERROR: Job failed: exit code 254\n"
	} else {
		out += "Cleaning up project directory and file based variables\nJob succeeded\n"
	}
	return out
}
