package diagnose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/policy"
)

// SeverityNone is the Worst of a role the audit found nothing about.
const SeverityNone Severity = "none"

// DefaultAuditConcurrency bounds the roles read at once. IAM's request
// quota is per account and shared with everything else running in it, so
// the audit stays modest; the SDK's retryer absorbs occasional throttling.
const DefaultAuditConcurrency = 8

// AccountAuditOptions say what AuditAccount and AuditFiles look at.
type AccountAuditOptions struct {
	// Issuers are extra issuer URLs (or hosts) to treat as GitLab, for
	// self-managed instances whose host does not contain "gitlab".
	Issuers []string
	// RoleARNs limits the audit to these roles (ARNs or names); empty means
	// every role in the account.
	RoleARNs []string
	// Concurrency bounds the roles read at once; 0 means
	// DefaultAuditConcurrency.
	Concurrency int
	// Progress, when set, is called with done=0 once the roles to audit are
	// known and again after each role; calls never overlap.
	Progress func(done, total int)
	// IdentifyIssuer, when set, is asked about providers that neither their
	// host nor Issuers mark as GitLab, e.g. by reading the issuer's discovery
	// document. It is nil by default so that an audit makes no call outside
	// AWS unless asked to.
	IdentifyIssuer func(ctx context.Context, issuerURL string) (bool, error)
}

// AuditReport is the outcome of an audit, roles worst first.
type AuditReport struct {
	Providers []AuditedProvider `json:"providers,omitempty"`
	Roles     []RoleAudit       `json:"roles"`
	// Skipped are roles that were named (by --role-arn or a file) but not
	// audited, with the reason.
	Skipped []SkippedRole `json:"skipped,omitempty"`
	// Scanned counts the roles whose trust policy was looked at.
	Scanned int `json:"scanned"`
	// Notes say what could not be read account-wide, so a reader knows the
	// report may be incomplete.
	Notes []string `json:"notes,omitempty"`
}

// AuditedProvider is one OIDC provider of the account and whether the audit
// treated it as GitLab.
type AuditedProvider struct {
	ARN    string `json:"arn"`
	URL    string `json:"url"`
	GitLab bool   `json:"gitlab"`
	// Why says what made it count as GitLab ("host names GitLab",
	// "--issuer", "discovery document"), empty when it did not.
	Why string `json:"why,omitempty"`
}

// RoleAudit is the audit of one role.
type RoleAudit struct {
	ARN  string `json:"arn,omitempty"`
	Name string `json:"name"`
	// Worst is the most severe finding's severity, SeverityNone without
	// findings.
	Worst Severity `json:"worst"`
	// BlastRadius says in words who can assume the role.
	BlastRadius string    `json:"blast_radius"`
	Findings    []Finding `json:"findings"`
	// TrustPolicy is the trust policy as JSON (decoded from IAM's URL
	// encoding).
	TrustPolicy string `json:"trust_policy,omitempty"`
	// Source is "IAM" or the file the trust policy came from.
	Source string `json:"source"`
	// Notes say what could not be read for this role (for example an
	// AccessDenied on its inline policies), so missing findings are not
	// mistaken for a clean bill of health.
	Notes []string `json:"notes,omitempty"`
}

// SkippedRole is a role that was not audited, with the reason.
type SkippedRole struct {
	Role   string `json:"role"`
	Reason string `json:"reason"`
	// Unreadable is set for a role named with --role-arn that could not be
	// read (missing, denied): the audit of what was asked for is incomplete.
	Unreadable bool `json:"unreadable,omitempty"`
}

// SeverityRank orders severities for sorting and thresholds: 0 is the worst
// (critical, or error on the doctor's scale), SeverityNone the mildest.
func SeverityRank(s Severity) int {
	if r, ok := severityOrder[s]; ok {
		return r
	}
	return len(severityOrder)
}

// AtOrAbove reports whether any audited role has a finding at least as
// severe as threshold; this is what --fail-on checks.
func (r AuditReport) AtOrAbove(threshold Severity) bool {
	return r.RolesAtOrAbove(threshold) > 0
}

