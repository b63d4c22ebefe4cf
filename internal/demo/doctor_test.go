package demo

import (
	"context"
	"strings"
	"testing"

	"gitlab-oidc/diagnose"
)

// TestDoctorDemoLeadsWithRefTypeMismatch runs the real Collect and Diagnose
// over the demo world: the tag job against a main-only role must be
// explained first by sub-ref-type-mismatch, with a verified signature and
// no claim predicted.
func TestDoctorDemoLeadsWithRefTypeMismatch(t *testing.T) {
	opts, src, err := DoctorWithLatency(0)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := diagnose.Collect(context.Background(), opts, src)
	if err != nil {
		t.Fatal(err)
	}
	fs := diagnose.Diagnose(ev)
	if len(fs) == 0 || fs[0].ID != "sub-ref-type-mismatch" {
		t.Fatalf("findings = %v, want sub-ref-type-mismatch first", ids(fs))
	}
	d := fs[0].Detail
	if d == nil || d.DiffAt < 0 || !strings.HasPrefix(d.TokenValue[d.DiffAt:], "tag") {
		t.Errorf("detail = %+v, want the first difference at the ref type", d)
	}
	if ev.Predicted || ev.Signature == nil || ev.Signature.Err != "" {
		t.Errorf("predicted=%v signature=%+v, want a real token whose signature verifies", ev.Predicted, ev.Signature)
	}
	if ev.Job == nil || ev.Job.JobID != 7003 || ev.Log == nil || ev.Log.STS == nil || ev.Log.STS.Code != "AccessDenied" {
		t.Errorf("job=%+v log=%+v, want job 7003 and its AccessDenied log from the fake GitLab", ev.Job, ev.Log)
	}
	for _, n := range ev.Notes {
		t.Logf("note: %s", n)
	}
	t.Logf("findings: %v", ids(fs))
}

func ids(fs []diagnose.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}
