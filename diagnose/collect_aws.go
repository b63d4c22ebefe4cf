package diagnose

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/policy"
)

// maxProviderReads bounds concurrent GetOpenIDConnectProvider calls (an
// account has at most 100 providers).
const maxProviderReads = 8

// readIAM reads the role and the account's OIDC providers concurrently.
func (c *collector) readIAM(ctx context.Context) {
	var wg sync.WaitGroup
	if c.ev.Role != nil && c.ev.Role.Name != "" {
		wg.Go(func() { c.readRole(ctx) })
	}
	wg.Go(func() { c.readProviders(ctx) })
	wg.Wait()
}

func (c *collector) readRole(ctx context.Context) {
	r := c.ev.Role
	var wg sync.WaitGroup
	var attached []string
	var attachedErr error
	wg.Go(func() { attached, attachedErr = c.attachedPolicies(ctx, r.Name) })
	out, err := c.src.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.Name)})
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			r.NotFound = true
			return
		}
		r.Err = awsapi.Explain(err, "read role "+r.Name).Error()
		c.ev.Notes = append(c.ev.Notes, "role: "+r.Err)
		return
	}
	if attachedErr == nil {
		r.AttachedPolicies = attached
	}
	role := out.Role
	if r.MaxSessionDuration == 0 && role.MaxSessionDuration != nil {
		r.MaxSessionDuration = *role.MaxSessionDuration
	}
	if r.Trust != nil || role.AssumeRolePolicyDocument == nil {
		return // --trust-policy wins: the user is testing a change
	}
	doc, perr := policy.Parse([]byte(*role.AssumeRolePolicyDocument))
	if perr != nil {
		r.TrustErr = perr.Error()
		return
	}
	r.Trust, r.TrustSource = doc, "GetRole"
}

func (c *collector) attachedPolicies(ctx context.Context, role string) ([]string, error) {
	var names []string
	p := iam.NewListAttachedRolePoliciesPaginator(c.src.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ap := range page.AttachedPolicies {
			names = append(names, aws.ToString(ap.PolicyArn))
		}
	}
	return names, nil
}

// readProviders lists every OIDC provider of the account with its client
// IDs and thumbprints. A provider given by flags replaces the listed one
// with the same URL.
func (c *collector) readProviders(ctx context.Context) {
	list, err := c.src.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		c.note("providers: %v", awsapi.Explain(err, "list the IAM OIDC providers"))
		return
	}
	found := make([]Provider, len(list.OpenIDConnectProviderList))
	errs := make([]error, len(found))
	sem := make(chan struct{}, maxProviderReads)
	var wg sync.WaitGroup
	for i, entry := range list.OpenIDConnectProviderList {
		arn := aws.ToString(entry.Arn)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := c.src.IAM.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
			if err != nil {
				errs[i] = err
				found[i] = Provider{ARN: arn, URL: providerURLFromARN(arn)}
				return
			}
			found[i] = Provider{ARN: arn, URL: KeyPrefix(aws.ToString(out.Url)), ClientIDs: out.ClientIDList, Thumbprints: out.ThumbprintList}
		})
	}
	wg.Wait()
	facts := &ProviderFacts{Listed: true, List: found}
	for _, e := range errs {
		if e != nil {
			facts.Err = awsapi.Explain(e, "read an IAM OIDC provider").Error()
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ev.Providers != nil { // from flags: they override
		for _, fp := range c.ev.Providers.List {
			replaced := false
			for i := range facts.List {
				if facts.List[i].URL == fp.URL {
					facts.List[i].ClientIDs, facts.List[i].Thumbprints = orList(fp.ClientIDs, facts.List[i].ClientIDs), orList(fp.Thumbprints, facts.List[i].Thumbprints)
					replaced = true
				}
			}
			if !replaced {
				facts.List = append(facts.List, fp)
			}
		}
	}
	c.ev.Providers = facts
}

// providerURLFromARN is the provider URL (without scheme) in its ARN.
func providerURLFromARN(arn string) string {
	_, url, _ := strings.Cut(arn, ":oidc-provider/")
	return url
}

func orList(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}
