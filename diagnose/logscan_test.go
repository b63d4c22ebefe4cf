package diagnose

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gitlab-oidc/internal/token/tokentest"
)

func readLog(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "logs", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return string(b)
}

func TestScanLog(t *testing.T) {
	tests := map[string]struct {
		file         string
		code, tool   string
		msgPart      string
		line         int
		at           time.Time
		roleARNEmpty bool
		region       bool
	}{
		"aws cli v2 AccessDenied with runner timestamps": {
			file: "aws-cli-v2-access-denied.log", code: "AccessDenied", tool: ToolAWSCLIv2,
			msgPart: "Not authorized to perform sts:AssumeRoleWithWebIdentity", line: 8,
			at: time.Date(2026, 3, 14, 15, 9, 31, 421000000, time.UTC),
		},
		"aws cli InvalidIdentityToken dated by the section marker after it": {
			file: "aws-cli-invalid-identity-token.log", code: "InvalidIdentityToken", tool: ToolAWSCLI,
			msgPart: "Couldn't retrieve verification key", line: 4, at: time.Unix(1773500975, 0).UTC(),
		},
		"Terraform wrapping the Go SDK v2": {
			file: "terraform-no-provider.log", code: "InvalidIdentityToken", tool: ToolTerraform,
			msgPart: "No OpenIDConnect provider found in your account for https://gitlab.example.com", line: 3,
		},
		"Go SDK v2 ExpiredTokenException dated by STS's own clock": {
			file: "go-sdk-v2-expired.log", code: "ExpiredToken", tool: ToolGoSDKv2,
			msgPart: "Token expired", line: 1, at: time.Unix(1773501001, 0).UTC(),
		},
		"empty role ARN in the aws CLI": {
			file: "aws-cli-empty-role-arn.log", roleARNEmpty: true,
		},
		"boto3 duration ValidationError": {
			file: "boto3-duration.log", code: "ValidationError", tool: ToolBoto,
			msgPart: "DurationSeconds exceeds the MaxSessionDuration", line: 4,
		},
		"Go SDK v1 WebIdentityErr caused by AccessDenied": {
			file: "go-sdk-v1-access-denied.log", code: "AccessDenied", tool: ToolGoSDKv1,
			msgPart: "Not authorized", line: 1,
		},
		"session name ValidationError": {
			file: "aws-cli-session-name.log", code: "ValidationError", tool: ToolAWSCLI,
			msgPart: "roleSessionName", line: 3,
		},
		"region missing": {file: "leaky-secrets.log", region: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := ScanLog(strings.NewReader(readLog(t, tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if s.RoleARNEmpty != tc.roleARNEmpty {
				t.Errorf("RoleARNEmpty = %v (%q), want %v", s.RoleARNEmpty, s.RoleARNLine, tc.roleARNEmpty)
			}
			if (s.RegionMissing != "") != tc.region {
				t.Errorf("RegionMissing = %q, want set=%v", s.RegionMissing, tc.region)
			}
			if tc.code == "" {
				if s.STS != nil {
					t.Errorf("STS = %+v, want none", s.STS)
				}
				return
			}
			if s.STS == nil {
				t.Fatalf("no STS error found")
			}
			if s.STS.Code != tc.code || s.STS.Tool != tc.tool || s.STS.Line != tc.line {
				t.Errorf("STS = code %q tool %q line %d, want %q %q %d", s.STS.Code, s.STS.Tool, s.STS.Line, tc.code, tc.tool, tc.line)
			}
			if !strings.Contains(s.STS.Message, tc.msgPart) {
				t.Errorf("message %q lacks %q", s.STS.Message, tc.msgPart)
			}
			if !s.STS.At.Equal(tc.at) {
				t.Errorf("At = %v, want %v", s.STS.At, tc.at)
			}
		})
	}
}

func TestScanLogKeepsTheTail(t *testing.T) {
	var b strings.Builder
	filler := strings.Repeat("x", 1023) + "\n"
	for b.Len() < MaxLogBytes+(1<<20) {
		b.WriteString(filler)
	}
	b.WriteString("An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\n")
	s, err := ScanLog(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Truncated || s.STS == nil || s.STS.Code != "AccessDenied" {
		t.Fatalf("Truncated=%v STS=%+v: the error at the end of a long log must be found", s.Truncated, s.STS)
	}
}

// Secrets that must never survive MaskSecrets.
var (
	accessKeyRe = regexp.MustCompile(`(AKIA|ASIA)[A-Z0-9]{16}`)
	fullJWTRe   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
)

func TestMaskSecrets(t *testing.T) {
	s := tokentest.NewSigner(t)
	jwt := s.Sign(tokentest.GitLabClaims(nil))
	tests := map[string]struct {
		in      string
		gone    []string
		kept    []string
		present []string
	}{
		"log with keys, session token and a GitLab token": {
			in:   readLog(t, "leaky-secrets.log"),
			gone: []string{"ASIAQWERTYUIOPASDFGH", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "IQoJb3JpZ2luX2VjEJr", "glpat-AbCdEfGhIjKlMnOpQrSt"},
			kept: []string{"You must specify a region", "AWS_ACCESS_KEY_ID=", "--region us-east-1"},
		},
		"JWT becomes its redacted form": {
			in:      "token: " + jwt + " done",
			gone:    []string{jwt, strings.Split(jwt, ".")[1]},
			present: []string{"[jwt eyJhbGciOi", " done"},
		},
		"cut JWT without signature": {
			in:   strings.Join(strings.Split(jwt, ".")[:2], ".") + ".",
			gone: []string{strings.Split(jwt, ".")[1]},
		},
		"secret key printed alone by --output text": {
			in:   "ASIAQWERTYUIOPASDFGH\twJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\tFwoGZXIvYXdzEJr",
			gone: []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "QWERTYUIOPASDFGH"},
		},
		"commit SHAs and thumbprints stay": {
			in:   "sha 0123456789abcdef0123456789abcdef01234567 thumbprint 9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
			kept: []string{"0123456789abcdef0123456789abcdef01234567", "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"},
		},
		"header and bearer tokens": {
			in:   "Authorization: Bearer abc.def.ghi\nJOB-TOKEN: 64_abcdefghijklmn",
			gone: []string{"abc.def.ghi", "64_abcdefghijklmn"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := MaskSecrets(tc.in)
			for _, g := range tc.gone {
				if strings.Contains(out, g) {
					t.Errorf("secret %q survived in %q", g, out)
				}
			}
			for _, k := range append(tc.kept, tc.present...) {
				if !strings.Contains(out, k) {
					t.Errorf("%q was lost from %q", k, out)
				}
			}
			if accessKeyRe.MatchString(out) || fullJWTRe.MatchString(out) {
				t.Errorf("a key or JWT survived: %q", out)
			}
		})
	}
}

// FuzzScanLog feeds arbitrary logs to the scanner: it must not panic, and
// nothing it quotes may hold an access key or a whole JWT.
func FuzzScanLog(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "logs"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "logs", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: AKIAIOSFODNN7EXAMPLE eyJa.eyJb.c")
	f.Fuzz(func(t *testing.T, log string) {
		s := ScanText(log)
		var quoted []string
		if s.STS != nil {
			quoted = append(quoted, s.STS.Message)
		}
		quoted = append(quoted, s.RoleARNLine, s.RegionMissing, s.ProviderIDLine, s.LegacyJWTLine)
		for _, q := range quoted {
			if accessKeyRe.MatchString(q) || fullJWTRe.MatchString(q) {
				t.Fatalf("quoted text leaks a secret: %q", q)
			}
		}
	})
}

// FuzzMaskSecrets checks that no access key or whole JWT survives masking,
// wherever it sits in the text.
func FuzzMaskSecrets(f *testing.F) {
	f.Add("x", "AKIAIOSFODNN7EXAMPLE", "y")
	f.Add("AKIAAKIA", "ASIAQWERTYUIOPASDFGH", "BBBBBBBBBBBBBBBB")
	f.Add("eyJ", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", ".eyJ")
	f.Fuzz(func(t *testing.T, before, secret, after string) {
		out := MaskSecrets(before + secret + after)
		if accessKeyRe.MatchString(out) {
			t.Fatalf("access key survived: %q", out)
		}
		if fullJWTRe.MatchString(out) {
			t.Fatalf("JWT survived: %q", out)
		}
	})
}
