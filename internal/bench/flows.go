package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/steps"
)

// Measurement is one flow's wall time and what its trace says.
type Measurement struct {
	Flow string
	Wall time.Duration
	Result
}

// Ratio is wall time over the critical path (0 without calls).
func (m Measurement) Ratio() float64 {
	if m.Critical <= 0 {
		return 0
	}
	return float64(m.Wall) / float64(m.Critical)
}

// measure runs f with a fresh trace and analyses what it called.
func (w *World) measure(flow string, f func() error) (Measurement, error) {
	w.ResetTrace()
	start := time.Now()
	err := f()
	m := Measurement{Flow: flow, Wall: time.Since(start)}
	m.Result = Analyze(w.Trace())
	if err != nil {
		return m, fmt.Errorf("%s: %w", flow, err)
	}
	return m, nil
}

// SetupChoices are the wizard's defaults for the seeded project: the
// default branch, protected variable, snippet in the checkout.
func SetupChoices() steps.Choices {
	return steps.Choices{Allow: []steps.Allow{{Kind: steps.AllowBranch, Pattern: "main"}}}
}

// Setup runs the wizard's three waits (Connect, Preview, Apply) with the
// default choices and measures each; a person's think time between them
// is not measured.
func (w *World) Setup(ctx context.Context, name string) ([]Measurement, error) {
	var conn *steps.Connection
	var plan steps.Plan
	var out []Measurement
	phases := []struct {
		name string
		run  func() error
	}{
		{"connect", func() (err error) {
			conn, err = w.Runner.Connect(ctx)
			if err != nil {
				return err
			}
			plan, err = w.Runner.Plan(conn, SetupChoices())
			return err
		}},
		{"preview", func() error {
			pv, err := w.Runner.Preview(ctx, plan, steps.Decisions{})
			if err == nil && len(pv.Conflicts) > 0 {
				err = fmt.Errorf("unexpected conflicts: %v", pv.Conflicts[0])
			}
			return err
		}},
		{"apply", func() error {
			_, err := w.Runner.Apply(ctx, plan, steps.Decisions{}, nil)
			return err
		}},
	}
	for _, p := range phases {
		m, err := w.measure(name+"/"+p.name, p.run)
		out = append(out, m)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Total sums the phases of one flow: the waits add up, and so do their
// critical paths.
func Total(flow string, phases []Measurement) Measurement {
	t := Measurement{Flow: flow}
	for _, p := range phases {
		t.Wall += p.Wall
		t.Calls += p.Calls
		t.Waves += p.Waves
		t.Chain += p.Chain
		t.Critical += p.Critical
		t.Busy += p.Busy
		t.MaxInFlight = max(t.MaxInFlight, p.MaxInFlight)
		t.Avoidable = append(t.Avoidable, p.Avoidable...)
	}
	return t
}

// DoctorOptions is the doctor's input for the seeded failed job with every
// online probe: the token, the role, the job (whose log GitLab serves) and
// the issuer named by the token.
func (w *World) DoctorOptions(roleARN string) diagnose.CollectOptions {
	return diagnose.CollectOptions{
		Token: w.IDToken(nil), TokenGiven: true, TokenSource: "--token",
		RoleARN: roleARN, JobURL: w.JobURL(), GitLabURL: w.GitLab.URL,
		PrivateIssuerOK: true,
	}
}

// Sources are the doctor's remote sources for this world.
func (w *World) Sources() diagnose.Sources {
	return diagnose.Sources{IAM: w.IAM, GitLab: w.GitLabClient, Probe: w.Probe}
}

// Doctor collects and diagnoses once.
func (w *World) Doctor(ctx context.Context, opts diagnose.CollectOptions) (Measurement, []diagnose.Finding, error) {
	var findings []diagnose.Finding
	m, err := w.measure("doctor/online", func() error {
		ev, err := diagnose.Collect(ctx, opts, w.Sources())
		if err != nil {
			return err
		}
		findings = diagnose.Diagnose(ev)
		return nil
	})
	return m, findings, err
}

// SeedAuditRoles creates n roles straight in moto (outside the trace): a
// GitLab provider, and roles trusting it with a mix of healthy and risky
// trust policies, each with one managed and one inline policy.
func (w *World) SeedAuditRoles(ctx context.Context, n int) error {
	prov, err := w.Seed.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://gitlab.com"), ClientIDList: []string{"sts.amazonaws.com"},
		ThumbprintList: []string{strings.Repeat("a", 40)},
	})
	if err != nil {
		return fmt.Errorf("seed provider: %w", err)
	}
	managed, err := w.Seed.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("ci-read-artifacts"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-artifacts/*"}]}`)})
	if err != nil {
		return fmt.Errorf("seed managed policy: %w", err)
	}
	subs := []string{"project_path:acme/app%d:ref_type:branch:ref:main", "project_path:acme/*", "project_path:acme/app%d:ref_type:*"}
	for i := range n {
		sub := subs[i%len(subs)]
		if strings.Contains(sub, "%d") {
			sub = fmt.Sprintf(sub, i)
		}
		op := "StringEquals"
		if strings.Contains(sub, "*") {
			op = "StringLike"
		}
		trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{%q:{"gitlab.com:aud":"sts.amazonaws.com","gitlab.com:sub":%q}}}]}`,
			aws.ToString(prov.OpenIDConnectProviderArn), op, sub)
		name := fmt.Sprintf("gitlab-ci-app%03d", i)
		if _, err := w.Seed.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			return fmt.Errorf("seed role %s: %w", name, err)
		}
		if _, err := w.Seed.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: managed.Policy.Arn}); err != nil {
			return fmt.Errorf("seed role %s: %w", name, err)
		}
		if _, err := w.Seed.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("deploy"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::acme-artifacts/*"}]}`)}); err != nil {
			return fmt.Errorf("seed role %s: %w", name, err)
		}
	}
	return nil
}

// Audit audits the account once.
func (w *World) Audit(ctx context.Context) (Measurement, diagnose.AuditReport, error) {
	var rep diagnose.AuditReport
	m, err := w.measure("audit/account", func() (err error) {
		rep, err = diagnose.AuditAccount(ctx, w.IAM, diagnose.AccountAuditOptions{})
		return err
	})
	return m, rep, err
}
