package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/demo"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/gitremote"
	"gitlab-oidc/steps"
)

// connectFlags are the flags every command that talks to AWS and GitLab shares.
type connectFlags struct {
	profile   string
	region    string
	gitlabURL string
	project   string
	issuerURL string
	noTUI     bool
	format    string
	demo      bool
	workDir   string
	noProbe   bool
}

func (c *connectFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&c.profile, "profile", "", "AWS shared config profile (default: the default credential chain)")
	fl.StringVar(&c.region, "region", "", "AWS region (default: from the profile or AWS_REGION; us-east-1 if none)")
	fl.StringVar(&c.gitlabURL, "gitlab-url", "", "GitLab URL (default: the origin remote's host when it is GitLab, else GITLAB_URL, else https://gitlab.com)")
	fl.StringVar(&c.project, "project", "", "GitLab project path or ID (default: the origin remote's path)")
	fl.StringVar(&c.issuerURL, "issuer-url", "", "ID token issuer (default: the instance's discovery document, else the GitLab URL)")
	fl.BoolVar(&c.noTUI, "no-tui", false, "plain output, every choice from flags (also without a terminal, ACCESSIBLE=1 or TERM=dumb)")
	fl.StringVar(&c.format, "format", "text", "output format: text or json")
	fl.BoolVar(&c.demo, "demo", false, "run against a simulated AWS account and GitLab project (nothing leaves this machine)")
	fl.StringVarP(&c.workDir, "dir", "C", ".", "the project checkout")
}

// plain reports whether to use plain output instead of the TUI.
func (c *connectFlags) plain(cmd *cobra.Command) bool {
	return plainMode(cmd, c.noTUI || c.format != "text")
}

// plainMode decides between the TUI and plain output for every command:
// plain when asked (--no-tui, a machine format), for screen readers
// (ACCESSIBLE), on dumb terminals, or when stdin or stdout is not a terminal.
func plainMode(cmd *cobra.Command, asked bool) bool {
	if asked || os.Getenv("ACCESSIBLE") != "" || os.Getenv("TERM") == "dumb" {
		return true
	}
	return !isTerminal(cmd.InOrStdin()) || !isTerminal(cmd.OutOrStdout())
}

// isTerminal reports whether a stream is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// noColor is NO_COLOR or a dumb terminal.
func noColor() bool {
	return os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb"
}

// runner wires the real clients, or the simulation for --demo.
func (c *connectFlags) runner(ctx context.Context, cmd *cobra.Command) (*steps.Runner, error) {
	if c.demo {
		env, err := demo.Env(c.workDir)
		if err != nil {
			return nil, err
		}
		return &steps.Runner{Env: env}, nil
	}
	remote, remoteErr := gitremote.Detect(c.workDir)
	baseURL, err := c.resolveGitLabURL(remote, remoteErr)
	if err != nil {
		return nil, err
	}
	project, projectSource := c.project, "--project"
	if project == "" && remoteErr == nil && sameHost(remote.BaseURL, baseURL) {
		project, projectSource = remote.ProjectPath, "git remote origin"
	}
	if project == "" {
		return nil, usageError("no GitLab project: pass --project group/name, or run in a checkout whose origin remote points at %s", baseURL)
	}
	host := urlHost(baseURL)
	token, source := gitlabapi.TokenFromEnvironment(host)
	if token == "" {
		return nil, usageError("no GitLab token for %s: set GITLAB_TOKEN to a personal access token with the api scope (or log in with glab auth login)", host)
	}
	gl, err := gitlabapi.New(baseURL, token, nil)
	if err != nil {
		return nil, err
	}
	probe := steps.ProbeIssuer(nil)
	if c.noProbe {
		probe = nil
	}
	cfg, err := awsapi.LoadConfig(ctx, c.profile, c.region)
	if err != nil {
		return nil, err
	}
	return &steps.Runner{Env: steps.Env{
		IAM:               iam.NewFromConfig(cfg),
		STS:               sts.NewFromConfig(cfg),
		GitLab:            gl,
		GitLabTokenSource: source,
		Region:            cfg.Region,
		Profile:           c.profile,
		Project:           project,
		ProjectSource:     projectSource,
		IssuerURL:         c.issuerURL,
		Probe:             probe,
		WorkDir:           c.workDir,
	}}, nil
}

