package iamsim

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// IAM quotas and limits for OIDC providers (IAM User Guide, reference_iam-quotas).
const (
	maxProviders   = 100
	maxClientIDs   = 100
	maxThumbprints = 5
	maxTags        = 50
)

var thumbprintRE = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)

type provider struct {
	url         string // without https://, as IAM stores it
	clientIDs   []string
	thumbprints []string
	tags        []types.Tag
	created     time.Time
}

func (p *provider) arn() string { return arn("oidc-provider", p.url) }

// providerKey maps a provider ARN to the stored URL.
func providerKey(providerARN string) string {
	_, key, _ := strings.Cut(providerARN, ":oidc-provider/")
	return key
}

// ListOpenIDConnectProviders lists the providers' ARNs in creation order.
func (s *Sim) ListOpenIDConnectProviders(ctx context.Context, in *iam.ListOpenIDConnectProvidersInput, _ ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error) {
	if err := s.begin(ctx, "IAM", "ListOpenIDConnectProviders"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := &iam.ListOpenIDConnectProvidersOutput{OpenIDConnectProviderList: []types.OpenIDConnectProviderListEntry{}}
	for _, key := range s.provOrder {
		out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList,
			types.OpenIDConnectProviderListEntry{Arn: aws.String(s.providers[key].arn())})
	}
	return out, nil
}

// GetOpenIDConnectProvider returns a provider; like IAM, Url has no scheme.
func (s *Sim) GetOpenIDConnectProvider(ctx context.Context, in *iam.GetOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error) {
	const op = "GetOpenIDConnectProvider"
	return providerCall(s, ctx, op, in.OpenIDConnectProviderArn, func(p *provider) (*iam.GetOpenIDConnectProviderOutput, error) {
		return &iam.GetOpenIDConnectProviderOutput{
			Url:            aws.String(p.url),
			ClientIDList:   slices.Clone(p.clientIDs),
			ThumbprintList: slices.Clone(p.thumbprints),
			Tags:           slices.Clone(p.tags),
			CreateDate:     aws.Time(p.created),
		}, nil
	})
}

// CreateOpenIDConnectProvider registers a provider. The URL must start with
// https:// and may be registered once per account; thumbprints are optional
// (IAM then trusts the certificate's root CA).
func (s *Sim) CreateOpenIDConnectProvider(ctx context.Context, in *iam.CreateOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.CreateOpenIDConnectProviderOutput, error) {
	const op = "CreateOpenIDConnectProvider"
	if err := s.begin(ctx, "IAM", op); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	rawURL := aws.ToString(in.Url)
	key, ok := strings.CutPrefix(rawURL, "https://")
	if !ok || key == "" || len(rawURL) > 255 || strings.Contains(key, "?") {
		return nil, invalidInput(op, "Invalid Open ID Connect Provider URL %q: it must begin with https:// and have no query", rawURL)
	}
	if _, exists := s.providers[key]; exists {
		return nil, alreadyExists(op, "Provider with url %s already exists.", rawURL)
	}
	if len(s.providers) >= maxProviders {
		return nil, limitExceeded(op, "Cannot exceed quota for OpenIdConnectProvidersPerAccount: %d", maxProviders)
	}
	if err := checkClientIDs(op, in.ClientIDList); err != nil {
		return nil, err
	}
	if err := checkThumbprints(op, in.ThumbprintList); err != nil {
		return nil, err
	}
	if len(in.Tags) > maxTags {
		return nil, limitExceeded(op, "Cannot exceed quota for TagsPerOpenIdConnectProvider: %d", maxTags)
	}
	p := &provider{
		url:         key,
		clientIDs:   dedupe(in.ClientIDList),
		thumbprints: slices.Clone(in.ThumbprintList),
		tags:        slices.Clone(in.Tags),
		created:     time.Now().UTC(),
	}
	s.providers[key] = p
	s.provOrder = append(s.provOrder, key)
	return &iam.CreateOpenIDConnectProviderOutput{OpenIDConnectProviderArn: aws.String(p.arn()), Tags: slices.Clone(p.tags)}, nil
}

// AddClientIDToOpenIDConnectProvider adds an audience. Adding one that is
// already registered succeeds without a change, as in IAM.
func (s *Sim) AddClientIDToOpenIDConnectProvider(ctx context.Context, in *iam.AddClientIDToOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.AddClientIDToOpenIDConnectProviderOutput, error) {
	const op = "AddClientIDToOpenIDConnectProvider"
	return providerCall(s, ctx, op, in.OpenIDConnectProviderArn, func(p *provider) (*iam.AddClientIDToOpenIDConnectProviderOutput, error) {
		id := aws.ToString(in.ClientID)
		if err := checkClientIDs(op, []string{id}); err != nil {
			return nil, err
		}
		if slices.Contains(p.clientIDs, id) {
			return &iam.AddClientIDToOpenIDConnectProviderOutput{}, nil
		}
		if len(p.clientIDs) >= maxClientIDs {
			return nil, limitExceeded(op, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
		}
		p.clientIDs = append(p.clientIDs, id)
		return &iam.AddClientIDToOpenIDConnectProviderOutput{}, nil
	})
}

// UpdateOpenIDConnectProviderThumbprint replaces the thumbprint list.
func (s *Sim) UpdateOpenIDConnectProviderThumbprint(ctx context.Context, in *iam.UpdateOpenIDConnectProviderThumbprintInput, _ ...func(*iam.Options)) (*iam.UpdateOpenIDConnectProviderThumbprintOutput, error) {
	const op = "UpdateOpenIDConnectProviderThumbprint"
	return providerCall(s, ctx, op, in.OpenIDConnectProviderArn, func(p *provider) (*iam.UpdateOpenIDConnectProviderThumbprintOutput, error) {
		if err := checkThumbprints(op, in.ThumbprintList); err != nil {
			return nil, err
		}
		p.thumbprints = slices.Clone(in.ThumbprintList)
		return &iam.UpdateOpenIDConnectProviderThumbprintOutput{}, nil
	})
}

func checkClientIDs(op string, ids []string) error {
	if len(ids) > maxClientIDs {
		return limitExceeded(op, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
	}
	for _, id := range ids {
		if id == "" || len(id) > 255 {
			return validation(op, "1 validation error detected: client ID %q must be 1 to 255 characters", id)
		}
	}
	return nil
}

func checkThumbprints(op string, tps []string) error {
	if len(tps) > maxThumbprints {
		return limitExceeded(op, "Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: %d", maxThumbprints)
	}
	for _, tp := range tps {
		if !thumbprintRE.MatchString(tp) {
			return validation(op, "1 validation error detected: thumbprint %q must be 40 hexadecimal characters", tp)
		}
	}
	return nil
}

func dedupe(list []string) []string {
	out := []string{}
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
