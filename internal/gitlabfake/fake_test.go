package gitlabfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/gitlabapi"
)

// do sends one raw request to the fake in-process and decodes the body.
func do(t *testing.T, f *Fake, method, target string, header map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "https://gitlab.test"+target, rd)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := f.Transport().RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, strings.TrimSpace(string(b))
}

func seeded() *Fake {
	f := New()
	f.AddProject(Project{ID: 5, Path: "acme/app"})
	f.AddUser("tok", "maria")
	f.SetAccess("tok", "acme/app", gitlabapi.Maintainer)
	return f
}

var auth = map[string]string{"PRIVATE-TOKEN": "tok"}

func TestRawShapes(t *testing.T) {
	form := map[string]string{"PRIVATE-TOKEN": "tok", "Content-Type": "application/x-www-form-urlencoded"}
	tests := map[string]struct {
		method, target string
		header         map[string]string
		body           string
		wantStatus     int
		wantBody       string
	}{
		"bearer auth":             {"GET", "/api/v4/user", map[string]string{"Authorization": "Bearer tok"}, "", 200, `"username":"maria"`},
		"no token":                {"GET", "/api/v4/user", nil, "", 401, `{"message":"401 Unauthorized"}`},
		"project by encoded path": {"GET", "/api/v4/projects/acme%2Fapp", auth, "", 200, `"path_with_namespace":"acme/app"`},
		"project missing":         {"GET", "/api/v4/projects/99", auth, "", 404, `{"message":"404 Project Not Found"}`},
		"unknown route":           {"GET", "/api/v4/projects/5/wikis", auth, "", 404, `{"error":"404 Not Found"}`},
		"form-encoded create":     {"POST", "/api/v4/projects/5/variables", form, "key=A_KEY&value=v&protected=true", 201, `"protected":true`},
		"missing value":           {"POST", "/api/v4/projects/5/variables", form, "key=A_KEY", 400, `{"error":"value is missing"}`},
		"delete is not served":    {"DELETE", "/api/v4/projects/5/variables/A_KEY", auth, "", 405, `{"error":"405 Not Allowed"}`},
		"bad sub components":      {"PUT", "/api/v4/projects/5", map[string]string{"PRIVATE-TOKEN": "tok", "Content-Type": "application/json"}, `{"ci_id_token_sub_claim_components":["ref"]}`, 400, "must be the first element"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, _, body := do(t, seeded(), tc.method, tc.target, tc.header, tc.body)
			assert.Equal(t, tc.wantStatus, status, body)
			assert.Contains(t, body, tc.wantBody)
		})
	}
}

func TestAmbiguousUpdateNeedsFilter(t *testing.T) {
	f := seeded()
	target := gitlabapi.VariableTarget{Kind: gitlabapi.TargetProject, ID: "5"}
	f.AddVariable(target, gitlabapi.Variable{Key: "K", Value: "one", EnvironmentScope: "*"})
	f.AddVariable(target, gitlabapi.Variable{Key: "K", Value: "two", EnvironmentScope: "prod"})
	jsonAuth := map[string]string{"PRIVATE-TOKEN": "tok", "Content-Type": "application/json"}

	status, _, body := do(t, f, "PUT", "/api/v4/projects/5/variables/K", jsonAuth, `{"value":"three"}`)
	assert.Equal(t, 409, status)
	assert.Contains(t, body, "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'.")

	status, _, _ = do(t, f, "PUT", "/api/v4/projects/5/variables/K", jsonAuth, `{"value":"three","filter":{"environment_scope":"prod"}}`)
	assert.Equal(t, 200, status)
	status, _, _ = do(t, f, "PUT", "/api/v4/projects/5/variables/K?"+url.Values{"filter[environment_scope]": {"*"}}.Encode(), jsonAuth, `{"environment_scope":"prod"}`)
	assert.Equal(t, 400, status, "moving * onto prod collides")
	vs := f.Variables(5)
	assert.Equal(t, []string{"one", "three"}, []string{vs[0].Value, vs[1].Value})
}

func TestPaginationHeaders(t *testing.T) {
	f := seeded()
	for range 45 {
		f.AddProject(Project{Path: "acme/more"})
	}
	f.SetAccess("tok", "acme", gitlabapi.Reporter)
	status, h, body := do(t, f, "GET", "/api/v4/groups/acme/projects?per_page=20&page=3", auth, "")
	require.Equal(t, 200, status)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	assert.Len(t, list, 6)
	assert.Equal(t, "46", h.Get("X-Total"))
	assert.Equal(t, "3", h.Get("X-Total-Pages"))
	assert.Equal(t, "", h.Get("X-Next-Page"))
	assert.Equal(t, "2", h.Get("X-Prev-Page"))
}

func TestFailNextMatchesMethodAndPath(t *testing.T) {
	f := seeded()
	f.FailNext("PUT /projects/*", 503, 2*time.Second)
	status, _, _ := do(t, f, "GET", "/api/v4/projects/5", auth, "")
	assert.Equal(t, 200, status, "a GET does not consume a PUT fault")
	status, h, _ := do(t, f, "PUT", "/api/v4/projects/5", auth, "")
	assert.Equal(t, 503, status)
	assert.Equal(t, "2", h.Get("Retry-After"))
	status, _, _ = do(t, f, "PUT", "/api/v4/projects/5", auth, "")
	assert.Equal(t, 200, status, "one fault per FailNext")
	assert.Len(t, f.Writes(), 2)
}

func TestDemoSeed(t *testing.T) {
	f := DemoSeed()
	hdr := map[string]string{"PRIVATE-TOKEN": DemoToken}
	status, _, body := do(t, f, "GET", "/api/v4/projects/acme%2Fpayments", hdr, "")
	require.Equal(t, 200, status)
	assert.Contains(t, body, `"web_url":"https://gitlab.com/acme/payments"`)
	assert.Contains(t, body, `"project_access":{"access_level":40`)
	status, _, body = do(t, f, "GET", "/api/v4/projects/4242/protected_tags", hdr, "")
	require.Equal(t, 200, status)
	assert.Contains(t, body, `"name":"v*"`)
	status, _, body = do(t, f, "GET", "/api/v4/projects/4242/jobs/7003", hdr, "")
	require.Equal(t, 200, status)
	assert.Contains(t, body, `"tag":true`)
	status, _, _ = do(t, f, "GET", "/api/v4/groups/acme/variables", hdr, "")
	assert.Equal(t, 403, status, "alice is no Owner of acme")
}
