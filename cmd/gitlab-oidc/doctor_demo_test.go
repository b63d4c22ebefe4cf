package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDoctorDemoPlain runs `doctor --demo` without a terminal: it needs no
// credentials, says it is simulated, explains the tag job's AccessDenied
// first and exits 1; JSON stays JSON with the note on stderr; input flags
// are refused.
func TestDoctorDemoPlain(t *testing.T) {
	tests := map[string]struct {
		args      []string
		wantCode  int
		wantOut   []string
		wantErr   []string
		checkJSON bool
	}{
		"text": {
			args: []string{"--demo", "--no-tui"}, wantCode: 1,
			wantOut: []string{"SIMULATED (demo)", "✗ error   sub-ref-type-mismatch  the job ran for tag v2.3.0; the role allows branches only"},
			wantErr: []string{"sub-ref-type-mismatch"},
		},
		"json": {
			args: []string{"--demo", "--format", "json"}, wantCode: 1, checkJSON: true,
			wantErr: []string{"SIMULATED (demo)"},
		},
		"with a role": {
			args: []string{"--demo", "--role-arn", "arn:aws:iam::123456789012:role/x"}, wantCode: 2,
			wantErr: []string{"--demo diagnoses its own simulated job: drop --role-arn"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			offline(t)
			code, stdout, stderr := runDoctorCLI(t, strings.NewReader(""), tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tc.checkJSON {
				var out doctorJSON
				if err := json.Unmarshal([]byte(stdout), &out); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
				}
				if len(out.Findings) == 0 || out.Findings[0].ID != "sub-ref-type-mismatch" || out.Predicted {
					t.Errorf("findings = %+v, want sub-ref-type-mismatch first from a real token", out.Findings)
				}
			}
		})
	}
}
