package ui

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab-oidc/steps"
)

// updateGoldens reports whether -update was passed. The flag is registered
// by x/exp/golden (imported through teatest); it is looked up rather than
// declared twice.
func updateGoldens() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	return ok && g.Get() == true
}

// requireGolden compares a plain-text view with testdata/<name>.golden.
func requireGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updateGoldens() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run go test ./ui -update to create it)", path, err)
	}
	if string(want) != got {
		t.Errorf("view differs from %s (go test ./ui -update regenerates it)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// toReview drives a fresh wizard with the default choices to Review.
func toReview(d *driver) *driver {
	d.keys("enter") // Connect -> Access
	d.keys("enter") // Access -> Permissions
	d.keys("tab", "tab", "tab", "tab", "enter")
	return d
}

// toApply opens Apply without running its commands, so the test plays the
// steps' answers with fixed timings.
func toApply(d *driver) *driver {
	toReview(d)
	d.sendOnly(navMsg{to: stepApply})
	return d
}

func stepOK(i int, ms int) stepDoneMsg {
	return stepDoneMsg{index: i, elapsed: time.Duration(ms) * time.Millisecond}
}

func TestGoldenViews(t *testing.T) {
	tests := map[string]struct {
		w, h    int
		backend func(*fakeBackend)
		opts    func(*SetupOptions)
		drive   func(*driver)
		noInit  bool
	}{
		"connect_loading": {noInit: true},
		"connect":         {},
		"connect_not_probed": {
			backend: func(f *fakeBackend) {
				f.conn.Issuer = steps.IssuerStatus{URL: "https://gitlab.com", Source: "flag", OK: true, PubliclyTrusted: true, Warning: "issuer not probed"}
			},
		},
		"connect_simulated": {
			opts: func(o *SetupOptions) { o.Simulated = true },
		},
		"connect_problems": {
			backend: func(f *fakeBackend) {
				f.conn.GitLab.AccessLevel = 30
				f.conn.Problems = []string{"you are Developer of acme/payments; setting CI/CD variables needs Maintainer: ask a Maintainer to run setup or to raise your role"}
			},
			drive: func(d *driver) { d.keys("enter") },
		},
		"connect_error": {
			backend: func(f *fakeBackend) {
				f.connectErr = fmt.Errorf("get caller identity: no AWS credentials found; run aws sso login or set AWS_PROFILE")
			},
		},
		"access": {drive: func(d *driver) { d.keys("enter") }},
		"access_custom": {drive: func(d *driver) {
			d.keys("enter", "down", "space", "tab").type_("tag:v1.*").keys("enter")
		}},
		"access_any_branch": {drive: func(d *driver) {
			d.keys("enter", "down", "down", "down", "down", "space")
		}},
		"permissions": {drive: func(d *driver) {
			d.keys("enter", "enter").type_("arn:aws:iam::aws:policy/ReadOnlyAccess").keys("enter", "down", "down", "space", "down").type_("acme-artifacts")
		}},
		"permissions_admin_confirm": {drive: func(d *driver) {
			d.keys("enter", "enter").type_("arn:aws:iam::aws:policy/AdministratorAccess").keys("enter")
		}},
		"review": {drive: func(d *driver) { toReview(d) }},
		"review_conflict": {
			backend: func(f *fakeBackend) { f.conflictRole = true },
			drive:   func(d *driver) { toReview(d) },
		},
		"apply_running": {drive: func(d *driver) {
			toApply(d).sendOnly(stepOK(0, 420))
		}},
		"apply_failed": {drive: func(d *driver) {
			toApply(d).sendOnly(stepOK(0, 420), stepDoneMsg{index: 1, elapsed: 1300 * time.Millisecond, err: errAccessDenied})
		}},
		"apply_cancelled": {drive: func(d *driver) {
			toApply(d).sendOnly(stepOK(0, 420), press("ctrl+c"))
			d.sendOnly(stepDoneMsg{index: 1, elapsed: 2 * time.Second, err: context.Canceled})
		}},
		"done": {drive: func(d *driver) {
			toReview(d).keys("enter")
		}},
		"help": {drive: func(d *driver) { d.keys("enter", "?") }},

		"connect_120x40": {w: 120, h: 40},
		"access_120x40":  {w: 120, h: 40, drive: func(d *driver) { d.keys("enter") }},
		"review_120x40":  {w: 120, h: 40, drive: func(d *driver) { toReview(d) }},
		"done_120x40":    {w: 120, h: 40, drive: func(d *driver) { toReview(d).keys("enter") }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fb := newFakeBackend()
			if tc.backend != nil {
				tc.backend(fb)
			}
			opts := SetupOptions{Width: 80, Height: 24}
			if tc.w != 0 {
				opts.Width, opts.Height = tc.w, tc.h
			}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			var got string
			if tc.noInit {
				m := NewSetup(fb, opts)
				m.screens[stepConnect].(*connectScreen).loading = true
				m.syncBody()
				got = (&driver{t: t, m: m}).screen()
			} else {
				d := newDriver(t, fb, opts)
				if tc.drive != nil {
					tc.drive(d)
				}
				got = d.screen()
			}
			lines := strings.Split(got, "\n")
			if len(lines) != opts.Height {
				t.Errorf("view has %d lines, want exactly the terminal height %d", len(lines), opts.Height)
			}
			for i, l := range lines {
				if w := len([]rune(l)); w > opts.Width {
					t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, w, opts.Width, l)
				}
			}
			requireGolden(t, name, got)
		})
	}
}

// TestGoldenCoversEveryScreen makes sure no screen is left without a view
// test when screens are added.
func TestGoldenCoversEveryScreen(t *testing.T) {
	names := []string{}
	for i := stepConnect; i < stepCount; i++ {
		names = append(names, strings.ToLower(stepNames[i]))
	}
	for _, n := range doctorStageNames {
		names = append(names, "doctor_"+strings.ToLower(n))
	}
	names = append(names, "audit_progress", "audit_table", "audit_role")
	for _, name := range names {
		matches, _ := filepath.Glob(filepath.Join("testdata", name+"*.golden"))
		if len(matches) == 0 {
			t.Errorf("no golden view for the %s screen", name)
		}
	}
}
