package ui

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/internal/policy"
)

// testSignature is the made-up signature part of the test token; no view
// may ever show it.
const testSignature = "bm90LWEtcmVhbC1zaWduYXR1cmUtZG8tbm90LXByaW50"

// testToken builds a JWT from a claims file of testdata/doctor. The
// signature is not real: the test evidence says it verified, as Collect
// would have recorded.
func testToken(t *testing.T, claimsFile string) string {
	t.Helper()
	claims, err := os.ReadFile(filepath.Join("testdata", "doctor", claimsFile))
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	header := `{"alg":"RS256","kid":"kid-4f3a2b1c0d9e8f7a","typ":"JWT"}`
	return enc([]byte(header)) + "." + enc(claims) + "." + testSignature
}

// testEvidence is what Collect gathers for the failed tag job 7003 of
// acme/payments against the main-only role: a real token's claims, the
// role's trust policy, the gitlab.com provider, the job, the STS error and
// quick issuer probes.
func testEvidence(t *testing.T) *diagnose.Evidence {
	t.Helper()
	ev := &diagnose.Evidence{}
	ev.AddToken(testToken(t, "claims-tag.json"), "file token.jwt", nil, "")
	if ev.Token == nil {
		t.Fatalf("the test token does not parse: %+v", ev.TokenErr)
	}
	ev.Signature = &diagnose.SignatureCheck{KeySource: "https://gitlab.com/oauth/discovery/keys", KeyIDs: []string{"kid-4f3a2b1c0d9e8f7a"}}
	doc, err := os.ReadFile(filepath.Join("testdata", "doctor", "trust-main-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := policy.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	ev.Role = &diagnose.RoleFacts{ARN: "arn:aws:iam::123456789012:role/acme-payments-main", Name: "acme-payments-main",
		AccountID: "123456789012", Trust: trust, TrustSource: "GetRole", MaxSessionDuration: 3600}
	ev.Providers = &diagnose.ProviderFacts{Listed: true, List: []diagnose.Provider{{
		URL: "gitlab.com", ARN: "arn:aws:iam::123456789012:oidc-provider/gitlab.com", ClientIDs: []string{"https://gitlab.com"}}}}
	ev.Job = &diagnose.JobFacts{BaseURL: "https://gitlab.com", ProjectPath: "acme/payments", ProjectID: 4242, JobID: 7003,
		Name: "deploy", Ref: "v2.3.0", Tag: true, Status: "failed", PipelineID: 1203, FinishedAt: "2025-05-12T11:02:44Z"}
	scan := diagnose.ScanText("An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity")
	ev.Log = &scan
	ev.Issuer = &issuer.Report{IssuerURL: "https://gitlab.com",
		Discovery:        issuer.Fetch{URL: "https://gitlab.com/.well-known/openid-configuration", Status: 200, Duration: 182 * time.Millisecond},
		DiscoveredIssuer: "https://gitlab.com", IssuerMatches: true, JWKSURI: "https://gitlab.com/oauth/discovery/keys",
		JWKS:   issuer.Fetch{URL: "https://gitlab.com/oauth/discovery/keys", Status: 200, Duration: 2400 * time.Millisecond},
		KeyIDs: []string{"kid-4f3a2b1c0d9e8f7a"}}
	ev.Now, ev.NowSource = time.Date(2025, 5, 12, 11, 2, 44, 0, time.UTC), "the job's finished_at"
	return ev
}

// testDoctorRun collects testEvidence (after waiting for release, when
// set, or for the context) and judges it with the real rules.
func testDoctorRun(t *testing.T, release chan struct{}) DoctorRun {
	ev := testEvidence(t)
	return DoctorRun{
		Collect: func(ctx context.Context) (*diagnose.Evidence, error) {
			if release != nil {
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return ev, nil
		},
		Diagnose: diagnose.Diagnose,
	}
}

// doctorDriver feeds messages to a DoctorModel and runs its commands
// synchronously, feeding back the doctor's own messages; spinner ticks
// and terminal queries are dropped.
type doctorDriver struct {
	t    *testing.T
	m    *DoctorModel
	quit bool
	// clipboard is the last text sent with tea.SetClipboard.
	clipboard string
}

func newDoctorDriver(t *testing.T, run DoctorRun, opts DoctorOptions) *doctorDriver {
	t.Helper()
	d := &doctorDriver{t: t, m: NewDoctor(run, opts)}
	d.run(d.m.Init())
	return d
}

func (d *doctorDriver) send(msgs ...tea.Msg) *doctorDriver {
	d.t.Helper()
	for _, msg := range msgs {
		_, cmd := d.m.Update(msg)
		d.run(cmd)
	}
	return d
}

func (d *doctorDriver) keys(ks ...string) *doctorDriver {
	d.t.Helper()
	for _, k := range ks {
		d.send(press(k))
	}
	return d
}

func (d *doctorDriver) run(cmd tea.Cmd) {
	d.t.Helper()
	for _, msg := range runCmd(d.t, cmd) {
		switch msg.(type) {
		case tea.QuitMsg:
			d.quit = true
		case collectedMsg, auditDoneMsg, fixPreviewMsg, fixAppliedMsg:
			d.send(msg)
		default:
			if s, ok := clipboardText(msg); ok {
				d.clipboard = s
			}
		}
	}
}

// screen returns the plain text of the whole frame.
func (d *doctorDriver) screen() string { return ansi.Strip(d.m.View().Content) }

// clipboardText reads the text of tea.SetClipboard's message, whose type
// bubbletea keeps unexported.
func clipboardText(msg tea.Msg) (string, bool) {
	v := reflect.ValueOf(msg)
	if !v.IsValid() || v.Type().Name() != "setClipboardMsg" || v.Kind() != reflect.String {
		return "", false
	}
	return v.String(), true
}
