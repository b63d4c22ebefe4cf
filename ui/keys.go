package ui

import (
	"charm.land/bubbles/v2/key"
)

// keyMap is every key binding of the setup wizard. The footer's help is
// generated from these bindings, so what the footer says is what the keys do.
type keyMap struct {
	// Global keys, handled by the root model.
	Next      key.Binding
	Back      key.Binding
	Field     key.Binding
	PrevField key.Binding
	Help      key.Binding
	Quit      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding

	// Screen keys.
	Up      key.Binding
	Down    key.Binding
	Toggle  key.Binding
	Add     key.Binding
	Remove  key.Binding
	Longer  key.Binding
	Shorter key.Binding
	Allow   key.Binding
	Confirm key.Binding
	Retry   key.Binding
	Copy    key.Binding
	Handout key.Binding
	Finish  key.Binding

	// Doctor and audit keys.
	Open     key.Binding
	Sort     key.Binding
	Exit     key.Binding
	ApplyFix key.Binding
	Cancel   key.Binding
}

// newKeyMap returns the wizard's bindings.
func newKeyMap() keyMap {
	return keyMap{
		Next:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
		Back:      key.NewBinding(key.WithKeys("esc", "left"), key.WithHelp("←", "back")),
		Field:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "field")),
		PrevField: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "scroll up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "scroll down")),

		Up:      key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up")),
		Down:    key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),
		Toggle:  key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "select")),
		Add:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "add")),
		Remove:  key.NewBinding(key.WithKeys("delete", "x"), key.WithHelp("x", "remove")),
		Longer:  key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+/-", "session length")),
		Shorter: key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "shorter session")),
		Allow:   key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "allow")),
		Confirm: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
		Retry:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Copy:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy snippet")),
		Handout: key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hand-out")),
		Finish:  key.NewBinding(key.WithKeys("enter", "q"), key.WithHelp("enter", "finish")),

		Open: key.NewBinding(key.WithKeys("enter", "right"), key.WithHelp("enter", "open")),
		Sort: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Exit: key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),

		ApplyFix: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "apply fix")),
		Cancel:   key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "cancel")),
	}
}

// helpKeys adapts a list of bindings to help.KeyMap for the footer.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp returns the bindings shown in the one-line footer.
func (h helpKeys) ShortHelp() []key.Binding { return h.short }

// FullHelp returns the bindings shown when ? expands the footer.
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }
