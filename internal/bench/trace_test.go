package bench

import (
	"reflect"
	"testing"
	"time"

	"gitlab-oidc/internal/netproxy"
)

// at builds a call from millisecond offsets.
func at(service, name, resource string, from, to int) Call {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := Call{Service: service, Name: name, Resource: resource,
		Start: t0.Add(time.Duration(from) * time.Millisecond), End: t0.Add(time.Duration(to) * time.Millisecond)}
	c.Class = classify(service, name)
	return c
}

func TestAnalyze(t *testing.T) {
	tests := map[string]struct {
		calls                  []Call
		waves, chain, inFlight int
		critical               time.Duration
		avoidable              int
	}{
		"independent reads side by side": {
			calls: []Call{
				at("aws", "GetCallerIdentity", "", 0, 50),
				at("gitlab", "GET /user", "", 0, 50),
				at("gitlab", "GET /projects/:id", "projects/acme/app", 0, 50),
			},
			waves: 1, chain: 1, inFlight: 3, critical: 50 * time.Millisecond,
		},
		"independent reads one after another": {
			calls: []Call{
				at("aws", "GetCallerIdentity", "", 0, 50),
				at("gitlab", "GET /user", "", 50, 100),
				at("aws", "ListOpenIDConnectProviders", "", 100, 150),
			},
			waves: 3, chain: 1, inFlight: 1, critical: 50 * time.Millisecond, avoidable: 2,
		},
		"create chain is required": {
			calls: []Call{
				at("aws", "ListOpenIDConnectProviders", "", 0, 50),
				at("aws", "CreateOpenIDConnectProvider", "https://gitlab.com", 50, 100),
				at("aws", "CreateRole", "deploy", 100, 160),
				at("aws", "AttachRolePolicy", "deploy", 160, 210),
				at("gitlab", "POST /projects/:id/variables", "projects/1", 210, 260),
			},
			waves: 5, chain: 5, inFlight: 1, critical: 260 * time.Millisecond,
		},
		"role read beside provider step could overlap": {
			calls: []Call{
				at("aws", "ListOpenIDConnectProviders", "", 0, 50),
				at("aws", "GetRole", "deploy", 50, 100),
			},
			waves: 2, chain: 1, inFlight: 1, critical: 50 * time.Millisecond, avoidable: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := Analyze(tc.calls)
			if r.Waves != tc.waves || r.Chain != tc.chain || r.MaxInFlight != tc.inFlight || r.Critical != tc.critical || len(r.Avoidable) != tc.avoidable {
				t.Fatalf("got waves %d chain %d inflight %d critical %v avoidable %q; want %d %d %d %v %d (chain %q)",
					r.Waves, r.Chain, r.MaxInFlight, r.Critical, r.Avoidable, tc.waves, tc.chain, tc.inFlight, tc.critical, tc.avoidable, r.ChainCalls)
			}
		})
	}
}

func TestCallsTemplateGitLabPaths(t *testing.T) {
	spans := []netproxy.Span{
		{Method: "GET", Path: "/api/v4/projects/acme%2Fpayments"},
		{Method: "GET", Path: "/api/v4/projects/4242/variables/AWS_ROLE_ARN"},
		{Method: "GET", Path: "/api/v4/groups/acme/variables/AWS_ROLE_ARN"},
		{Method: "GET", Path: "/api/v4/projects/4242/jobs/77/trace"},
		{Method: "POST", Path: "/", Action: "CreateRole", Resource: "deploy"},
	}
	var got [][3]string
	for _, c := range Calls("gitlab", spans[:4]) {
		got = append(got, [3]string{c.Name, c.Resource, c.Class})
	}
	c := Calls("aws", spans[4:])[0]
	got = append(got, [3]string{c.Name, c.Resource, c.Class})
	want := [][3]string{
		{"GET /projects/:id", "projects/acme/payments", "project-read"},
		{"GET /projects/:id/variables/:variable", "projects/4242/variables/AWS_ROLE_ARN", "var-read"},
		{"GET /groups/:id/variables/:variable", "groups/acme/variables/AWS_ROLE_ARN", "var-read"},
		{"GET /projects/:id/jobs/:job/trace", "projects/4242/jobs/77", "project-detail-read"},
		{"CreateRole", "deploy", "role-write"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
