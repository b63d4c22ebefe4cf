package diagnose

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/testenv"
)

// auditFixture reads a trust policy from the section-F fixture corpus.
func auditFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "audit", name))
	require.NoError(t, err)
	return string(data)
}

// roleKeys maps each audited role to its findings as "id:severity".
func roleKeys(rep AuditReport) map[string][]string {
	out := map[string][]string{}
	for _, r := range rep.Roles {
		out[r.Name] = findingKeys(r.Findings)
	}
	return out
}

// callsPerRole counts the IAM calls an audit made, in total and per
// audited role, for the report of the task.
func callsPerRole(t *testing.T, log *awsapi.CallLog, rep AuditReport) {
	t.Helper()
	calls := log.Calls()
	counts := map[string]int{}
	for _, c := range calls {
		counts[c]++
	}
	t.Logf("%d IAM calls for %d roles scanned, %d audited (%.1f per audited role): %v",
		len(calls), rep.Scanned, len(rep.Roles), float64(len(calls))/float64(max(1, len(rep.Roles))), counts)
	assert.Empty(t, log.Writes(), "an audit only reads")
}

// motoCorpus is a role, created in moto, with what the audit must say.
type motoCorpus struct {
	trust       string // fixture file name, or a JSON document
	attach      []string
	inline      map[string]string
	maxSession  int32
	want        []string
	wantRadius  string
	notAudited  bool
	customAdmin bool // attach a customer managed policy allowing "*" on "*"
}

