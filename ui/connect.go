package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/steps"
)

// connectedMsg carries the result of SetupBackend.Connect.
type connectedMsg struct {
	conn *steps.Connection
	err  error
}

// connectCmd runs Connect off the UI goroutine.
func connectCmd(ctx context.Context, b SetupBackend) tea.Cmd {
	return func() tea.Msg {
		conn, err := b.Connect(ctx)
		return connectedMsg{conn: conn, err: err}
	}
}

// connectScreen shows what the tool found before it asks anything: the AWS
// and GitLab identities, the issuer and what already exists.
type connectScreen struct {
	s       *session
	spin    spinner.Model
	loading bool
	err     error
	cancel  context.CancelFunc
	// blocked is set when enter was pressed while problems remain, so the
	// screen says why nothing happened.
	blocked bool
}

func newConnectScreen(s *session) *connectScreen {
	return &connectScreen{s: s, spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
}

func (c *connectScreen) init() tea.Cmd {
	if c.s.conn != nil {
		return nil
	}
	return c.start()
}

// start runs (or re-runs) Connect with a context ctrl+c can cancel.
func (c *connectScreen) start() tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.loading, c.err, c.blocked = true, nil, false
	return tea.Batch(c.spin.Tick, connectCmd(ctx, c.s.backend))
}

// cancelConnect stops an in-flight Connect (ctrl+c while it runs).
func (c *connectScreen) cancelConnect() {
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *connectScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	k := c.s.keys
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return c, tickSpinner(&c.spin, c.loading, msg)
	case connectedMsg:
		c.loading = false
		c.cancelConnect()
		if msg.err != nil {
			c.err = msg.err
			return c, nil
		}
		first := c.s.conn == nil
		c.s.conn = msg.conn
		if first {
			c.s.choices = mergeChoices(steps.DefaultChoices(msg.conn), c.s.initial)
		}
		c.s.replan()
		return c, nil
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Retry) && !c.loading:
			return c, c.start()
		case key.Matches(msg, k.Next):
			if c.loading || c.err != nil || c.s.conn == nil {
				return c, nil
			}
			if len(c.s.conn.Problems) > 0 {
				c.blocked = true
				return c, nil
			}
			return c, navigate(stepAccess)
		}
	}
	return c, nil
}

func (c *connectScreen) keys() []key.Binding {
	k := c.s.keys
	if c.loading {
		return nil
	}
	next := k.Next
	next.SetHelp("enter", "choose access")
	if c.err != nil || (c.s.conn != nil && len(c.s.conn.Problems) > 0) {
		return []key.Binding{k.Retry}
	}
	return []key.Binding{next, k.Retry}
}

func (c *connectScreen) view() string {
	st := c.s.st
	if c.loading {
		return spinnerView(c.spin, st) + " Checking AWS credentials, GitLab access and the issuer…"
	}
	if c.err != nil {
		return st.err.Render("✗ Could not connect: "+c.err.Error()) + "\n\n" +
			"Fix the cause above, then press r to try again."
	}
	conn := c.s.conn
	if conn == nil {
		return ""
	}
	found := c.identityView(conn)
	there := c.existingView(conn)
	var b strings.Builder
	b.WriteString(columns(c.bodyWidth(), found, there))
	if len(conn.Problems) > 0 {
		b.WriteString("\n\n" + st.err.Render("Problems: setup would fail") + "\n")
		for _, p := range conn.Problems {
			b.WriteString(st.err.Render("  ✗ "+p) + "\n")
		}
		msg := "fix the problems above, then press r to check again."
		if c.blocked {
			b.WriteString("\n" + st.err.Render("enter is blocked: "+msg))
		} else {
			b.WriteString("\n" + strings.ToUpper(msg[:1]) + msg[1:])
		}
		return b.String()
	}
	b.WriteString("\n\n" + st.subtle.Render("Nothing has been changed yet. Press enter to choose who may use the role."))
	return b.String()
}

// bodyWidth estimates the body width for the column decision; the root
// wraps to the exact width afterwards.
func (c *connectScreen) bodyWidth() int { return c.s.width }

