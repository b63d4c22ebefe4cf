package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/steps"
)

// fakeApply answers DoctorRun.Apply as steps.ApplyTrustPatch does: the
// difference of the patch's policies, applied on write. It records the
// write flag of every call.
type fakeApply struct {
	calls    []bool
	err      error // for every call
	applyErr error // for the write only
}

func (f *fakeApply) apply(_ context.Context, p *diagnose.Patch, write bool) ([]steps.Change, error) {
	f.calls = append(f.calls, write)
	if f.err != nil {
		return nil, f.err
	}
	ch := steps.Change{Action: steps.ActionUpdate, Resource: steps.ResourceTrustPolicy, Name: p.RoleName, Detail: p.Summary, Diff: policy.Diff(p.Before, p.After)}
	if write {
		if f.applyErr != nil {
			return nil, f.applyErr
		}
		ch.Applied = true
	}
	return []steps.Change{ch}, nil
}

// applyRun is the test run with an Apply.
func applyRun(t *testing.T, f *fakeApply) DoctorRun {
	run := testDoctorRun(t, nil)
	run.Apply = f.apply
	return run
}

var errRoleChanged = &steps.ConflictError{Resource: steps.ResourceTrustPolicy, Name: "acme-payments-main",
	Diff: "  {\n-   \"gitlab.com:sub\": \"project_path:acme/payments:ref_type:branch:ref:main\"\n+   \"gitlab.com:sub\": \"project_path:acme/payments:ref_type:branch:ref:release\"\n  }\n",
	Hint: "it changed since doctor read it (the diff shows how), so the fix no longer fits; nothing was written: run doctor again"}

func TestDoctorApplyGoldenViews(t *testing.T) {
	toFix := []string{"enter", "enter", "enter"}
	tests := map[string]struct {
		apply fakeApply
		keys  []string
	}{
		"doctor_fix_apply":          {keys: toFix},
		"doctor_fix_apply_confirm":  {keys: append(slices.Clone(toFix), "a")},
		"doctor_fix_apply_done":     {keys: append(slices.Clone(toFix), "a", "y")},
		"doctor_fix_apply_conflict": {apply: fakeApply{applyErr: errRoleChanged}, keys: append(slices.Clone(toFix), "a", "y")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newDoctorDriver(t, applyRun(t, &tc.apply), DoctorOptions{Width: 80, Height: 24})
			d.keys(tc.keys...)
			got := d.screen()
			checkFrame(t, got, 80, 24)
			requireGolden(t, name, got)
		})
	}
}

func TestDiffContext(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"far lines left out": {in: "  a\n  b\n  c\n  d\n- e\n+ f\n  g\n  h\n  i\n  j\n", want: "  …\n  c\n  d\n- e\n+ f\n  g\n  h\n  …"},
		"all near":           {in: "  a\n- b\n+ c\n  d\n", want: "  a\n- b\n+ c\n  d"},
		"two changes apart":  {in: "- a\n  b\n  c\n  d\n  e\n  f\n+ g\n", want: "- a\n  b\n  c\n  …\n  e\n  f\n+ g"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := diffContext(tc.in, 2); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestDoctorApplyFix walks the a key's flow: a previews (write false) and
// asks, y applies (write true) and judges again, n or esc cancels with
// nothing written, a failure says why and a tries again.
func TestDoctorApplyFix(t *testing.T) {
	toFix := []string{"enter", "enter", "enter"}
	tests := map[string]struct {
		apply      fakeApply
		noApply    bool
		keys       []string
		calls      []bool
		shows      []string
		lacks      []string
		stage      doctorStage
		errorsLeft bool
	}{
		"a then y applies": {
			keys: []string{"a", "y"}, calls: []bool{false, true}, stage: stageFix,
			shows: []string{"✓ updated trust policy acme-payments-main", "sub-ref-type-mismatch is gone"},
		},
		"a shows the difference and asks": {
			keys: []string{"a"}, calls: []bool{false}, stage: stageFix, errorsLeft: true,
			shows: []string{"y to apply, n to cancel", `+             "project_path:acme/payments:ref_type:tag:ref:v2.3.0"`, "  …", "y apply", "n cancel"},
		},
		"n cancels": {
			keys: []string{"a", "n"}, calls: []bool{false}, stage: stageFix, errorsLeft: true,
			shows: []string{"Not applied: nothing was changed.", "a applies this fix"},
		},
		"esc cancels and stays": {
			keys: []string{"a", "esc"}, calls: []bool{false}, stage: stageFix, errorsLeft: true,
			shows: []string{"Not applied"},
		},
		"a second a after applying does nothing": {
			keys: []string{"a", "y", "a"}, calls: []bool{false, true}, stage: stageFix,
			lacks: []string{"a applies this fix", "a tries again"},
		},
		"the role changed meanwhile": {
			apply: fakeApply{applyErr: errRoleChanged}, keys: []string{"a", "y"}, calls: []bool{false, true}, stage: stageFix, errorsLeft: true,
			shows: []string{"✗ trust policy acme-payments-main: it changed since doctor read it", "ref:release", "a tries again"},
		},
		"a preview that fails can be tried again": {
			apply: fakeApply{err: errors.New("read role \"acme-payments-main\": AccessDenied")}, keys: []string{"a", "a"}, calls: []bool{false, false}, stage: stageFix, errorsLeft: true,
			shows: []string{"✗ read role", "a tries again"},
		},
		"without Apply the key is hidden": {
			noApply: true, keys: []string{"a", "y"}, stage: stageFix, errorsLeft: true,
			lacks: []string{"applies this fix", "Apply the fix", "apply fix"},
		},
		"a finding without a patch": {
			keys: []string{"esc", "esc", "down", "enter", "enter", "a"}, stage: stageFix, errorsLeft: true,
			lacks: []string{"applies this fix"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			run := applyRun(t, &tc.apply)
			if tc.noApply {
				run.Apply = nil
			}
			d := newDoctorDriver(t, run, DoctorOptions{Width: 120, Height: 60})
			d.keys(toFix...)
			d.keys(tc.keys...)
			if !slices.Equal(tc.apply.calls, tc.calls) {
				t.Errorf("Apply calls (write flags) %v, want %v", tc.apply.calls, tc.calls)
			}
			if d.m.stage != tc.stage {
				t.Errorf("at %s, want %s", doctorStageNames[d.m.stage], doctorStageNames[tc.stage])
			}
			screen := d.screen()
			for _, s := range tc.shows {
				if !strings.Contains(screen, s) {
					t.Errorf("the screen lacks %q:\n%s", s, screen)
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(screen, s) {
					t.Errorf("the screen shows %q:\n%s", s, screen)
				}
			}
			if got := diagnose.HasError(d.m.Findings()); got != tc.errorsLeft {
				t.Errorf("Findings() has an error: %v, want %v", got, tc.errorsLeft)
			}
		})
	}
}