// RolesAtOrAbove counts the roles with a finding at least as severe as
// threshold.
func (r AuditReport) RolesAtOrAbove(threshold Severity) int {
	n := 0
	for _, ra := range r.Roles {
		if ra.Worst != SeverityNone && SeverityRank(ra.Worst) <= SeverityRank(threshold) {
			n++
		}
	}
	return n
}

// AuditAccount audits the account's roles that trust a GitLab OIDC provider
// (or only opts.RoleARNs): it lists the providers to learn which are
// GitLab, lists the roles (one paginated ListRoles, whose output already
// holds each trust policy and MaxSessionDuration), and for each GitLab role
// reads its attached and inline policies, with at most opts.Concurrency
// roles in flight, before running AuditRole.
//
// A failure to read one role's policies becomes a note on that role rather
// than an error, since a partial audit of a hundred roles is more useful
// than none; an error is returned only when the roles cannot be listed or
// ctx ends.
func AuditAccount(ctx context.Context, client awsapi.IAM, opts AccountAuditOptions) (AuditReport, error) {
	var rep AuditReport
	aopts, err := auditProviders(ctx, client, opts, &rep)
	if err != nil {
		return rep, err
	}
	roles, err := candidateRoles(ctx, client, opts.RoleARNs, &rep)
	if err != nil {
		return rep, err
	}
	rep.Scanned = len(roles)
	var todo []types.Role
	for _, r := range roles {
		doc, err := policy.Parse([]byte(aws.ToString(r.AssumeRolePolicyDocument)))
		switch {
		case err != nil:
			rep.Skipped = append(rep.Skipped, SkippedRole{Role: aws.ToString(r.Arn), Reason: "trust policy does not parse: " + err.Error()})
		case federatesGitLab(doc, aopts):
			todo = append(todo, r)
		case len(opts.RoleARNs) > 0:
			rep.Skipped = append(rep.Skipped, SkippedRole{Role: aws.ToString(r.Arn), Reason: "its trust policy federates no GitLab OIDC provider (pass --issuer URL for a self-managed instance)"})
		}
	}
	rep.Roles, err = auditRoles(ctx, client, todo, aopts, opts)
	sortRoleAudits(rep.Roles)
	return rep, err
}

// AuditFiles audits trust policy documents read from files, without any
// AWS call. Role-level rules need the role's permissions and session
// length, so only the trust policy rules apply. A file that cannot be read
// or parsed is an error naming it; a policy that trusts no GitLab provider
// is reported as skipped.
func AuditFiles(paths []string, opts AccountAuditOptions) (AuditReport, error) {
	aopts := AuditOptions{GitLabProviders: normalizeIssuers(opts.Issuers)}
	var rep AuditReport
	if opts.Progress != nil {
		opts.Progress(0, len(paths))
	}
	for i, p := range paths {
		if err := auditFile(p, aopts, &rep); err != nil {
			return rep, err
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(paths))
		}
	}
	sortRoleAudits(rep.Roles)
	return rep, nil
}

// auditFile audits one trust policy file into rep.
func auditFile(path string, aopts AuditOptions, rep *AuditReport) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read trust policy file: %w", err)
	}
	doc, err := policy.Parse(data)
	if err != nil {
		return fmt.Errorf("trust policy file %s: %w", path, err)
	}
	rep.Scanned++
	if !federatesGitLab(doc, aopts) {
		rep.Skipped = append(rep.Skipped, SkippedRole{Role: path, Reason: "it federates no GitLab OIDC provider (pass --issuer URL for a self-managed instance)"})
		return nil
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	rep.Roles = append(rep.Roles, newRoleAudit(RoleFacts{Name: name, Trust: doc, TrustSource: path}, aopts, nil))
	return nil
}

