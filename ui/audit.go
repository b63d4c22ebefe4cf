package ui

import (
	"context"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"gitlab-oidc/diagnose"
)

// AuditRun is what the audit screens get from the command: how to run the
// audit, reporting progress. The screens do no I/O of their own.
type AuditRun struct {
	Audit func(ctx context.Context, progress func(done, total int)) (diagnose.AuditReport, error)
}

// AuditOptions configure the audit screens.
type AuditOptions struct {
	// Simulated marks every frame "SIMULATED (demo)".
	Simulated bool
	// Width and Height are the terminal size until the first WindowSizeMsg
	// (80x24 when zero).
	Width, Height int
}

const auditTitle = "gitlab-oidc · audit"

// auditSort is the order of the roles table; s cycles through them.
type auditSort int

const (
	sortBySeverity auditSort = iota
	sortByName
	sortCount
)

var auditSortNames = [sortCount]string{"severity", "name"}

// auditProgressMsg reports that done of total roles were audited.
type auditProgressMsg struct{ done, total int }

// auditDoneMsg carries the finished audit.
type auditDoneMsg struct {
	report diagnose.AuditReport
	err    error
}

// AuditModel is the root bubbletea model of the audit: progress while the
// roles are read, then a sortable table of roles and, on enter, one role's
// findings with its trust policy and the offending parts highlighted.
type AuditModel struct {
	screens
	run AuditRun

	running     bool
	cancel      context.CancelFunc
	events      chan tea.Msg
	done, total int
	report      diagnose.AuditReport
	err         error
	aborted     bool

	sort   auditSort
	roles  []diagnose.RoleAudit
	cursor int
	// open is set while a role's drill-down is shown.
	open bool
}

// NewAudit returns the audit screens over a run.
func NewAudit(run AuditRun, opts AuditOptions) *AuditModel {
	m := &AuditModel{screens: newScreens(opts.Width, opts.Height, opts.Simulated), run: run, running: true}
	m.syncBody()
	return m
}

// Report returns the finished audit (empty before it finished).
func (m *AuditModel) Report() diagnose.AuditReport { return m.report }

// Err returns why the audit did not finish: its error, or context.Canceled
// when it was quit while running.
func (m *AuditModel) Err() error {
	if m.aborted && m.err == nil {
		return context.Canceled
	}
	return m.err
}

// Init starts the audit in the background; progress arrives as messages.
func (m *AuditModel) Init() tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.events = make(chan tea.Msg, 16)
	run, events := m.run, m.events
	go func() {
		rep, err := run.Audit(ctx, func(done, total int) {
			// Progress is best effort: a full channel drops a step rather
			// than slowing the audit down.
			select {
			case events <- auditProgressMsg{done: done, total: total}:
			default:
			}
		})
		events <- auditDoneMsg{report: rep, err: err}
	}()
	return tea.Batch(tea.RequestBackgroundColor, m.spin.Tick, m.wait())
}

// wait delivers the audit's next event.
func (m *AuditModel) wait() tea.Cmd {
	events := m.events
	return func() tea.Msg { return <-events }
}

// Update routes messages and re-renders the body.
func (m *AuditModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.syncBody()
	return m, cmd
}

func (m *AuditModel) update(msg tea.Msg) tea.Cmd {
	if m.frameMsg(msg) {
		return nil
	}
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return tickSpinner(&m.spin, m.running, msg)
	case auditProgressMsg:
		m.done, m.total = msg.done, msg.total
		return m.wait()
	case auditDoneMsg:
		m.running = false
		if m.cancel != nil {
			m.cancel()
		}
		m.report, m.err = msg.report, msg.err
		m.roles = slices.Clone(msg.report.Roles)
		m.sortRoles()
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

func (m *AuditModel) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit), key.Matches(msg, k.Exit):
		if m.running {
			if m.cancel != nil {
				m.cancel()
			}
			m.aborted = true
		}
		return tea.Quit
	case m.scrollKey(msg):
	case key.Matches(msg, k.Back):
		if m.open {
			m.open = false
			m.body.GotoTop()
			m.lastFocus = -1
		}
	case key.Matches(msg, k.Up):
		if m.open {
			m.body.ScrollUp(1)
		} else {
			m.cursor = max(0, m.cursor-1)
		}
	case key.Matches(msg, k.Down):
		if m.open {
			m.body.ScrollDown(1)
		} else {
			m.cursor = max(0, min(len(m.roles)-1, m.cursor+1))
		}
	case key.Matches(msg, k.Sort) && !m.open && !m.running:
		m.sort = (m.sort + 1) % sortCount
		m.sortRoles()
	case key.Matches(msg, k.Open) && !m.open && !m.running:
		if m.cursor < len(m.roles) {
			m.open = true
			m.body.GotoTop()
			m.lastFocus = -1
		}
	}
	return nil
}

// sortRoles orders the table and keeps the cursor on the same role.
func (m *AuditModel) sortRoles() {
	var current string
	if m.cursor < len(m.roles) {
		current = m.roles[m.cursor].ARN + "\x00" + m.roles[m.cursor].Name
	}
	slices.SortStableFunc(m.roles, func(a, b diagnose.RoleAudit) int {
		if m.sort == sortBySeverity {
			if d := diagnose.SeverityRank(a.Worst) - diagnose.SeverityRank(b.Worst); d != 0 {
				return d
			}
		}
		return strings.Compare(a.Name, b.Name)
	})
	for i, r := range m.roles {
		if r.ARN+"\x00"+r.Name == current {
			m.cursor = i
		}
	}
}

// View renders the frame around the current screen.
func (m *AuditModel) View() tea.View { return m.view(m.chrome(), m.helpKeys()) }

func (m *AuditModel) chrome() chrome {
	c := chrome{st: m.st, title: auditTitle, width: m.width, simulated: m.simulated}
	if !m.running && m.err == nil {
		c.steps, c.current = []string{"Roles", "Role"}, 0
		if m.open {
			c.current = 1
		}
	}
	return c
}

// helpKeys lists the keys that do something on the current screen.
func (m *AuditModel) helpKeys() helpKeys {
	k := m.keys
	var own []key.Binding
	switch {
	case m.running:
	case m.open:
		own = append(own, k.Back)
	case len(m.roles) > 0:
		open := k.Open
		open.SetHelp("enter", "findings")
		sort := k.Sort
		sort.SetHelp("s", "sort by "+auditSortNames[(m.sort+1)%sortCount])
		own = append(own, k.Up, k.Down, open, sort)
	}
	// ↑/↓ are obvious in a table; the one-line footer leaves them to ?.
	var short []key.Binding
	for _, b := range own {
		if b.Help() != k.Up.Help() && b.Help() != k.Down.Help() {
			short = append(short, b)
		}
	}
	short = append(short, k.Help, k.Exit)
	full := [][]key.Binding{own, {k.PageUp, k.PageDown}, {k.Help, k.Exit, k.Quit}}
	return helpKeys{short: short, full: full}
}

// syncBody renders the current screen into the scrolling body.
func (m *AuditModel) syncBody() {
	view, focus := m.screenView(m.bodyWidth())
	m.fill(m.chrome(), m.helpKeys(), view, focus)
}

func (m *AuditModel) screenView(width int) (string, int) {
	switch {
	case m.running:
		return m.progressView(width), -1
	case m.err != nil:
		return m.st.err.Render("✗ The audit failed") + "\n\n" + m.st.err.Render(indentLines(m.err.Error(), "  ")), -1
	case m.open:
		return m.roleView(width), -1
	}
	return m.tableView(width)
}