func (c *connectFlags) resolveGitLabURL(remote gitremote.Remote, remoteErr error) (string, error) {
	switch {
	case c.gitlabURL != "":
		return steps.InstanceFromURL(c.gitlabURL)
	case remoteErr == nil && remote.IsGitLab():
		return remote.BaseURL, nil
	case os.Getenv("GITLAB_URL") != "":
		return steps.InstanceFromURL(os.Getenv("GITLAB_URL"))
	}
	return "https://gitlab.com", nil
}

func sameHost(a, b string) bool {
	return strings.EqualFold(urlHost(a), urlHost(b))
}

// urlHost is the host (and port) of a GitLab URL, without scheme or the
// relative URL root: the key glab's config and tokens are filed under.
func urlHost(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	host, _, _ := strings.Cut(u, "/")
	return host
}

// printer writes progress lines to stderr, with symbols that survive NO_COLOR.
type printer struct {
	w       interface{ Write([]byte) (int, error) }
	noColor bool
}

// newPrinter colours only a terminal, and never with NO_COLOR or TERM=dumb.
func newPrinter(w interface{ Write([]byte) (int, error) }, noColor bool) *printer {
	if !isTerminal(w) {
		noColor = true
	}
	return &printer{w: w, noColor: noColor}
}

func (p *printer) paint(code, s string) string {
	if p.noColor {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *printer) line(s string)  { fmt.Fprintln(p.w, s) }
func (p *printer) step(s string)  { fmt.Fprintln(p.w, p.paint("2", "… "+s)) }
func (p *printer) ok(s string)    { fmt.Fprintln(p.w, p.paint("32", "✓")+" "+s) }
func (p *printer) warn(s string)  { fmt.Fprintln(p.w, p.paint("33", "!")+" "+s) }
func (p *printer) fail(s string)  { fmt.Fprintln(p.w, p.paint("31", "✗")+" "+s) }
func (p *printer) plain(s string) { fmt.Fprintln(p.w, "  "+s) }

func printConnection(p *printer, c *steps.Connection) {
	p.ok(fmt.Sprintf("AWS     %s  %s", c.AWS.ARN, c.AWS.Region))
	p.ok(fmt.Sprintf("GitLab  %s as @%s · %s (project %d, from %s)", c.GitLab.URL, c.GitLab.Username, c.Project.Path, c.Project.ID, c.ProjectSource))
	issuer := fmt.Sprintf("Issuer  %s (%s)", c.Issuer.URL, c.Issuer.Source)
	if c.Issuer.DiscoveryMillis > 0 {
		issuer += fmt.Sprintf(" · discovery %d ms · JWKS %d ms", c.Issuer.DiscoveryMillis, c.Issuer.JWKSMillis)
	}
	if c.Issuer.OK {
		p.ok(issuer)
	} else {
		p.warn(issuer)
	}
	if c.Issuer.Warning != "" {
		p.warn(c.Issuer.Warning)
	}
	for _, prob := range c.Problems {
		p.fail(prob)
	}
}

func printPlan(p *printer, plans []steps.Plan, pv steps.Preview) {
	p.line("")
	p.line("Plan:")
	for _, c := range pv.Changes {
		sym := map[steps.Action]string{steps.ActionCreate: "+", steps.ActionAttach: "+", steps.ActionWrite: "+", steps.ActionUpdate: "~", steps.ActionEdit: "~", steps.ActionKeep: "="}[c.Action]
		line := fmt.Sprintf("%s %-7s %s %s", sym, c.Action, c.Resource, c.Name)
		if c.Detail != "" {
			line += " (" + c.Detail + ")"
		}
		p.plain(line)
	}
	seen := map[string]bool{}
	for _, plan := range plans {
		for _, w := range plan.Warnings {
			if !seen[w] {
				seen[w] = true
				p.warn(w)
			}
		}
	}
	for _, c := range pv.Conflicts {
		p.warn(c.Error())
		if c.Diff != "" {
			p.line(indent(c.Diff, "    "))
		}
	}
	for _, d := range pv.FileDiffs {
		p.line(indent(d.Diff, "    "))
	}
}

func printDone(p *printer, changes []steps.Change) {
	for _, c := range changes {
		if c.Applied {
			p.plain(fmt.Sprintf("done: %s %s %s", c.Action, c.Resource, c.Name))
		}
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