// auditProviders lists the account's OIDC providers, records which count
// as GitLab and returns the audit options naming them. The provider URL is
// read from the ARN (arn:aws:iam::ACCOUNT:oidc-provider/URL), which saves a
// GetOpenIDConnectProvider call per provider. When the providers cannot be
// listed the audit goes on with the host rule and --issuer alone.
func auditProviders(ctx context.Context, client awsapi.IAM, opts AccountAuditOptions, rep *AuditReport) (AuditOptions, error) {
	issuers := normalizeIssuers(opts.Issuers)
	aopts := AuditOptions{GitLabProviders: slices.Clone(issuers)}
	out, err := client.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		if ctx.Err() != nil {
			return aopts, ctx.Err()
		}
		rep.Notes = append(rep.Notes, awsapi.Explain(err, "list OIDC providers").Error()+
			"; roles are matched by provider host (containing \"gitlab\") and --issuer only")
		return aopts, nil
	}
	for _, e := range out.OpenIDConnectProviderList {
		arn := aws.ToString(e.Arn)
		_, host, _ := strings.Cut(arn, ":oidc-provider/")
		p := AuditedProvider{ARN: arn, URL: "https://" + host}
		lh := strings.ToLower(host)
		switch {
		case lh == "gitlab.com" || strings.Contains(lh, "gitlab"):
			p.Why = "host names GitLab"
		case slices.Contains(issuers, lh):
			p.Why = "--issuer"
		case opts.IdentifyIssuer != nil:
			ok, err := opts.IdentifyIssuer(ctx, p.URL)
			if err != nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("could not tell whether %s is GitLab: %v", p.URL, err))
			}
			if ok {
				p.Why = "discovery document"
			}
		}
		p.GitLab = p.Why != ""
		if p.GitLab {
			aopts.GitLabProviders = append(aopts.GitLabProviders, arn)
		}
		rep.Providers = append(rep.Providers, p)
	}
	return aopts, nil
}

// normalizeIssuers turns issuer URLs into lower-case hosts with path, the
// shape of a condition key prefix.
func normalizeIssuers(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		s = strings.TrimSuffix(strings.TrimPrefix(s, "https://"), "/")
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// candidateRoles lists every role, or fetches the named ones with GetRole.
// A named role that cannot be read is skipped with the explained error.
func candidateRoles(ctx context.Context, client awsapi.IAM, named []string, rep *AuditReport) ([]types.Role, error) {
	if len(named) == 0 {
		var roles []types.Role
		pages := iam.NewListRolesPaginator(client, &iam.ListRolesInput{})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, awsapi.Explain(err, "list IAM roles")
			}
			roles = append(roles, page.Roles...)
		}
		return roles, nil
	}
	var roles []types.Role
	for _, n := range named {
		name := roleNameFromARN(n)
		out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.Skipped = append(rep.Skipped, SkippedRole{Role: n, Reason: awsapi.Explain(err, fmt.Sprintf("read role %q", name)).Error(), Unreadable: true})
			continue
		}
		roles = append(roles, *out.Role)
	}
	return roles, nil
}

// roleNameFromARN returns the role name of an ARN (the last path element:
// arn:aws:iam::1:role/ci/deploy is "deploy"), or its argument when it is
// already a name.
func roleNameFromARN(s string) string {
	if _, rest, ok := strings.Cut(s, ":role/"); ok {
		return rest[strings.LastIndexByte(rest, '/')+1:]
	}
	return s
}

// federatesGitLab reports whether any Allow statement lets a GitLab
// provider exchange a token for the role.
func federatesGitLab(doc *policy.Document, opts AuditOptions) bool {
	return len(gitlabStatements(doc, opts)) > 0
}

// gitlabStatements are the Allow statements that grant the web identity
// exchange to a GitLab provider, the ones AuditTrustPolicy audits.
func gitlabStatements(doc *policy.Document, opts AuditOptions) []trustStatement {
	var out []trustStatement
	if doc == nil {
		return nil
	}
	for _, st := range doc.Statements {
		if st.Effect != "Allow" || st.Principal == nil {
			continue
		}
		for _, arn := range st.Principal.Federated {
			if host, ok := opts.gitlabHost(arn); ok && grantsWebIdentity(st, arn) {
				out = append(out, newTrustStatement(st, host, arn))
			}
		}
	}
	return out
}

