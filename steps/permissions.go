package steps

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gitlab-oidc/internal/policy"
)

// Template is a ready-made least-privilege inline policy for a common CI job
// (deploy a static site to S3, push an image to ECR, roll out an ECS
// service), so nobody has to reach for AdministratorAccess to get started.
type Template struct {
	TemplateInfo
	// Optional lists the parameters that may be left empty.
	Optional []string
	render   func(p map[string]string, account, region string) ([]policy.Statement, error)
}

// Template IDs.
const (
	TemplateS3Deploy  = "s3-deploy"
	TemplateECRPush   = "ecr-push"
	TemplateECSDeploy = "ecs-deploy"
)

// Template parameter names.
const (
	ParamBucket       = "bucket"
	ParamRepository   = "repository"
	ParamCluster      = "cluster"
	ParamService      = "service"
	ParamPassRoleARNs = "pass_role_arns" // comma-separated task and execution role ARNs
)

// Templates lists the permissions templates in the order the Permissions
// screen offers them.
func Templates() []Template {
	return []Template{
		{
			TemplateInfo: TemplateInfo{ID: TemplateS3Deploy, Title: "Deploy to one S3 bucket",
				Description: "List the bucket and read, write and delete its objects (static sites, artifacts).",
				Params:      []string{ParamBucket}},
			render: renderS3,
		},
		{
			TemplateInfo: TemplateInfo{ID: TemplateECRPush, Title: "Push images to one ECR repository",
				Description: "Log in to ECR and push and pull images of one repository.",
				Params:      []string{ParamRepository}},
			render: renderECR,
		},
		{
			TemplateInfo: TemplateInfo{ID: TemplateECSDeploy, Title: "Update one ECS service",
				Description: "Register task definitions and roll out one service; pass only the named task roles.",
				Params:      []string{ParamCluster, ParamService, ParamPassRoleARNs}},
			Optional: []string{ParamPassRoleARNs},
			render:   renderECS,
		},
	}
}

// TemplateInfos describes the templates for the UI.
func TemplateInfos() []TemplateInfo {
	ts := Templates()
	out := make([]TemplateInfo, len(ts))
	for i, t := range ts {
		out[i] = t.TemplateInfo
	}
	return out
}

// RenderTemplate renders template id with its parameters for the account
// and region into an inline policy named after the template and its target
// (e.g. "gitlab-oidc-s3-deploy-acme-site"), so two buckets get two policies.
// Parameters are validated with AWS's naming rules; unknown or missing ones
// are errors.
func RenderTemplate(id string, params map[string]string, account, region string) (InlinePolicy, error) {
	i := slices.IndexFunc(Templates(), func(t Template) bool { return t.ID == id })
	if i < 0 {
		ids := make([]string, 0, 3)
		for _, t := range Templates() {
			ids = append(ids, t.ID)
		}
		return InlinePolicy{}, fmt.Errorf("unknown permissions template %q; choose one of %s", id, strings.Join(ids, ", "))
	}
	t := Templates()[i]
	clean := map[string]string{}
	for k, v := range params {
		if !slices.Contains(t.Params, k) {
			return InlinePolicy{}, fmt.Errorf("template %s has no parameter %q; it takes %s", id, k, strings.Join(t.Params, ", "))
		}
		clean[k] = strings.TrimSpace(v)
	}
	for _, p := range t.Params {
		if clean[p] == "" && !slices.Contains(t.Optional, p) {
			return InlinePolicy{}, fmt.Errorf("template %s needs the parameter %q", id, p)
		}
	}
	stmts, err := t.render(clean, account, region)
	if err != nil {
		return InlinePolicy{}, fmt.Errorf("template %s: %w", id, err)
	}
	for i := range stmts {
		stmts[i].Index = i
		stmts[i].Effect = "Allow"
	}
	doc, err := policy.Marshal(&policy.Document{Version: "2012-10-17", Statements: stmts})
	if err != nil {
		return InlinePolicy{}, fmt.Errorf("template %s: %w", id, err)
	}
	return InlinePolicy{Name: inlinePolicyName(id, targetOf(t, clean)), Document: string(doc)}, nil
}

// targetOf is the parameter that names what the policy grants access to.
func targetOf(t Template, p map[string]string) string {
	switch t.ID {
	case TemplateECSDeploy:
		return p[ParamCluster] + "-" + p[ParamService]
	default:
		return p[t.Params[0]]
	}
}

var policyNameUnsafe = regexp.MustCompile(`[^\w+=,.@-]+`)

func inlinePolicyName(id, target string) string {
	name := "gitlab-oidc-" + id + "-" + policyNameUnsafe.ReplaceAllString(target, "-")
	if len(name) > 128 {
		name = name[:128]
	}
	return name
}

func renderS3(p map[string]string, _, region string) ([]policy.Statement, error) {
	b := p[ParamBucket]
	if err := ValidateBucketName(b); err != nil {
		return nil, err
	}
	bucketARN := "arn:" + partitionOf(region) + ":s3:::" + b
	return []policy.Statement{
		{Sid: "ListBucket", Actions: []string{"s3:ListBucket"}, Resources: []string{bucketARN}},
		{Sid: "ReadWriteObjects", Actions: []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}, Resources: []string{bucketARN + "/*"}},
	}, nil
}

