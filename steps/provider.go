package steps

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"gitlab-oidc/internal/awsapi"
)

// Resource names used in Changes and ConflictErrors.
const (
	ResourceProvider     = "IAM OIDC provider"
	ResourceRole         = "IAM role"
	ResourceTrustPolicy  = "trust policy"
	ResourceManaged      = "managed policy"
	ResourceInlinePolicy = "inline policy"
)

// ManagedByTag marks what gitlab-oidc created, so audits and people can tell
// it apart from hand-made resources.
const (
	ManagedByKey   = "managed-by"
	ManagedByValue = "gitlab-oidc"
)

// confirmHint is how the user gives permission to change something that
// already exists.
const confirmHint = "confirm it in the wizard or re-run with --yes"

// ProviderSpec is the IAM OIDC identity provider setup wants.
type ProviderSpec struct {
	// URL is the issuer, https://host[/path], exactly as in the tokens' iss.
	URL string
	// ClientIDs are the audiences (the tokens' aud) the provider must accept.
	ClientIDs []string
	// Thumbprints are optional; IAM trusts publicly signed certificates
	// without them.
	Thumbprints []string
	// Tags are added on create (managed-by=gitlab-oidc is always added).
	Tags map[string]string
}

// ProviderResult is the provider after EnsureProvider.
type ProviderResult struct {
	ARN     string
	Existed bool
	// ClientIDs are the provider's audiences after the step (or after it
	// would run, in a preview).
	ClientIDs []string
}

// EnsureProvider makes sure an IAM OIDC provider for spec.URL exists and
// accepts every audience in spec.ClientIDs. An existing provider for the
// same URL is reused (an account can hold only one per URL); a missing
// audience is added only with d.AddClientID, otherwise the result is a
// *ConflictError. With apply false it only reads, and returns the changes
// it would make. Thumbprints of an existing provider are left alone: IAM
// no longer uses them for publicly trusted issuers, and replacing them could
// break other roles.
func EnsureProvider(ctx context.Context, c awsapi.IAM, spec ProviderSpec, d Decisions, apply bool) (ProviderResult, []Change, error) {
	if err := ValidateIssuer(spec.URL); err != nil {
		return ProviderResult{}, nil, err
	}
	if len(spec.ClientIDs) == 0 {
		return ProviderResult{}, nil, fmt.Errorf("provider %s: no audience given; the provider must accept the aud of the jobs' ID tokens", spec.URL)
	}
	providerARN, err := findProvider(ctx, c, spec.URL)
	if err != nil {
		return ProviderResult{}, nil, err
	}
	if providerARN == "" {
		return createProvider(ctx, c, spec, apply)
	}

	out, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)})
	if err != nil {
		return ProviderResult{}, nil, awsapi.Explain(err, fmt.Sprintf("read provider %s", providerARN))
	}
	res := ProviderResult{ARN: providerARN, Existed: true, ClientIDs: slices.Clone(out.ClientIDList)}
	var missing []string
	for _, id := range spec.ClientIDs {
		if !slices.Contains(res.ClientIDs, id) && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return res, []Change{{Action: ActionKeep, Resource: ResourceProvider, Name: providerARN,
			Detail: "exists and accepts " + quoteJoin(spec.ClientIDs)}}, nil
	}

	ch := Change{Action: ActionUpdate, Resource: ResourceProvider, Name: providerARN,
		Detail: "add audience " + quoteJoin(missing), Diff: clientIDDiff(res.ClientIDs, missing)}
	res.ClientIDs = append(res.ClientIDs, missing...)
	if !d.AddClientID {
		return res, []Change{ch}, &ConflictError{Resource: ResourceProvider, Name: providerARN, Diff: ch.Diff,
			Hint: "it does not accept the audience " + quoteJoin(missing) + "; adding it changes nothing for existing roles: " + confirmHint}
	}
	if apply {
		for _, id := range missing {
			// AddClientIDToOpenIDConnectProvider is not implemented by moto
			// (500 NotImplemented); this path is tested against iamsim.
			_, err := c.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{
				OpenIDConnectProviderArn: aws.String(providerARN), ClientID: aws.String(id)})
			if err != nil {
				return res, []Change{ch}, awsapi.Explain(err, fmt.Sprintf("add audience %q to provider %s", id, providerARN))
			}
		}
		ch.Applied = true
	}
	return res, []Change{ch}, nil
}

// findProvider returns the ARN of the account's provider for issuerURL, or
// "" when there is none. The ARN ends with the URL as IAM stores it (no
// scheme), so no per-provider read is needed.
func findProvider(ctx context.Context, c awsapi.IAM, issuerURL string) (string, error) {
	list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return "", awsapi.Explain(err, "list IAM OIDC providers")
	}
	want := NormalizeProviderURL(issuerURL)
	for _, p := range list.OpenIDConnectProviderList {
		a := aws.ToString(p.Arn)
		if _, name, ok := strings.Cut(a, ":oidc-provider/"); ok && NormalizeProviderURL(name) == want {
			return a, nil
		}
	}
	return "", nil
}

// NormalizeProviderURL reduces an issuer URL to the form IAM stores and puts
// in the provider ARN: no https:// scheme and no trailing slash.
func NormalizeProviderURL(u string) string {
	return strings.TrimRight(strings.TrimPrefix(strings.TrimSpace(u), "https://"), "/")
}

func createProvider(ctx context.Context, c awsapi.IAM, spec ProviderSpec, apply bool) (ProviderResult, []Change, error) {
	name := NormalizeProviderURL(spec.URL)
	res := ProviderResult{ClientIDs: slices.Clone(spec.ClientIDs)}
	ch := Change{Action: ActionCreate, Resource: ResourceProvider, Name: "https://" + name,
		Detail: "audience " + quoteJoin(spec.ClientIDs)}
	if len(spec.Thumbprints) > 0 {
		// Only for issuers whose certificate is not publicly trusted: the
		// user should see which certificate AWS will pin.
		ch.Detail += ", thumbprint " + strings.Join(spec.Thumbprints, ", ")
	}
	if !apply {
		return res, []Change{ch}, nil
	}
	out, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url:            aws.String("https://" + name),
		ClientIDList:   spec.ClientIDs,
		ThumbprintList: spec.Thumbprints,
		Tags:           iamTags(spec.Tags),
	})
	if err != nil {
		return res, []Change{ch}, awsapi.Explain(err, fmt.Sprintf("create IAM OIDC provider for %s", spec.URL))
	}
	res.ARN = aws.ToString(out.OpenIDConnectProviderArn)
	ch.Name, ch.Applied = res.ARN, true
	return res, []Change{ch}, nil
}

// iamTags turns a tag map into IAM tags, sorted by key, always including
// managed-by=gitlab-oidc.
func iamTags(m map[string]string) []types.Tag {
	all := map[string]string{ManagedByKey: ManagedByValue}
	for k, v := range m {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tags := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(all[k])})
	}
	return tags
}

func clientIDDiff(existing, added []string) string {
	var b strings.Builder
	b.WriteString("  client IDs:\n")
	for _, id := range existing {
		b.WriteString("    " + id + "\n")
	}
	for _, id := range added {
		b.WriteString("+   " + id + "\n")
	}
	return b.String()
}

func quoteJoin(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
