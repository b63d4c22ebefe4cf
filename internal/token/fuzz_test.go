package token

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	seeds := []string{
		"", "a", "a.b", "a.b.c", "..", "...", `"x.y.z"`,
		compact(rsHeader, simpleClaims, fakeSig),
		compact(rsHeader, simpleClaims, fakeSig) + "\n",
		compact(`{"alg":"none"}`, `{}`, ""),
		compact(rsHeader, `{"aud":["a",1,true,null,{}],"exp":"1e3","nbf":-1}`, fakeSig),
		compact(rsHeader, `{"exp":1e400}`, fakeSig),
		b64(rsHeader) + ".e30=.abc",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := Parse(raw)
		if err == nil {
			_ = tok.String()
			_ = tok.Claims.SubValues()
			_ = ParseSub(tok.Claims.Subject)
			return
		}
		var me *MalformedError
		if !errors.As(err, &me) {
			t.Fatalf("error %T is not a *MalformedError: %v", err, err)
		}
		if me.Offset < 0 || me.Offset > len(raw) {
			t.Fatalf("offset %d outside the token (len %d): %v", me.Offset, len(raw), err)
		}
		if me.Part < 0 || me.Part > 3 {
			t.Fatalf("part %d out of range", me.Part)
		}
		if len(raw) >= 16 && strings.Contains(err.Error(), raw) {
			t.Fatalf("error quotes the whole token: %v", err)
		}
	})
}

func FuzzParseSub(f *testing.F) {
	for _, s := range []string{"", ":", "::", "project_path:a/b:ref_type:branch:ref:main", "ref:ref:ref", "a:b:c"} {
		f.Add(s, "project_path:a/b:ref_type:tag:ref:v1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, p := range ParseSub(a) {
			if p.Offset < 0 || p.End > len(a) || p.Offset > p.End {
				t.Fatalf("bad span %d-%d in %q", p.Offset, p.End, a)
			}
		}
		comp, off := FirstDifference(a, b)
		if (a == b) != (off == -1) {
			t.Fatalf("FirstDifference(%q, %q) = %q, %d", a, b, comp, off)
		}
		if off >= 0 && a[:off] != b[:off] {
			t.Fatalf("offset %d is after a difference in %q / %q", off, a, b)
		}
	})
}
