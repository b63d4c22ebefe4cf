package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/diagnose"
)

// checkFrame fails when a view is not exactly the terminal's size.
func checkFrame(t *testing.T, got string, w, h int) {
	t.Helper()
	lines := strings.Split(got, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want exactly the terminal height %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, n, w, l)
		}
	}
}

func TestDoctorGoldenViews(t *testing.T) {
	tests := map[string]struct {
		w, h    int
		run     func(t *testing.T) DoctorRun
		opts    DoctorOptions
		loading bool
		keys    []string
	}{
		"doctor_evidence_loading": {loading: true, opts: DoctorOptions{Simulated: true}},
		"doctor_evidence":         {opts: DoctorOptions{Simulated: true}},
		"doctor_evidence_more":    {keys: []string{"pgdn"}},
		"doctor_evidence_error": {run: func(t *testing.T) DoctorRun {
			return DoctorRun{Collect: func(context.Context) (*diagnose.Evidence, error) {
				return nil, errors.New(`role ARN "deploy" is not a role ARN (arn:aws:iam::123456789012:role/NAME)`)
			}, Diagnose: diagnose.Diagnose}
		}},
		"doctor_evidence_predicted": {run: func(t *testing.T) DoctorRun {
			ev := testEvidence(t)
			ev.Predicted, ev.Unknown, ev.Signature, ev.TokenSource = true, []string{"aud", "user_login"}, nil, ""
			ev.Token.Claims.Audience, ev.Token.Claims.Expiry = nil, nil
			return DoctorRun{Collect: func(context.Context) (*diagnose.Evidence, error) { return ev, nil }, Diagnose: diagnose.Diagnose}
		}},
		"doctor_diagnosis":        {keys: []string{"enter"}},
		"doctor_diagnosis_second": {keys: []string{"enter", "down"}},
		"doctor_diagnosis_empty": {run: func(t *testing.T) DoctorRun {
			return DoctorRun{Collect: func(context.Context) (*diagnose.Evidence, error) { return &diagnose.Evidence{}, nil }, Diagnose: diagnose.Diagnose}
		}, keys: []string{"enter"}},
		"doctor_diagnosis_hint": {run: func(t *testing.T) DoctorRun {
			return DoctorRun{
				Collect: func(context.Context) (*diagnose.Evidence, error) {
					scan := diagnose.ScanText("An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity")
					return &diagnose.Evidence{Log: &scan}, nil
				},
				Diagnose: diagnose.Diagnose,
				Hint: func(ev *diagnose.Evidence, fs []diagnose.Finding) string {
					return "STS said " + ev.Log.STS.Code + ", which nothing here explains yet: give doctor the token (--token-env/--token-file) or the job (--job)"
				},
			}
		}, keys: []string{"enter"}},
		"doctor_detail":          {keys: []string{"enter", "enter"}},
		"doctor_fix":             {keys: []string{"enter", "enter", "enter"}},
		"doctor_fix_copied":      {keys: []string{"enter", "enter", "enter", "c"}},
		"doctor_help":            {keys: []string{"enter", "?"}},
		"doctor_evidence_120x40": {w: 120, h: 40, opts: DoctorOptions{Simulated: true}},
		"doctor_detail_120x40":   {w: 120, h: 40, keys: []string{"enter", "enter"}},
		"doctor_fix_120x40":      {w: 120, h: 40, keys: []string{"enter", "enter", "enter"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, h := 80, 24
			if tc.w != 0 {
				w, h = tc.w, tc.h
			}
			opts := tc.opts
			opts.Width, opts.Height = w, h
			run := testDoctorRun(t, nil)
			if tc.run != nil {
				run = tc.run(t)
			}
			var d *doctorDriver
			if tc.loading {
				d = &doctorDriver{t: t, m: NewDoctor(run, opts)}
			} else {
				d = newDoctorDriver(t, run, opts)
			}
			d.keys(tc.keys...)
			got := d.screen()
			checkFrame(t, got, w, h)
			if strings.Contains(got, testSignature) {
				t.Errorf("the view shows the token's signature")
			}
			requireGolden(t, name, got)
		})
	}
}

