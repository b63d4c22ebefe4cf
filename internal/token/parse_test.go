package token

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMalformed(t *testing.T) {
	good := compact(rsHeader, simpleClaims, fakeSig)
	h, c := b64(rsHeader), b64(simpleClaims)
	claimsAt := len(h) + 1
	sigAt := len(h) + len(c) + 2
	tests := map[string]struct {
		raw        string
		part       int
		offset     int
		wantReason string
	}{
		"empty":                {"", 0, 0, "no id_tokens: block"},
		"only whitespace":      {" \n", 0, 0, "empty"},
		"double quotes":        {`"` + good + `"`, 0, 0, "wrapped in quotes"},
		"single quotes":        {`'` + good + `'`, 0, 0, "wrapped in quotes"},
		"trailing newline":     {good + "\n", 0, len(good), "ends with a newline"},
		"newline inside":       {good[:40] + "\n" + good[40:], 0, 40, "contains a newline at byte 40"},
		"space inside":         {good[:7] + " " + good[7:], 0, 7, "contains a space at byte 7"},
		"no dots":              {h, 0, 0, "has no '.'"},
		"two parts":            {h + "." + c, 0, len(h) + len(c) + 1, "2 parts"},
		"four parts":           {good + ".x", 0, len(good), "4 parts"},
		"JWE":                  {"a.b.c.d.e", 0, 0, "encrypted JWE"},
		"empty header":         {"." + c + "." + fakeSig, 1, 0, "part 1 (header) is empty"},
		"empty claims":         {h + ".." + fakeSig, 2, len(h) + 1, "part 2 (claims) is empty"},
		"standard base64 plus": {h + "." + c[:5] + "+" + c[6:] + "." + fakeSig, 2, claimsAt + 5, "standard base64"},
		"slash in signature":   {h + "." + c + ".ab/c", 3, sigAt + 2, "standard base64"},
		"padding":              {h + "=." + c + "." + fakeSig, 1, len(h), "'=' padding"},
		"bad character":        {h + "." + c + ".ab!c", 3, sigAt + 2, "'!'"},
		"truncated part":       {h + "." + c + "." + fakeSig[:5], 3, sigAt + 5, "cut off"},
		"empty signature":      {h + "." + c + ".", 3, sigAt, "cut off after the second '.'"},
		"header not JSON":      {compact("nope", simpleClaims, fakeSig), 1, 0, "header is not a valid JSON object"},
		"header bad syntax":    {compact(`{"alg":}`, simpleClaims, fakeSig), 1, 0, "at byte 8 of the decoded JSON"},
		"header without alg":   {compact(`{"typ":"JWT"}`, simpleClaims, fakeSig), 1, 0, "no alg"},
		"header alg number":    {compact(`{"alg":1}`, simpleClaims, fakeSig), 1, 0, "cannot unmarshal number"},
		"claims cut":           {compact(rsHeader, `{"iss":"x"`, fakeSig), 2, claimsAt, "claims are not a valid JSON object"},
		"claims array":         {compact(rsHeader, `[1,2]`, fakeSig), 2, claimsAt, "does not start with '{'"},
		"claims trailing data": {compact(rsHeader, `{"a":1}{}`, fakeSig), 2, claimsAt, "extra data"},
		"exp not a number":     {compact(rsHeader, `{"exp":"soon"}`, fakeSig), 2, claimsAt, `claim exp is "soon"`},
		"exp an object":        {compact(rsHeader, `{"exp":{}}`, fakeSig), 2, claimsAt, "claim exp is a JSON object"},
		"nbf out of range":     {compact(rsHeader, `{"nbf":1e300}`, fakeSig), 2, claimsAt, "far outside"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tok, err := Parse(tc.raw)
			if err == nil {
				t.Fatalf("Parse succeeded (%v), want an error", tok)
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("error %T %v is not a *MalformedError", err, err)
			}
			if me.Part != tc.part || me.Offset != tc.offset {
				t.Errorf("part %d offset %d, want part %d offset %d (%s)", me.Part, me.Offset, tc.part, tc.offset, me.Reason)
			}
			if !strings.Contains(me.Reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", me.Reason, tc.wantReason)
			}
			if len(tc.raw) > 12 && strings.Contains(err.Error(), tc.raw[len(tc.raw)/2-6:len(tc.raw)/2+6]) {
				t.Errorf("error %q quotes the token", err)
			}
		})
	}
}