const (
	writePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:aws:s3:::deploy/*"}]}`
	starPolicy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	awsTrust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}]}`
	githubTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}}]}`
)

var motoRoles = map[string]motoCorpus{
	"no-sub":            {trust: "no-sub.json", want: []string{"trust-no-sub-condition:critical"}, wantRadius: "any project on gitlab.com"},
	"group-wildcard":    {trust: "wildcard-group.json", want: []string{"trust-sub-wildcard-broad:high"}, wantRadius: "every project under acme/ and its subgroups"},
	"any-ref":           {trust: "any-ref-branch.json", want: []string{"trust-any-ref:medium", "trust-path-reuse-risk:low"}},
	"any-ref-can-write": {trust: "any-ref-branch.json", inline: map[string]string{"deploy": writePolicy}, want: []string{"trust-any-ref:high", "trust-path-reuse-risk:low"}},
	"forallvalues":      {trust: "forallvalues.json", want: []string{"trust-forallvalues-allow:high"}},
	"negated":           {trust: "negated.json", want: []string{"trust-no-sub-condition:critical", "trust-negated-operator:high"}},
	"self-managed":      {trust: "self-managed-no-sub.json", want: []string{"trust-no-sub-condition:critical"}, wantRadius: "any project on git.example.com"},
	"admin-attached":    {trust: "healthy-exact.json", attach: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, want: []string{"role-admin-permissions:high"}},
	"admin-inline":      {trust: "healthy-exact.json", inline: map[string]string{"everything": starPolicy}, want: []string{"role-admin-permissions:high"}},
	"admin-customer":    {trust: "healthy-exact.json", customAdmin: true, want: []string{"role-admin-permissions:high"}},
	"long-session":      {trust: "healthy-exact.json", maxSession: 43200, want: []string{"role-long-session:low"}},
	"healthy-exact": {trust: "healthy-exact.json", attach: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		wantRadius: "acme/app on branch main, acme/app on tag v1.0.0"},
	"healthy-protected":  {trust: "healthy-protected.json", inline: map[string]string{"deploy": writePolicy}, wantRadius: "any branch of acme/app, including unprotected ones and merge request source branches (protected refs only)"},
	"healthy-project-id": {trust: "healthy-project-id-sub.json"},
	"org-access":         {trust: awsTrust, notAudited: true},
	"github-actions":     {trust: githubTrust, notAudited: true},
}

// createMotoRole creates one corpus role with the real SDK client.
func createMotoRole(t *testing.T, ctx context.Context, client *iam.Client, name string, r motoCorpus) {
	t.Helper()
	trust := r.trust
	if strings.HasSuffix(trust, ".json") {
		trust = auditFixture(t, trust)
	}
	in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}
	if r.maxSession > 0 {
		in.MaxSessionDuration = aws.Int32(r.maxSession)
	}
	_, err := client.CreateRole(ctx, in)
	require.NoError(t, err, name)
	attach := r.attach
	if r.customAdmin {
		out, err := client.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name + "-policy"), PolicyDocument: aws.String(starPolicy)})
		require.NoError(t, err)
		attach = append(attach, aws.ToString(out.Policy.Arn))
	}
	for _, a := range attach {
		_, err := client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(a)})
		require.NoError(t, err, name)
	}
	for pn, doc := range r.inline {
		_, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn), PolicyDocument: aws.String(doc)})
		require.NoError(t, err, name)
	}
}

func createMotoProviders(t *testing.T, ctx context.Context, client *iam.Client, urls ...string) {
	t.Helper()
	for _, u := range urls {
		_, err := client.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
			Url: aws.String(u), ClientIDList: []string{"sts.amazonaws.com"},
			ThumbprintList: []string{strings.Repeat("a", 40)},
		})
		require.NoError(t, err, u)
	}
}

// TestAuditAccountMoto audits a corpus of risky and healthy roles created in
// a real IAM emulator and checks every role's exact findings.
func TestAuditAccountMoto(t *testing.T) {
	// moto_server inherits the environment; without this it knows no AWS
	// managed policies and AttachRolePolicy of AdministratorAccess fails.
	t.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	moto := testenv.StartMoto(t)
	ctx := context.Background()
	cfg := moto.AWSConfig()
	setup := iam.NewFromConfig(cfg)
	createMotoProviders(t, ctx, setup, "https://gitlab.com", "https://git.example.com", "https://token.actions.githubusercontent.com")
	for name, r := range motoRoles {
		createMotoRole(t, ctx, setup, name, r)
	}

	log := &awsapi.CallLog{}
	log.Attach(&cfg)
	var progress []int
	rep, err := AuditAccount(ctx, iam.NewFromConfig(cfg), AccountAuditOptions{
		Issuers:  []string{"https://git.example.com/"},
		Progress: func(done, total int) { progress = append(progress, done) },
	})
	require.NoError(t, err)
	callsPerRole(t, log, rep)

	got := roleKeys(rep)
	for name, r := range motoRoles {
		t.Run(name, func(t *testing.T) {
			keys, audited := got[name]
			if r.notAudited {
				assert.False(t, audited, "a role that trusts no GitLab provider is not audited")
				return
			}
			require.True(t, audited, "role %s was not audited", name)
			assert.Equal(t, r.want, keys)
			ra := findRole(rep, name)
			assert.Contains(t, ra.ARN, ":role/"+name)
			assert.Empty(t, ra.Notes)
			assert.Contains(t, ra.TrustPolicy, "sts:AssumeRoleWithWebIdentity", "the trust policy is decoded JSON")
			if r.wantRadius != "" {
				assert.Equal(t, r.wantRadius, ra.BlastRadius)
			}
			if len(r.want) == 0 {
				assert.Equal(t, SeverityNone, ra.Worst)
			}
		})
	}
	assert.Len(t, rep.Roles, len(motoRoles)-2)
	assert.Equal(t, len(motoRoles), rep.Scanned)
	assert.Len(t, progress, len(rep.Roles)+1, "progress once at the start and after each role")
	assertSortedWorstFirst(t, rep)

	gitlab := map[string]string{}
	for _, p := range rep.Providers {
		gitlab[p.URL] = p.Why
	}
	assert.Equal(t, map[string]string{"https://gitlab.com": "host names GitLab", "https://git.example.com": "--issuer", "https://token.actions.githubusercontent.com": ""}, gitlab)
}

func findRole(rep AuditReport, name string) RoleAudit {
	for _, r := range rep.Roles {
		if r.Name == name {
			return r
		}
	}
	return RoleAudit{}
}

func assertSortedWorstFirst(t *testing.T, rep AuditReport) {
	t.Helper()
	for i := 1; i < len(rep.Roles); i++ {
		a, b := rep.Roles[i-1], rep.Roles[i]
		ra, rb := SeverityRank(a.Worst), SeverityRank(b.Worst)
		assert.True(t, ra < rb || ra == rb && a.Name <= b.Name, "%s (%s) sorts before %s (%s)", a.Name, a.Worst, b.Name, b.Worst)
	}
}

// TestAuditAccountPaginationMoto creates more roles than one ListRoles page
// holds (moto, like IAM, returns 100 by default) and checks that GitLab
// roles on every page are found.
func TestAuditAccountPaginationMoto(t *testing.T) {
	moto := testenv.StartMoto(t)
	ctx := context.Background()
	cfg := moto.AWSConfig()
	setup := iam.NewFromConfig(cfg)
	createMotoProviders(t, ctx, setup, "https://gitlab.com")
	trust := auditFixture(t, "healthy-exact.json")
	var want []string
	for i := range 120 {
		name := fmt.Sprintf("svc-%03d", i)
		doc := awsTrust
		if i%12 == 0 { // 10 GitLab roles spread over both pages
			name = fmt.Sprintf("gitlab-%03d", i)
			doc = trust
			want = append(want, name)
		}
		_, err := setup.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)})
		require.NoError(t, err)
	}
	log := &awsapi.CallLog{}
	log.Attach(&cfg)
	rep, err := AuditAccount(ctx, iam.NewFromConfig(cfg), AccountAuditOptions{Concurrency: 4})
	require.NoError(t, err)
	callsPerRole(t, log, rep)

	var got []string
	for _, r := range rep.Roles {
		got = append(got, r.Name)
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 120, rep.Scanned)
	listRoles := 0
	for _, c := range log.Calls() {
		if c == "IAM.ListRoles" {
			listRoles++
		}
	}
	assert.GreaterOrEqual(t, listRoles, 2, "ListRoles was paginated")
}

// TestAuditDemoAccount checks the simulated account behind `audit --demo`.
func TestAuditDemoAccount(t *testing.T) {
	sim := DemoAccount()
	sim.Log = &awsapi.CallLog{}
	rep, err := AuditAccount(context.Background(), sim, AccountAuditOptions{Issuers: DemoIssuers})
	require.NoError(t, err)
	callsPerRole(t, sim.Log, rep)
	assert.Equal(t, map[string][]string{
		"gitlab-legacy-deploy":      {"trust-no-sub-condition:critical", "role-admin-permissions:high"},
		"gitlab-acme-group":         {"trust-sub-wildcard-broad:high"},
		"infra-terraform":           {"trust-any-ref:high", "trust-path-reuse-risk:low", "role-long-session:low"},
		"gitlab-acme-payments-main": nil,
		"gitlab-acme-docs-readonly": nil,
	}, roleKeys(rep))
	assert.Equal(t, "gitlab-legacy-deploy", rep.Roles[0].Name)
	assert.Equal(t, SeverityCritical, rep.Roles[0].Worst)
	assert.Equal(t, "project ID 5151 on tag v1.0.0", findRole(rep, "gitlab-acme-docs-readonly").BlastRadius)
	assertSortedWorstFirst(t, rep)
	assert.True(t, rep.AtOrAbove(SeverityCritical))

	without, err := AuditAccount(context.Background(), DemoAccount(), AccountAuditOptions{})
	require.NoError(t, err)
	assert.NotContains(t, roleKeys(without), "infra-terraform", "the self-managed provider needs --issuer")
}

// deniedIAM answers AccessDenied for chosen operations on chosen roles and
// records how many calls run at once.
type deniedIAM struct {
	awsapi.IAM
	deny     map[string]string // role name -> operation
	inFlight atomic.Int32
	peak     atomic.Int32
}

func (d *deniedIAM) enter() func() {
	n := d.inFlight.Add(1)
	for {
		p := d.peak.Load()
		if n <= p || d.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return func() { d.inFlight.Add(-1) }
}

func accessDenied(op, role string) error {
	return &smithy.OperationError{ServiceID: "IAM", OperationName: op, Err: &smithy.GenericAPIError{
		Code: "AccessDenied", Message: "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: iam:" + op + " on resource: role " + role,
	}}
}

func (d *deniedIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	defer d.enter()()
	if d.deny[aws.ToString(in.RoleName)] == "ListRolePolicies" {
		return nil, accessDenied("ListRolePolicies", aws.ToString(in.RoleName))
	}
	return d.IAM.ListRolePolicies(ctx, in, o...)
}

func (d *deniedIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	defer d.enter()()
	if d.deny[aws.ToString(in.RoleName)] == "ListAttachedRolePolicies" {
		return nil, accessDenied("ListAttachedRolePolicies", aws.ToString(in.RoleName))
	}
	return d.IAM.ListAttachedRolePolicies(ctx, in, o...)
}

// TestAuditAccountPartialAccess checks that AccessDenied on one role's
// reads becomes a note on that role while the others are audited.
func TestAuditAccountPartialAccess(t *testing.T) {
	sim := DemoAccount()
	fake := &deniedIAM{IAM: sim, deny: map[string]string{"gitlab-legacy-deploy": "ListAttachedRolePolicies", "infra-terraform": "ListRolePolicies"}}
	rep, err := AuditAccount(context.Background(), fake, AccountAuditOptions{Issuers: DemoIssuers})
	require.NoError(t, err)
	legacy := findRole(rep, "gitlab-legacy-deploy")
	require.Len(t, legacy.Notes, 1)
	assert.Contains(t, legacy.Notes[0], "iam:ListAttachedRolePolicies")
	assert.Contains(t, legacy.Notes[0], "AdministratorAccess could not be checked")
	assert.Equal(t, []string{"trust-no-sub-condition:critical"}, findingKeys(legacy.Findings), "the admin finding needs the unreadable list")
	infra := findRole(rep, "infra-terraform")
	require.Len(t, infra.Notes, 1)
	assert.Contains(t, infra.Notes[0], "iam:ListRolePolicies")
	assert.Empty(t, findRole(rep, "gitlab-acme-group").Notes)
}

// TestAuditAccountConcurrencyBound checks that no more roles are read at
// once than Concurrency allows (two calls each), and that reads do overlap.
func TestAuditAccountConcurrencyBound(t *testing.T) {
	for name, limit := range map[string]int{"serial": 1, "two": 2} {
		t.Run(name, func(t *testing.T) {
			sim := DemoAccount()
			sim.Latency = 5 * time.Millisecond
			fake := &deniedIAM{IAM: sim}
			_, err := AuditAccount(context.Background(), fake, AccountAuditOptions{Issuers: DemoIssuers, Concurrency: limit})
			require.NoError(t, err)
			// Each role reads its attached and inline policies at once, so
			// up to two calls per role in flight.
			peak := fake.peak.Load()
			assert.GreaterOrEqual(t, peak, int32(limit))
			assert.LessOrEqual(t, peak, int32(2*limit))
		})
	}
}

// TestAuditAccountCancelled checks that the end of the context stops the
// audit with its error instead of turning into per-role notes.
func TestAuditAccountCancelled(t *testing.T) {
	sim := DemoAccount()
	sim.Latency = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	_, err := AuditAccount(ctx, sim, AccountAuditOptions{Issuers: DemoIssuers})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestAuditAccountNamedRoles audits only the roles given, skipping with a
// reason those that are missing or not GitLab.
func TestAuditAccountNamedRoles(t *testing.T) {
	sim := DemoAccount()
	sim.Log = &awsapi.CallLog{}
	rep, err := AuditAccount(context.Background(), sim, AccountAuditOptions{RoleARNs: []string{
		"arn:aws:iam::123456789012:role/gitlab-acme-group", "OrganizationAccountAccessRole", "arn:aws:iam::123456789012:role/ci/missing",
	}})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"gitlab-acme-group": {"trust-sub-wildcard-broad:high"}}, roleKeys(rep))
	require.Len(t, rep.Skipped, 2)
	assert.Contains(t, rep.Skipped[0].Reason, `read role "missing"`)
	assert.Contains(t, rep.Skipped[1].Reason, "federates no GitLab")
	assert.NotContains(t, sim.Log.Calls(), "IAM.ListRoles", "named roles are read with GetRole")
}

// TestAuditAccountProvidersDenied goes on without the provider list, by
// host name alone, and says so.
func TestAuditAccountProvidersDenied(t *testing.T) {
	rep, err := AuditAccount(context.Background(), providersDenied{DemoAccount()}, AccountAuditOptions{})
	require.NoError(t, err)
	require.Len(t, rep.Notes, 1)
	assert.Contains(t, rep.Notes[0], "iam:ListOpenIDConnectProviders")
	assert.Contains(t, roleKeys(rep), "gitlab-legacy-deploy")
}

type providersDenied struct{ awsapi.IAM }

func (providersDenied) ListOpenIDConnectProviders(context.Context, *iam.ListOpenIDConnectProvidersInput, ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error) {
	return nil, accessDenied("ListOpenIDConnectProviders", "*")
}

// TestAuditAccountIdentifyIssuer checks that the discovery hook is asked
// only about providers the host and --issuer do not settle.
func TestAuditAccountIdentifyIssuer(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	rep, err := AuditAccount(context.Background(), DemoAccount(), AccountAuditOptions{
		IdentifyIssuer: func(_ context.Context, u string) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, u)
			return true, nil
		},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"https://code.acme.example"}, asked)
	assert.Contains(t, roleKeys(rep), "infra-terraform")
}

// TestAuditFiles audits trust policy files offline.
func TestAuditFiles(t *testing.T) {
	dir := filepath.Join("testdata", "audit")
	rep, err := AuditFiles([]string{
		filepath.Join(dir, "healthy-exact.json"), filepath.Join(dir, "no-sub.json"), filepath.Join(dir, "self-managed-no-sub.json"),
	}, AccountAuditOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"no-sub": {"trust-no-sub-condition:critical"}, "healthy-exact": nil}, roleKeys(rep))
	assert.Equal(t, "no-sub", rep.Roles[0].Name)
	assert.Equal(t, filepath.Join(dir, "no-sub.json"), rep.Roles[0].Source)
	require.Len(t, rep.Skipped, 1, "git.example.com is GitLab only with --issuer")

	_, err = AuditFiles([]string{filepath.Join(dir, "nope.json")}, AccountAuditOptions{})
	assert.ErrorContains(t, err, "nope.json")
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"Statement": [`), 0o600))
	_, err = AuditFiles([]string{bad}, AccountAuditOptions{})
	assert.ErrorContains(t, err, "bad.json")
}

// TestBlastRadius checks the words of the WHO CAN ASSUME column.
func TestBlastRadius(t *testing.T) {
	tests := map[string]struct {
		fixture string
		want    string
	}{
		"no sub":            {"no-sub.json", "any project on gitlab.com"},
		"project id only":   {"no-sub-project-id.json", "any branch or tag of project ID 4242"},
		"namespace id only": {"no-sub-namespace-id.json", "every project directly in namespace ID 777"},
		"group wildcard":    {"wildcard-group.json", "every project under acme/ and its subgroups"},
		"any branch":        {"any-ref-branch.json", "any branch of acme/app, including unprotected ones and merge request source branches"},
		"release tags":      {"healthy-release-tags.json", "acme/app on tags matching v*"},
		"exact":             {"healthy-exact.json", "acme/app on branch main, acme/app on tag v1.0.0"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := policy.Parse([]byte(auditFixture(t, tc.fixture)))
			require.NoError(t, err)
			got := BlastRadius(doc, AuditOptions{})
			if tc.want == "" {
				assert.NotEmpty(t, got)
				t.Logf("%s: %s", tc.fixture, got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Empty(t, BlastRadius(nil, AuditOptions{}))
}

// TestAtOrAbove checks the --fail-on threshold.
func TestAtOrAbove(t *testing.T) {
	rep := AuditReport{Roles: []RoleAudit{{Worst: SeverityMedium}, {Worst: SeverityNone}}}
	for threshold, want := range map[Severity]bool{SeverityCritical: false, SeverityHigh: false, SeverityMedium: true, SeverityLow: true, SeverityInfo: true} {
		assert.Equal(t, want, rep.AtOrAbove(threshold), threshold)
	}
	assert.False(t, AuditReport{Roles: []RoleAudit{{Worst: SeverityNone}}}.AtOrAbove(SeverityInfo))
}

// TestDiscoverGitLab serves discovery documents over real TLS and checks
// that GitLab is recognised by its jwks_uri.
func TestDiscoverGitLab(t *testing.T) {
	docs := map[string]string{
		"/gitlab/.well-known/openid-configuration": `{"issuer":"x","jwks_uri":"https://h/gitlab/oauth/discovery/keys"}`,
		"/eks/.well-known/openid-configuration":    `{"issuer":"x","jwks_uri":"https://h/eks/keys"}`,
		"/junk/.well-known/openid-configuration":   `not json`,
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, doc)
	}))
	defer srv.Close()
	identify := DiscoverGitLab(srv.Client())
	tests := map[string]struct {
		path    string
		want    bool
		wantErr string
	}{
		"gitlab under a relative root": {path: "/gitlab", want: true},
		"another issuer":               {path: "/eks"},
		"not json":                     {path: "/junk", wantErr: "read "},
		"missing":                      {path: "/none", wantErr: "HTTP 404"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := identify(context.Background(), srv.URL+tc.path)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