// TestDoctorNavigation walks the screens with enter, ↓ and esc/←: back
// keeps the cursor, enter does nothing until the evidence is judged, and
// Detail and Fix follow the finding under the cursor.
func TestDoctorNavigation(t *testing.T) {
	release := make(chan struct{})
	d := newDoctorDriverAsync(t, testDoctorRun(t, release))
	d.keys("enter")
	if d.m.stage != stageEvidence {
		t.Fatalf("enter while collecting moved to %s", doctorStageNames[d.m.stage])
	}
	close(release)
	d.finishCollect()

	steps := []struct {
		key    string
		stage  doctorStage
		cursor int
		shows  string
	}{
		{"enter", stageDiagnosis, 0, "▸ ✗ sub-ref-type-mismatch"},
		{"down", stageDiagnosis, 1, "▸ ! jwks-slow"},
		{"down", stageDiagnosis, 2, "▸ ! trust-path-reuse-risk"},
		{"down", stageDiagnosis, 2, "▸ ! trust-path-reuse-risk"},
		{"enter", stageDetail, 2, "trust-path-reuse-risk"},
		{"esc", stageDiagnosis, 2, "▸ ! trust-path-reuse-risk"},
		{"up", stageDiagnosis, 1, "▸ ! jwks-slow"},
		{"up", stageDiagnosis, 0, "▸ ✗ sub-ref-type-mismatch"},
		{"up", stageDiagnosis, 0, "▸ ✗ sub-ref-type-mismatch"},
		{"enter", stageDetail, 0, "first difference"},
		{"enter", stageFix, 0, "c copies it"},
		{"enter", stageFix, 0, "c copies it"},
		{"left", stageDetail, 0, "Deciding condition"},
		{"esc", stageDiagnosis, 0, "Findings"},
		{"esc", stageEvidence, 0, "Token"},
		{"esc", stageEvidence, 0, "Token"},
	}
	for i, s := range steps {
		d.keys(s.key)
		if d.m.stage != s.stage || d.m.cursor != s.cursor {
			t.Fatalf("step %d (%s): at %s cursor %d, want %s cursor %d", i, s.key, doctorStageNames[d.m.stage], d.m.cursor, doctorStageNames[s.stage], s.cursor)
		}
		if !strings.Contains(d.screen(), s.shows) {
			t.Fatalf("step %d (%s): the screen lacks %q:\n%s", i, s.key, s.shows, d.screen())
		}
	}
	d.keys("q")
	if !d.quit || d.m.Err() != nil || len(d.m.Findings()) != 3 {
		t.Errorf("q: quit=%v err=%v findings=%d, want a quit with the three findings and no error", d.quit, d.m.Err(), len(d.m.Findings()))
	}
}

// newDoctorDriverAsync starts a doctor whose Collect runs in the
// background, so the test can press keys while it waits.
func newDoctorDriverAsync(t *testing.T, run DoctorRun) *asyncDoctor {
	d := &asyncDoctor{doctorDriver: &doctorDriver{t: t, m: NewDoctor(run, DoctorOptions{})}, result: make(chan collectedMsg, 1)}
	ev, err := (*diagnose.Evidence)(nil), error(nil)
	go func() {
		ev, err = run.Collect(context.Background())
		var fs []diagnose.Finding
		if err == nil {
			fs = run.Diagnose(ev)
		}
		d.result <- collectedMsg{ev: ev, findings: fs, err: err}
	}()
	return d
}

type asyncDoctor struct {
	*doctorDriver
	result chan collectedMsg
}

func (d *asyncDoctor) finishCollect() { d.send(<-d.result) }

func TestDoctorQuitWhileCollectingIsAnAbort(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	d := newDoctorDriverAsync(t, testDoctorRun(t, release))
	d.keys("ctrl+c")
	if !d.quit || !errors.Is(d.m.Err(), context.Canceled) || d.m.Findings() != nil {
		t.Errorf("quit=%v err=%v findings=%v, want an abort without findings", d.quit, d.m.Err(), d.m.Findings())
	}
}

func TestDoctorCollectErrorIsReturned(t *testing.T) {
	want := errors.New("trust policy trust.json: not JSON")
	d := newDoctorDriver(t, DoctorRun{Collect: func(context.Context) (*diagnose.Evidence, error) { return nil, want }, Diagnose: diagnose.Diagnose}, DoctorOptions{})
	d.keys("enter")
	if d.m.stage != stageEvidence || !errors.Is(d.m.Err(), want) {
		t.Errorf("stage %s err %v, want to stay on Evidence with the collect error", doctorStageNames[d.m.stage], d.m.Err())
	}
}

// TestDoctorCopiesTheFix checks that c on Fix sends the finding's fix text
// (and only there).
func TestDoctorCopiesTheFix(t *testing.T) {
	d := newDoctorDriver(t, testDoctorRun(t, nil), DoctorOptions{})
	d.keys("enter", "enter", "c")
	if d.clipboard != "" {
		t.Fatalf("c on Detail copied %q", d.clipboard)
	}
	d.keys("enter", "c")
	if want := d.m.Findings()[0].Fix; d.clipboard != want || want == "" {
		t.Errorf("clipboard = %q, want the fix %q", d.clipboard, want)
	}
	if !strings.Contains(d.screen(), "Fix sent to the clipboard") {
		t.Errorf("no confirmation after c:\n%s", d.screen())
	}
}