// auditRoles reads and audits the roles with bounded concurrency, keeping
// their order.
func auditRoles(ctx context.Context, client awsapi.IAM, roles []types.Role, aopts AuditOptions, opts AccountAuditOptions) ([]RoleAudit, error) {
	limit := opts.Concurrency
	if limit <= 0 {
		limit = DefaultAuditConcurrency
	}
	out := make([]RoleAudit, len(roles))
	var mu sync.Mutex
	done := 0
	if opts.Progress != nil {
		opts.Progress(0, len(roles))
	}
	managed := &policyCache{client: client, docs: map[string]*cachedPolicy{}}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, r := range roles {
		g.Go(func() error {
			ra, err := auditOneRole(gctx, client, managed, r, aopts)
			if err != nil {
				return err
			}
			out[i] = ra
			mu.Lock()
			defer mu.Unlock()
			done++
			if opts.Progress != nil {
				opts.Progress(done, len(roles))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// auditOneRole reads one role's permission policies and audits it. Read
// failures become notes; only the end of ctx is an error.
func auditOneRole(ctx context.Context, client awsapi.IAM, managed *policyCache, r types.Role, aopts AuditOptions) (RoleAudit, error) {
	rr := &roleReader{client: client, managed: managed, name: aws.ToString(r.RoleName), docs: map[string]*policy.Document{}}
	doc, _ := policy.Parse([]byte(aws.ToString(r.AssumeRolePolicyDocument)))
	facts := RoleFacts{ARN: aws.ToString(r.Arn), Name: rr.name, Trust: doc, TrustSource: "IAM", MaxSessionDuration: aws.ToInt32(r.MaxSessionDuration)}
	// The attached and the inline policies are independent reads.
	var attached []string
	var attachedErr, inlineErr error
	var wg sync.WaitGroup
	wg.Go(func() { attached, attachedErr = rr.readAttached(ctx) })
	wg.Go(func() { inlineErr = rr.readInline(ctx) })
	wg.Wait()
	if err := errors.Join(attachedErr, inlineErr); err != nil {
		return RoleAudit{}, err
	}
	facts.AttachedPolicies = attached
	aopts.Policies = rr.docs
	return newRoleAudit(facts, aopts, rr.notes), nil
}

// roleReader collects one role's permission policies and the notes about
// what could not be read.
type roleReader struct {
	mu      sync.Mutex // guards docs and notes: attached and inline are read at once
	client  awsapi.IAM
	managed *policyCache
	name    string
	docs    map[string]*policy.Document
	notes   []string
}

// failed records a read failure as a note (with what it means for the
// audit) and returns an error only when ctx has ended.
func (rr *roleReader) failed(ctx context.Context, err error, action, consequence string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := awsapi.Explain(err, action).Error()
	if consequence != "" {
		msg += " (" + consequence + ")"
	}
	rr.mu.Lock()
	rr.notes = append(rr.notes, msg)
	rr.mu.Unlock()
	return nil
}

func (rr *roleReader) setDoc(name string, d *policy.Document) {
	rr.mu.Lock()
	rr.docs[name] = d
	rr.mu.Unlock()
}

// readAttached lists the attached managed policies and reads the customer
// managed ones.
func (rr *roleReader) readAttached(ctx context.Context) ([]string, error) {
	var arns []string
	pages := iam.NewListAttachedRolePoliciesPaginator(rr.client, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(rr.name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return arns, rr.failed(ctx, err, "list attached policies of "+rr.name, "AdministratorAccess could not be checked")
		}
		for _, p := range page.AttachedPolicies {
			arn := aws.ToString(p.PolicyArn)
			arns = append(arns, arn)
			d, err := rr.managed.get(ctx, arn)
			if err != nil {
				if err := rr.failed(ctx, err, "read managed policy "+arn, ""); err != nil {
					return arns, err
				}
			} else if d != nil {
				rr.setDoc(arn, d)
			}
		}
	}
	return arns, nil
}

// readInline lists and reads the inline policies.
func (rr *roleReader) readInline(ctx context.Context) error {
	pages := iam.NewListRolePoliciesPaginator(rr.client, &iam.ListRolePoliciesInput{RoleName: aws.String(rr.name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return rr.failed(ctx, err, "list inline policies of "+rr.name, "\"*\" on \"*\" in inline policies could not be checked")
		}
		for _, pn := range page.PolicyNames {
			out, err := rr.client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(rr.name), PolicyName: aws.String(pn)})
			if err != nil {
				if err := rr.failed(ctx, err, fmt.Sprintf("read inline policy %s of %s", pn, rr.name), ""); err != nil {
					return err
				}
				continue
			}
			d, err := policy.Parse([]byte(aws.ToString(out.PolicyDocument)))
			if err != nil {
				rr.mu.Lock()
				rr.notes = append(rr.notes, fmt.Sprintf("inline policy %s of %s does not parse: %v", pn, rr.name, err))
				rr.mu.Unlock()
				continue
			}
			rr.setDoc("inline policy "+pn, d)
		}
	}
	return nil
}

// newRoleAudit runs AuditRole and fills in what the report shows.
func newRoleAudit(facts RoleFacts, aopts AuditOptions, notes []string) RoleAudit {
	findings := AuditRole(facts, aopts)
	ra := RoleAudit{
		ARN:         facts.ARN,
		Name:        roleName(facts),
		Worst:       SeverityNone,
		BlastRadius: BlastRadius(facts.Trust, aopts),
		Findings:    findings,
		Source:      facts.TrustSource,
		Notes:       notes,
	}
	if ra.Findings == nil {
		ra.Findings = []Finding{}
	}
	if len(findings) > 0 {
		ra.Worst = findings[0].Severity // AuditRole sorts worst first
	}
	if facts.Trust != nil {
		if js, err := policy.Marshal(facts.Trust); err == nil {
			ra.TrustPolicy = string(js)
		}
	}
	return ra
}

// sortRoleAudits orders roles worst first, then by name.
func sortRoleAudits(roles []RoleAudit) {
	slices.SortStableFunc(roles, func(a, b RoleAudit) int {
		if d := SeverityRank(a.Worst) - SeverityRank(b.Worst); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// policyCache reads customer managed policy documents once per audit: the
// same deploy policy is often attached to dozens of roles. AWS managed
// policies are not read; AuditRole recognises AdministratorAccess by name.
type policyCache struct {
	client awsapi.IAM
	mu     sync.Mutex
	docs   map[string]*cachedPolicy
}

type cachedPolicy struct {
	once sync.Once
	doc  *policy.Document
	err  error
}

// get returns the policy's default version, nil for AWS managed policies.
func (c *policyCache) get(ctx context.Context, arn string) (*policy.Document, error) {
	if strings.HasPrefix(arn, "arn:aws:iam::aws:") || strings.Contains(arn, ":iam::aws:policy/") {
		return nil, nil
	}
	c.mu.Lock()
	e := c.docs[arn]
	if e == nil {
		e = &cachedPolicy{}
		c.docs[arn] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.doc, e.err = c.read(ctx, arn) })
	return e.doc, e.err
}

func (c *policyCache) read(ctx context.Context, arn string) (*policy.Document, error) {
	meta, err := c.client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	if meta.Policy == nil || meta.Policy.DefaultVersionId == nil {
		return nil, errors.New("IAM returned no default version")
	}
	v, err := c.client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: meta.Policy.DefaultVersionId})
	if err != nil {
		return nil, err
	}
	// Parse decodes IAM's URL encoding itself.
	return policy.Parse([]byte(aws.ToString(v.PolicyVersion.Document)))
}

// discoveryLimit bounds the discovery document read by DiscoverGitLab.
const discoveryLimit = 1 << 20

// DiscoverGitLab returns an AccountAuditOptions.IdentifyIssuer that fetches
// the issuer's /.well-known/openid-configuration and recognises GitLab by
// its jwks_uri, which GitLab serves at /oauth/discovery/keys (under the
// relative URL root). client nil means a client with a 10-second timeout.
// This is the only audit path that leaves AWS, hence opt-in (--discover).
func DiscoverGitLab(client *http.Client) func(ctx context.Context, issuerURL string) (bool, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return func(ctx context.Context, issuerURL string) (bool, error) {
		u := strings.TrimSuffix(issuerURL, "/") + "/.well-known/openid-configuration"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, fmt.Errorf("discovery request for %s: %w", issuerURL, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, fmt.Errorf("fetch %s: %w", u, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("fetch %s: HTTP %d", u, resp.StatusCode)
		}
		var doc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, discoveryLimit)).Decode(&doc); err != nil {
			return false, fmt.Errorf("read %s: %w", u, err)
		}
		return strings.HasSuffix(strings.TrimSuffix(doc.JWKSURI, "/"), "/oauth/discovery/keys"), nil
	}
}