func renderECR(p map[string]string, account, region string) ([]policy.Statement, error) {
	repo := p[ParamRepository]
	if err := ValidateECRRepositoryName(repo); err != nil {
		return nil, err
	}
	if err := checkAccountRegion(account, region); err != nil {
		return nil, err
	}
	return []policy.Statement{
		// GetAuthorizationToken has no resource-level permissions: "*" is required.
		{Sid: "ECRLogin", Actions: []string{"ecr:GetAuthorizationToken"}, Resources: []string{"*"}},
		{Sid: "PushPull", Actions: []string{
			"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
			"ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
		}, Resources: []string{fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", partitionOf(region), region, account, repo)}},
	}, nil
}

func renderECS(p map[string]string, account, region string) ([]policy.Statement, error) {
	cluster, service := p[ParamCluster], p[ParamService]
	for _, v := range []struct{ what, name string }{{"cluster", cluster}, {"service", service}} {
		if !ecsNameRE.MatchString(v.name) {
			return nil, fmt.Errorf("ECS %s name %q: use 1 to 255 letters, digits, hyphens and underscores", v.what, v.name)
		}
	}
	if err := checkAccountRegion(account, region); err != nil {
		return nil, err
	}
	stmts := []policy.Statement{
		{Sid: "UpdateService", Actions: []string{"ecs:DescribeServices", "ecs:UpdateService"},
			Resources: []string{fmt.Sprintf("arn:%s:ecs:%s:%s:service/%s/%s", partitionOf(region), region, account, cluster, service)}},
		// Task definition calls have no resource-level permissions.
		{Sid: "TaskDefinitions", Actions: []string{"ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"}, Resources: []string{"*"}},
	}
	var roles []string
	for _, r := range strings.Split(p[ParamPassRoleARNs], ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if !roleARNRE.MatchString(r) {
			return nil, fmt.Errorf("%s: %q is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)", ParamPassRoleARNs, r)
		}
		roles = append(roles, r)
	}
	if len(roles) > 0 {
		sort.Strings(roles)
		stmts = append(stmts, policy.Statement{Sid: "PassTaskRoles", Actions: []string{"iam:PassRole"}, Resources: roles,
			Conditions: []policy.Condition{{Operator: "StringEquals", Key: "iam:PassedToService", Values: []string{"ecs-tasks.amazonaws.com"}}}})
	}
	return stmts, nil
}

var (
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	ecrRepoRE = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	ecsNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	accountRE = regexp.MustCompile(`^\d{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
)

// ValidateBucketName checks S3's rules for general purpose bucket names.
func ValidateBucketName(name string) error {
	bad := func(why string) error { return fmt.Errorf("bucket name %q: %s", name, why) }
	switch {
	case len(name) < 3 || len(name) > 63:
		return bad("must be 3 to 63 characters")
	case !bucketRE.MatchString(name):
		return bad("use lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit")
	case strings.Contains(name, ".."), strings.Contains(name, ".-"), strings.Contains(name, "-."):
		return bad("dots may not be adjacent to each other or to hyphens")
	case strings.HasPrefix(name, "xn--"), strings.HasPrefix(name, "sthree-"), strings.HasPrefix(name, "amzn-s3-demo-"):
		return bad("this prefix is reserved by S3")
	case strings.HasSuffix(name, "-s3alias"), strings.HasSuffix(name, "--ol-s3"), strings.HasSuffix(name, ".mrap"), strings.HasSuffix(name, "--x-s3"):
		return bad("this suffix is reserved by S3")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("must not look like an IP address")
	}
	return nil
}

// ValidateECRRepositoryName checks ECR's rules for repository names
// (optionally namespaced, e.g. "team/app").
func ValidateECRRepositoryName(name string) error {
	if len(name) < 2 || len(name) > 256 || !ecrRepoRE.MatchString(name) {
		return fmt.Errorf("ECR repository name %q: use 2 to 256 lowercase letters, digits and . _ - separated by /, starting each part with a letter or digit", name)
	}
	return nil
}

func checkAccountRegion(account, region string) error {
	if !accountRE.MatchString(account) {
		return fmt.Errorf("AWS account %q is not a 12-digit account ID", account)
	}
	if !regionRE.MatchString(region) {
		return fmt.Errorf("AWS region %q is not a region name like eu-central-1; pass --region", region)
	}
	return nil
}

// partitionOf is the ARN partition of a region: China and GovCloud regions
// have their own.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// IsAdministrator reports whether policyARN is AWS's AdministratorAccess
// managed policy (in any partition), which gives every allowed job full
// control of the account: the wizard and the CLI ask twice before
// attaching it.
func IsAdministrator(policyARN string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(policyARN), "arn:")
	if !ok {
		return false
	}
	partition, rest, _ := strings.Cut(rest, ":")
	return strings.HasPrefix(partition, "aws") && rest == "iam::aws:policy/AdministratorAccess"
}