// TestConditionLinesMarkTheFirstDifference checks where the carets go: under
// the token value's byte DiffAt, as wide as the differing component, in the
// side-by-side and the stacked layouts.
func TestConditionLinesMarkTheFirstDifference(t *testing.T) {
	sub := func(refType, ref string) string {
		return "project_path:acme/payments:ref_type:" + refType + ":ref:" + ref
	}
	tests := map[string]struct {
		detail     diagnose.ConditionDetail
		width      int
		wantCol    int // column of the first caret, relative to the token value
		wantCarets int
		stacked    bool
	}{
		"ref type, wide": {
			detail: diagnose.ConditionDetail{Operator: "StringEquals", Key: "gitlab.com:sub",
				PolicyValue: []string{sub("branch", "main")}, TokenValue: sub("tag", "v2.3.0"), DiffAt: 36},
			width: 117, wantCol: 36, wantCarets: 3,
		},
		"ref type, narrow": {
			detail: diagnose.ConditionDetail{Operator: "StringEquals", Key: "gitlab.com:sub",
				PolicyValue: []string{sub("branch", "main")}, TokenValue: sub("tag", "v2.3.0"), DiffAt: 36},
			width: 77, wantCol: 36, wantCarets: 3, stacked: true,
		},
		"ref, second value closest": {
			detail: diagnose.ConditionDetail{Operator: "StringLike", Key: "gitlab.com:sub",
				PolicyValue: []string{"project_path:acme/web:*", sub("branch", "main")}, TokenValue: sub("branch", "develop"), DiffAt: 47},
			width: 77, wantCol: 47, wantCarets: 7, stacked: true,
		},
		"token shorter": {
			detail: diagnose.ConditionDetail{Operator: "StringEquals", Key: "gitlab.com:aud",
				PolicyValue: []string{"https://gitlab.com"}, TokenValue: "https://gitlab", DiffAt: 14},
			width: 117, wantCol: 14, wantCarets: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lines := conditionLines(newStyles(true), &tc.detail, tc.width)
			var tokenLine, caretLine string
			for i, l := range lines {
				l = ansi.Strip(l)
				if strings.HasPrefix(strings.TrimLeft(l, " "), "token") && i+1 < len(lines) {
					tokenLine, caretLine = l, ansi.Strip(lines[i+1])
				}
			}
			if tokenLine == "" {
				t.Fatalf("no token line in:\n%s", strings.Join(lines, "\n"))
			}
			valueAt := strings.Index(tokenLine, tc.detail.TokenValue)
			caretAt := strings.Index(caretLine, "^")
			if caretAt-valueAt != tc.wantCol {
				t.Errorf("caret at column %d of the value, want %d:\n%s\n%s", caretAt-valueAt, tc.wantCol, tokenLine, caretLine)
			}
			if n := strings.Count(caretLine, "^"); n != tc.wantCarets {
				t.Errorf("%d carets, want %d: %q", n, tc.wantCarets, caretLine)
			}
			if !strings.Contains(caretLine, diffMarker) {
				t.Errorf("the caret line does not say %q: %q", diffMarker, caretLine)
			}
			policyLine := ansi.Strip(lines[0])
			if tc.stacked {
				policyLine = ansi.Strip(lines[1])
			}
			if got := strings.Index(policyLine, tc.detail.PolicyValue[0]); got != valueAt && !(tc.stacked && got < 0) {
				t.Errorf("policy value starts at column %d, token value at %d: they must line up\n%s\n%s", got, valueAt, policyLine, tokenLine)
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > tc.width {
					t.Errorf("line wider than %d: %q", tc.width, ansi.Strip(l))
				}
			}
		})
	}
}

func TestShellLinesKeepFlagsWhole(t *testing.T) {
	cmd := "gitlab-oidc setup --project acme/payments --role-name acme-payments-main --allow branch:main --allow tag:v2.3.0 --no-tui --yes"
	lines := shellLines(cmd, 60)
	joined := strings.ReplaceAll(strings.Join(lines, "\n"), " \\\n  ", " ")
	if joined != cmd {
		t.Errorf("joined back = %q, want %q", joined, cmd)
	}
	for _, l := range lines {
		if len(l) > 60 {
			t.Errorf("line longer than 60: %q", l)
		}
		if strings.HasSuffix(strings.TrimSuffix(l, " \\"), "--allow") {
			t.Errorf("a flag is cut from its value: %q", l)
		}
	}
}

func TestSetupAllowsFromTheSubCondition(t *testing.T) {
	ev := testEvidence(t)
	fs := diagnose.Diagnose(ev)
	cmds := applyCommands(ev, &fs[0])
	if len(cmds) != 2 || !strings.Contains(cmds[0].run, "--allow branch:main --allow tag:v2.3.0") || !strings.Contains(cmds[0].run, "--role-name acme-payments-main") {
		t.Fatalf("commands = %+v, want setup allowing main and the tag, then the AWS CLI", cmds)
	}
	if got := applyCommands(ev, &fs[len(fs)-1]); len(got) != 0 {
		t.Errorf("an audit warning got apply commands: %+v", got)
	}
}
