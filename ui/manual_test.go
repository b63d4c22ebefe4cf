package ui

import (
	"fmt"
	"os"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestManual runs the wizard over the fake backend in the real terminal,
// for looking at it by hand: go test -c -o /tmp/ui.test ./ui &&
// UI_MANUAL=1 /tmp/ui.test -test.run TestManual
func TestManual(t *testing.T) {
	if os.Getenv("UI_MANUAL") == "" {
		t.Skip("set UI_MANUAL=1 and run the compiled test binary in a terminal")
	}
	fb := newFakeBackend()
	fb.conflictRole = os.Getenv("UI_CONFLICT") != ""
	m := NewSetup(fb, SetupOptions{Simulated: true})
	if _, err := tea.NewProgram(m).Run(); err != nil {
		t.Fatal(err)
	}
	fmt.Print(m.Result().Summary())
	fmt.Println("exit", m.Result().ExitCode())
}
