// Package bench measures the flows people wait for (setup, doctor, audit)
// against real peers behind a latency proxy (internal/netproxy), and
// computes from the proxy's trace how far each flow is from its critical
// path: the longest chain of calls that must happen one after another.
//
// How the critical path is derived (honestly, from the trace):
//
//  1. Every request the proxies saw is a Call with a start and an end time,
//     the service (aws, gitlab, issuer), a class (what kind of call it is:
//     "role-read", "var-write", ...) and the resource it is about.
//  2. Waves: the longest chain of calls each of which started after the
//     previous one ended. This is the sequential depth the run actually
//     had; wall time is about waves × latency.
//  3. Chain: the same longest chain, but a link a -> b only counts when b
//     really needs a (Depends: b uses a's answer, b writes what a read, b
//     must not happen before a has happened). Calls that ran one after
//     another without such a need are the ones that could have overlapped.
//  4. Critical = the sum of the measured durations of the calls on that
//     required chain; Ratio = wall / critical. Waves > Chain points at the
//     sequential calls that need not be (Result.Avoidable names them).
//
// The dependency model is deliberately conservative (it says "depends"
// whenever one plausibly could), so the ratio it yields is a lower bound on
// how much faster the flow could be.
package bench

import (
	"net/url"
	"sort"
	"strings"
	"time"

	"gitlab-oidc/internal/netproxy"
)

// Call is one request in a flow's trace.
type Call struct {
	Service  string // aws, gitlab or issuer
	Name     string // AWS action, or METHOD and templated path
	Class    string // see classify
	Resource string
	Start    time.Time
	End      time.Time
	Status   int
}

// Duration is how long the call took, latency included.
func (c Call) Duration() time.Duration { return c.End.Sub(c.Start) }

// Calls turns proxy spans into calls of a service.
func Calls(service string, spans []netproxy.Span) []Call {
	out := make([]Call, 0, len(spans))
	for _, s := range spans {
		c := Call{Service: service, Start: s.Start, End: s.End, Status: s.Status, Resource: s.Resource}
		if s.Action != "" {
			c.Name = s.Action
		} else {
			c.Name, c.Resource = templatePath(s.Method, s.Path)
		}
		c.Class = classify(service, c.Name)
		out = append(out, c)
	}
	return out
}

