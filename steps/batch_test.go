package steps

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitlabfake"
	"gitlab-oidc/internal/testenv"
	"gitlab-oidc/internal/token"
)

func TestReadProjectList(t *testing.T) {
	got, err := ReadProjectList(strings.NewReader("# platform onboarding\nacme/a\n\n acme/b/ \nacme/a\n"))
	if err != nil || strings.Join(got, ",") != "acme/a,acme/b" {
		t.Fatalf("ReadProjectList = %q, %v", got, err)
	}
	if _, err := ReadProjectList(strings.NewReader("acme/a b\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("a path with a space gave %v, want a line-numbered error", err)
	}
	if _, err := ReadProjectList(strings.NewReader("\n# nothing\n")); err == nil {
		t.Fatal("an empty list was accepted")
	}
}

// batchWorld seeds n projects under acme/ in the fake GitLab, with moto.
func batchWorld(t testing.TB, n int) (*Runner, *gitlabfake.Server, *awsapi.CallLog, []string) {
	t.Helper()
	moto := testenv.StartMoto(t)
	cfg := moto.AWSConfig()
	calls := &awsapi.CallLog{}
	calls.Attach(&cfg)
	fake := gitlabfake.New()
	fake.AddUser("glpat-owner", "platform-bot")
	var paths []string
	for i := 0; i < n; i++ {
		path := fmt.Sprintf("acme/service-%03d", i)
		fake.AddProject(gitlabfake.Project{ID: int64(1000 + i), Path: path, DefaultBranch: "main",
			SubClaimComponents: []string{"project_path", "ref_type", "ref"}, ProtectedBranches: []string{"main"}})
		paths = append(paths, path)
	}
	fake.SetAccess("glpat-owner", "acme", gitlabapi.Owner)
	srv := gitlabfake.Serve(t, fake)
	gl, err := gitlabapi.New(srv.URL, "glpat-owner", http.DefaultClient, gitlabapi.WithRetries(3, time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Env: Env{IAM: iam.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg), GitLab: gl,
		Region: "us-east-1", Project: paths[0], ProjectSource: "--projects", IssuerURL: "https://gitlab.com"}}
	return r, srv, calls, paths
}

func TestBatchFiftyProjectsWithRateLimitsThenResume(t *testing.T) {
	r, srv, calls, paths := batchWorld(t, 50)
	ctx := context.Background()
	base, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// GitLab rate-limits some writes and reads; Retry-After is honoured.
	for i := 0; i < 4; i++ {
		srv.FailNext("POST /projects/*/variables", http.StatusTooManyRequests, time.Second)
	}
	srv.FailNext("GET /projects/*/protected_tags", http.StatusTooManyRequests, time.Second)
	var progressed atomic.Int32
	calls.Reset()
	srv.ResetRequests()
	start := time.Now()
	results, err := r.Batch(ctx, base, Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}}, BatchOptions{
		Projects: paths, Concurrency: 8, Progress: func(BatchResult) { progressed.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run of 50 projects: %s, %d AWS calls, %d GitLab requests", time.Since(start), len(calls.Calls()), len(srv.Requests()))
	if int(progressed.Load()) != len(paths) {
		t.Errorf("progress called %d times for %d projects", progressed.Load(), len(paths))
	}
	for _, res := range results {
		if res.Status != BatchCreated {
			t.Errorf("%s: %s %s", res.Project, res.Status, res.Error)
		}
	}
	for i := range paths {
		vars := srv.Variables(int64(1000 + i))
		if len(vars) != 1 || !strings.HasSuffix(vars[0].Value, fmt.Sprintf("gitlab-acme-service-%03d-main", i)) {
			t.Fatalf("project %d variables = %+v", i, vars)
		}
	}

	// Second run: resumes, writes nothing anywhere.
	calls.Reset()
	srv.ResetRequests()
	results, err = r.Batch(ctx, base, Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}}, BatchOptions{Projects: paths, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range results {
		if res.Status != BatchUnchanged {
			t.Errorf("re-run %s: %s %s", res.Project, res.Status, res.Error)
		}
	}
	if w := calls.Writes(); len(w) != 0 {
		t.Errorf("re-run made AWS writes: %v", w)
	}
	if w := srv.Writes(); len(w) != 0 {
		t.Errorf("re-run made GitLab writes: %d", len(w))
	}
	// Calls per project are constant: the same for every project.
	if n := len(srv.Requests()); n%len(paths) != 0 {
		t.Errorf("re-run made %d GitLab requests for %d projects: not a constant per project", n, len(paths))
	}
}

func TestBatchGroupRoleListsEachProjectExactly(t *testing.T) {
	r, srv, _, paths := batchWorld(t, 5)
	ctx := context.Background()
	base, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	results, err := r.Batch(ctx, base, Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}}, BatchOptions{Projects: paths, GroupRole: true, VariableGroup: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Status != BatchCreated || results[0].RoleARN != results[4].RoleARN {
		t.Fatalf("results = %+v", results)
	}
	gvars := srv.GroupVariables("acme")
	if len(gvars) != 1 || gvars[0].Value != results[0].RoleARN {
		t.Fatalf("group variables = %+v", gvars)
	}
	conn := *base
	conn.Project = ProjectInfo{ID: 1000, Path: paths[0], SubComponents: token.DefaultSubComponents}
	p, err := r.Plan(&conn, Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}, VariableScope: "group", Group: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(paths); i++ {
		p.MoreProjects = append(p.MoreProjects, ProjectInfo{ID: int64(1000 + i), Path: paths[i], SubComponents: token.DefaultSubComponents})
	}
	exact, like, err := p.SubValues()
	if err != nil {
		t.Fatal(err)
	}
	if len(like) != 0 || len(exact) != len(paths) {
		t.Fatalf("group role subs: exact %q like %q; want one exact sub per project and no wildcard", exact, like)
	}
}

// BenchmarkBatch200Projects onboards 200 projects against moto and the fake
// GitLab, then resumes; it reports calls per project and wall times.
// Run: go test ./steps -run '^$' -bench Batch200 -benchtime 1x
func BenchmarkBatch200Projects(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, srv, calls, paths := batchWorld(b, 200)
		ctx := context.Background()
		base, err := r.Connect(ctx)
		if err != nil {
			b.Fatal(err)
		}
		ch := Choices{Allow: []Allow{{Kind: AllowBranch, Pattern: "main"}}}
		for _, pass := range []string{"first", "resume"} {
			calls.Reset()
			srv.ResetRequests()
			start := time.Now()
			results, err := r.Batch(ctx, base, ch, BatchOptions{Projects: paths, Concurrency: 8})
			if err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			for _, res := range results {
				if res.Status == BatchFailed {
					b.Fatalf("%s: %s", res.Project, res.Error)
				}
			}
			n := float64(len(paths))
			b.ReportMetric(float64(len(calls.Calls()))/n, pass+"-aws-calls/project")
			b.ReportMetric(float64(len(srv.Requests()))/n, pass+"-gitlab-calls/project")
			b.ReportMetric(took.Seconds(), pass+"-wall-s")
		}
	}
}