func TestParseClaims(t *testing.T) {
	tests := map[string]struct {
		claims string
		check  func(t *testing.T, c Claims)
	}{
		"GitLab strings": {
			`{"project_id":"20","ref_protected":"false","namespace_path":"acme","environment":"prod"}`,
			func(t *testing.T, c Claims) {
				assertEqual(t, "ProjectID", c.ProjectID, "20")
				assertEqual(t, "RefProtected", c.RefProtected, "false")
				assertEqual(t, "NamespacePath", c.NamespacePath, "acme")
				assertEqual(t, "Environment", c.Environment, "prod")
			},
		},
		"numbers and booleans become text": {
			`{"project_id":20,"ref_protected":false,"runner_id":12270857,"user_id":1e3,"job_id":12345678901234567890}`,
			func(t *testing.T, c Claims) {
				assertEqual(t, "ProjectID", c.ProjectID, "20")
				assertEqual(t, "RefProtected", c.RefProtected, "false")
				assertEqual(t, "RunnerID", c.RunnerID, "12270857")
				assertEqual(t, "UserID", c.UserID, "1000")
				assertEqual(t, "JobID", c.JobID, "12345678901234567890")
			},
		},
		"aud string": {
			`{"aud":"sts.amazonaws.com"}`,
			func(t *testing.T, c Claims) {
				assertEqual(t, "Audience", strings.Join(c.Audience, ","), "sts.amazonaws.com")
			},
		},
		"aud array": {
			`{"aud":["https://gcp.example","sts.amazonaws.com"]}`,
			func(t *testing.T, c Claims) {
				assertEqual(t, "Audience", strings.Join(c.Audience, ","), "https://gcp.example,sts.amazonaws.com")
			},
		},
		"times": {
			`{"exp":1700003600,"iat":"1700000000","nbf":1699999995.5}`,
			func(t *testing.T, c Claims) {
				assertEqual(t, "exp", c.Expiry.Unix(), int64(1700003600))
				assertEqual(t, "iat", c.IssuedAt.Unix(), int64(1700000000))
				assertEqual(t, "nbf ms", c.NotBefore.UnixMilli(), int64(1699999995500))
			},
		},
		"absent and null times": {
			`{"exp":null}`,
			func(t *testing.T, c Claims) {
				if c.Expiry != nil || c.IssuedAt != nil {
					t.Errorf("want nil times, got exp %v iat %v", c.Expiry, c.IssuedAt)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tok, err := Parse(compact(rsHeader, tc.claims, fakeSig))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, tok.Claims)
		})
	}
}

func TestParseHeaderAndStandardClaims(t *testing.T) {
	tok, err := Parse(compact(rsHeader, simpleClaims, fakeSig))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "alg", tok.Header.Alg, "RS256")
	assertEqual(t, "kid", tok.Header.Kid, "k1")
	assertEqual(t, "typ", tok.Header.Typ, "JWT")
	assertEqual(t, "iss", tok.Claims.Issuer, "https://gitlab.com")
	assertEqual(t, "sub", tok.Claims.Subject, "project_path:acme/payments:ref_type:branch:ref:main")
	assertEqual(t, "Len", tok.Len(), len(compact(rsHeader, simpleClaims, fakeSig)))
}

func TestValue(t *testing.T) {
	tok, err := Parse(compact(rsHeader, `{"s":"x","n":42,"b":true,"null":null,"arr":["a",1,{"k":"v"}],"obj":{"k":"v"},"empty":[]}`, fakeSig))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		want   string
		wantOK bool
	}{
		"s":       {"x", true},
		"n":       {"42", true},
		"b":       {"true", true},
		"null":    {"", false},
		"missing": {"", false},
		"arr":     {`a|1|{"k":"v"}`, true},
		"obj":     {`{"k":"v"}`, true},
		"empty":   {"", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := tok.Claims.Value(name)
			if ok != tc.wantOK || strings.Join(got, "|") != tc.want {
				t.Errorf("Value(%q) = %q, %v; want %q, %v", name, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func assertEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