// identityView is the "what I found" block: AWS, GitLab, issuer.
func (c *connectScreen) identityView(conn *steps.Connection) string {
	st := c.s.st
	ok := st.success.Render("✓")
	aws := fmt.Sprintf("%s %s", ok, conn.AWS.ARN)
	awsMore := "account " + conn.AWS.Account
	if conn.AWS.Region != "" {
		awsMore += " · " + conn.AWS.Region
	}
	if conn.AWS.Profile != "" {
		awsMore += " · profile " + conn.AWS.Profile
	}
	gl := fmt.Sprintf("%s %s as @%s", ok, hostOf(conn.GitLab.URL), conn.GitLab.Username)
	if conn.GitLab.TokenSource != "" {
		gl += st.subtle.Render(" (token from " + conn.GitLab.TokenSource + ")")
	}
	proj := fmt.Sprintf("%s of %s · project %d", accessLevelName(conn.GitLab.AccessLevel), conn.Project.Path, conn.Project.ID)
	if conn.ProjectSource != "" {
		proj += st.subtle.Render(" (from " + conn.ProjectSource + ")")
	}
	iss := conn.Issuer
	mark := ok
	if !iss.OK {
		mark = st.err.Render("✗")
	}
	if notProbed(iss) {
		// Nothing was measured: zero timings and "public CA" would be
		// made-up facts, so the line says only that the probe was skipped.
		mark = st.subtle.Render("-")
	}
	issLine := fmt.Sprintf("%s %s", mark, iss.URL)
	issMore := issuerDetail(iss)
	rows := []string{
		pad(st.heading.Render("AWS"), 9) + aws,
		pad("", 9) + "  " + st.subtle.Render(awsMore),
		pad(st.heading.Render("GitLab"), 9) + gl,
		pad("", 9) + "  " + proj,
		pad(st.heading.Render("Issuer"), 9) + issLine,
		pad("", 9) + "  " + st.subtle.Render(issMore),
	}
	if iss.Warning != "" && !notProbed(iss) {
		rows = append(rows, pad("", 9)+"  "+st.warning.Render("⚠ "+iss.Warning))
	}
	return strings.Join(rows, "\n")
}

// existingView is the "Already there" table: what setup will reuse, create
// or need permission to change.
func (c *connectScreen) existingView(conn *steps.Connection) string {
	st := c.s.st
	ex := conn.Existing
	dash := st.subtle.Render("—")
	var rows [][]string

	if ex.ProviderARN != "" {
		name := ex.ProviderARN[strings.LastIndex(ex.ProviderARN, "/")+1:]
		if i := strings.Index(ex.ProviderARN, "oidc-provider/"); i >= 0 {
			name = ex.ProviderARN[i+len("oidc-provider/"):]
		}
		act := st.success.Render("= reuse")
		if c.s.choices.Audience != "" && !slices.Contains(ex.ProviderClientIDs, c.s.choices.Audience) {
			act = st.warning.Render("~ add audience")
		}
		rows = append(rows, []string{"OIDC provider", name + st.subtle.Render(" (audience "+strings.Join(ex.ProviderClientIDs, ", ")+")"), act})
	} else {
		rows = append(rows, []string{"OIDC provider", dash, st.accent.Render("+ create")})
	}
	if ex.RoleARN != "" {
		rows = append(rows, []string{"Role", ex.RoleARN[strings.LastIndex(ex.RoleARN, "/")+1:], st.warning.Render("~ check trust")})
	} else {
		rows = append(rows, []string{"Role", dash, st.accent.Render("+ create")})
	}
	key := c.s.choices.VariableKey
	if key == "" {
		key = "AWS_ROLE_ARN"
	}
	if v := ex.Variable; v != nil {
		desc := "scope " + v.EnvironmentScope
		if v.Protected {
			desc = "protected, " + desc
		}
		rows = append(rows, []string{key, desc, st.warning.Render("~ replace?")})
	} else {
		rows = append(rows, []string{key, dash, st.accent.Render("+ create")})
	}
	return st.heading.Render("Already there") + "\n" + table(rows, "  ")
}

// mergeChoices fills the flags' empty answers with the defaults.
func mergeChoices(def, in steps.Choices) steps.Choices {
	out := in
	if len(out.Allow) == 0 {
		out.Allow = def.Allow
	}
	fill(&out.Audience, def.Audience)
	fill(&out.MaxSessionSeconds, def.MaxSessionSeconds)
	fill(&out.VariableKey, def.VariableKey)
	fill(&out.VariableScope, def.VariableScope)
	fill(&out.EnvironmentScope, def.EnvironmentScope)
	fill(&out.SnippetStyle, def.SnippetStyle)
	fill(&out.SnippetPath, def.SnippetPath)
	fill(&out.CIFile, def.CIFile)
	return out
}

// notProbed reports whether setup skipped the issuer probe (--no-probe):
// the status then carries a warning and no timings.
func notProbed(iss steps.IssuerStatus) bool {
	return iss.Warning == "issuer not probed" && iss.DiscoveryMillis == 0 && iss.JWKSMillis == 0
}

// issuerDetail is the line under the issuer: probe timings and how STS
// will trust its certificate, or that it was not probed.
func issuerDetail(iss steps.IssuerStatus) string {
	if notProbed(iss) {
		return "not probed (--no-probe)"
	}
	d := fmt.Sprintf("discovery %d ms · JWKS %d ms · ", iss.DiscoveryMillis, iss.JWKSMillis)
	switch {
	case iss.PubliclyTrusted:
		return d + "public CA"
	case iss.Thumbprint != "":
		return d + "thumbprint " + iss.Thumbprint
	default:
		return d + "private CA"
	}
}