// templatePath replaces IDs in a GitLab path by placeholders and returns
// the most specific ID (variable key, job or pipeline ID, project) as the
// resource: "GET /projects/:id/variables/:key", "AWS_ROLE_ARN".
func templatePath(method, p string) (name, resource string) {
	p = strings.TrimPrefix(p, "/api/v4")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		switch segs[i] {
		case "projects", "groups":
			resource = segs[i] + "/" + unescape(segs[i+1])
			segs[i+1] = ":id"
			i++
		case "variables", "jobs", "pipelines", "members":
			resource += "/" + segs[i] + "/" + unescape(segs[i+1])
			segs[i+1] = ":" + strings.TrimSuffix(segs[i], "s")
			i++
		}
	}
	return method + " /" + strings.Join(segs, "/"), resource
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// classify names the kind of call, which is what the dependency model
// reasons about.
func classify(service, name string) string {
	switch service {
	case "issuer":
		if strings.Contains(name, "openid-configuration") {
			return "discovery"
		}
		return "jwks"
	case "gitlab":
		method, path, _ := strings.Cut(name, " ")
		write := method != "GET" && method != "HEAD"
		switch {
		case path == "/user":
			return "user"
		case strings.Contains(path, "/variables"):
			return pick(write, "var-write", "var-read")
		case strings.Contains(path, "/members"):
			return "member-read"
		case strings.HasSuffix(path, "/jobs/:job"):
			return "job-read"
		case strings.Contains(path, "/pipelines/"):
			return "pipeline-read"
		case path == "/projects/:id" || path == "/groups/:id":
			return pick(write, "project-write", "project-read")
		}
		return pick(write, "project-write", "project-detail-read")
	}
	switch name {
	case "GetCallerIdentity":
		return "identity"
	case "ListOpenIDConnectProviders":
		return "provider-list"
	case "GetOpenIDConnectProvider", "ListOpenIDConnectProviderTags":
		return "provider-read"
	case "ListRoles":
		return "role-list"
	case "GetPolicy", "GetPolicyVersion":
		return "policy-read"
	}
	switch {
	case strings.Contains(name, "OpenIDConnectProvider"):
		return "provider-write"
	case strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List"):
		return "role-read"
	}
	return "role-write"
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// needs lists, for a class, the classes whose answer (or whose effect) it
// needs first. Same-resource ordering (read before write, create before
// attach, page after page, retry after failure) is handled in Depends.
var needs = map[string][]string{
	// A provider is found through the list and the issuer's discovery
	// (which may name another issuer URL than the one asked).
	"provider-read":  {"provider-list", "discovery", "jwks"},
	"provider-list":  {"discovery", "jwks"},
	"provider-write": {"provider-list", "provider-read", "discovery", "jwks"},
	// A role's name may come from the project's path; its trust policy
	// names the provider (IAM checks it exists) and the account.
	"role-read":  {"role-list", "project-read"},
	"role-write": {"identity", "provider-write", "project-read"},
	// Managed policies are found on the role.
	"policy-read": {"role-read", "role-list"},
	// GitLab: everything under a project needs the project (its ID); a
	// variable's value is the role's ARN, and it must not point at a role
	// that does not exist yet; a pipeline is found through its job.
	"project-detail-read": {"project-read"},
	"var-read":            {"project-read"},
	"var-write":           {"project-read", "identity", "role-write"},
	"project-write":       {"project-read"},
	"job-read":            {"project-read"},
	"pipeline-read":       {"job-read"},
	"member-read":         {"user", "project-read"},
	"jwks":                {"discovery"},
}

// Depends reports whether b needs a to have finished first.
func Depends(a, b Call) bool {
	if a.Service == b.Service && a.Resource == b.Resource && a.Resource != "" {
		switch {
		case a.Name == b.Name:
			return true // a retry, the next page, a re-read
		case isWrite(a.Class) || isWrite(b.Class):
			return true // read-modify-write on one resource, or ordered writes
		case a.Class == "var-read" && b.Class == "var-read":
			return true
		case a.Name == "ListRolePolicies" && b.Name == "GetRolePolicy":
			return true // the inline policies' names come from the list
		case a.Name == "GetPolicy" && b.Name == "GetPolicyVersion":
			return true // the default version's ID comes from GetPolicy
		}
	}
	if a.Name == b.Name && a.Resource == "" && b.Resource == "" && a.Service == b.Service && strings.HasPrefix(a.Name, "List") {
		return true // pagination of an account-wide list
	}
	// A variable read at group level only happens when the project has none.
	if a.Class == "var-read" && b.Class == "var-read" && lastSegment(a.Resource) == lastSegment(b.Resource) &&
		strings.HasPrefix(a.Resource, "projects/") && strings.HasPrefix(b.Resource, "groups/") {
		return true
	}
	for _, n := range needs[b.Class] {
		if n == a.Class {
			return true
		}
	}
	return false
}

func isWrite(class string) bool { return strings.HasSuffix(class, "-write") }

func lastSegment(s string) string { return s[strings.LastIndex(s, "/")+1:] }

// Result is what a trace says about a flow.
type Result struct {
	Calls int
	// Waves is the longest chain of calls that ran one after another.
	Waves int
	// Chain is the longest chain of calls that had to run one after
	// another; ChainCalls names it.
	Chain      int
	ChainCalls []string
	// Critical is the summed duration of the calls on that chain.
	Critical time.Duration
	// MaxInFlight is the most calls that overlapped at one instant.
	MaxInFlight int
	// Busy is the summed duration of all calls.
	Busy time.Duration
	// Avoidable names links of the longest observed chain where a call
	// ran after one it does not need. The wave chain takes any call that ended
	// before, so the named predecessor is where the wait showed, not
	// necessarily what the code waited on.
	Avoidable []string
}

// Analyze derives waves, the required chain and its duration from calls.
func Analyze(calls []Call) Result {
	cs := append([]Call(nil), calls...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].Start.Before(cs[j].Start) })
	n := len(cs)
	res := Result{Calls: n}
	if n == 0 {
		return res
	}
	waves := make([]int, n)
	wavePrev := make([]int, n)
	crit := make([]time.Duration, n)
	chain := make([]int, n)
	critPrev := make([]int, n)
	for i := range cs {
		waves[i], wavePrev[i] = 1, -1
		crit[i], chain[i], critPrev[i] = cs[i].Duration(), 1, -1
		for j := 0; j < i; j++ {
			if cs[j].End.After(cs[i].Start) {
				continue // overlapped: not one after the other
			}
			if waves[j]+1 > waves[i] {
				waves[i], wavePrev[i] = waves[j]+1, j
			}
			if Depends(cs[j], cs[i]) && crit[j]+cs[i].Duration() > crit[i] {
				crit[i], chain[i], critPrev[i] = crit[j]+cs[i].Duration(), chain[j]+1, j
			}
		}
		res.Busy += cs[i].Duration()
	}
	best, bestWave := 0, 0
	for i := range cs {
		if crit[i] > crit[best] {
			best = i
		}
		if waves[i] > waves[bestWave] {
			bestWave = i
		}
	}
	res.Waves, res.Chain, res.Critical = waves[bestWave], chain[best], crit[best]
	for i := best; i >= 0; i = critPrev[i] {
		res.ChainCalls = append([]string{cs[i].Service + " " + cs[i].Name}, res.ChainCalls...)
	}
	for i := bestWave; wavePrev[i] >= 0; i = wavePrev[i] {
		a, b := cs[wavePrev[i]], cs[i]
		if !Depends(a, b) {
			res.Avoidable = append([]string{b.Service + " " + b.Name + " ran after " + a.Service + " " + a.Name + " without needing it"}, res.Avoidable...)
		}
	}
	res.MaxInFlight = maxInFlight(cs)
	return res
}

// maxInFlight sweeps the start and end times.
func maxInFlight(cs []Call) int {
	type ev struct {
		at    time.Time
		delta int
	}
	evs := make([]ev, 0, 2*len(cs))
	for _, c := range cs {
		evs = append(evs, ev{c.Start, 1}, ev{c.End, -1})
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at.Equal(evs[j].at) {
			return evs[i].delta < evs[j].delta // an end before a start at the same instant
		}
		return evs[i].at.Before(evs[j].at)
	})
	cur, most := 0, 0
	for _, e := range evs {
		cur += e.delta
		most = max(most, cur)
	}
	return most
}
