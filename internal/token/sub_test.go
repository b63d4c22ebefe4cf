package token

import (
	"strconv"
	"strings"
	"testing"
)

func TestValidateSubComponents(t *testing.T) {
	tests := map[string]struct {
		components []string
		wantErrs   []string
	}{
		"default":             {DefaultSubComponents, nil},
		"project_id first":    {[]string{"project_id", "ref_type", "ref", "environment_protected"}, nil},
		"all allowed":         {AllowedSubComponents, nil},
		"empty":               {nil, []string{"project_path or project_id must be the first element of the sub claim"}},
		"ref first":           {[]string{"ref", "project_path"}, []string{"project_path or project_id must be the first element of the sub claim"}},
		"unknown component":   {[]string{"project_path", "environment"}, []string{"environment is not an allowed sub claim component"}},
		"both problems":       {[]string{"namespace_path", "ref"}, []string{"must be the first element", "namespace_path is not an allowed sub claim component"}},
		"job_project_id lead": {[]string{"job_project_id"}, []string{"must be the first element", "job_project_id is not an allowed"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := ValidateSubComponents(tc.components)
			if len(tc.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestBuildSub(t *testing.T) {
	values := map[string]string{
		"project_path": "acme/payments", "project_id": "4242", "ref_type": "branch",
		"ref": "main", "ref_protected": "true",
	}
	tests := map[string]struct {
		components []string
		want       string
	}{
		"default":          {DefaultSubComponents, "project_path:acme/payments:ref_type:branch:ref:main"},
		"project_id lead":  {[]string{"project_id", "ref_protected"}, "project_id:4242:ref_protected:true"},
		"missing dropped":  {[]string{"project_path", "environment_protected", "ref"}, "project_path:acme/payments:ref:main"},
		"only missing":     {[]string{"deployment_tier"}, ""},
		"empty components": {nil, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := BuildSub(tc.components, values); got != tc.want {
				t.Errorf("BuildSub = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseSub(t *testing.T) {
	tests := map[string]struct {
		sub  string
		want string // name=value@offset-end, joined by " "
	}{
		"default":            {"project_path:acme/payments:ref_type:branch:ref:main", "project_path=acme/payments@0-26 ref_type=branch@27-42 ref=main@43-51"},
		"ref named ref":      {"project_path:a/b:ref_type:branch:ref:ref", "project_path=a/b@0-16 ref_type=branch@17-32 ref=ref@33-40"},
		"colon in pattern":   {"project_path:a/b:ref:feat:x", "project_path=a/b@0-16 ref=feat:x@17-27"},
		"name without value": {"project_path", "project_path=@0-12"},
		"wildcard":           {"project_path:acme/*:ref_type:branch:ref:*", "project_path=acme/*@0-19 ref_type=branch@20-35 ref=*@36-41"},
		"empty":              {"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, p := range ParseSub(tc.sub) {
				got = append(got, p.Name+"="+p.Value+"@"+strconv.Itoa(p.Offset)+"-"+strconv.Itoa(p.End))
				span := tc.sub[p.Offset:p.End]
				if want := strings.TrimSuffix(p.Name+":"+p.Value, ":"); span != want && span != p.Name {
					t.Errorf("span %d-%d of %q is not %s:%s", p.Offset, p.End, tc.sub, p.Name, p.Value)
				}
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("ParseSub = %s, want %s", s, tc.want)
			}
		})
	}
}

func TestFirstDifference(t *testing.T) {
	base := "project_path:acme/payments:ref_type:branch:ref:main"
	tests := map[string]struct {
		a, b       string
		wantComp   string
		wantOffset int
	}{
		"equal":             {base, base, "", -1},
		"ref differs":       {base, "project_path:acme/payments:ref_type:branch:ref:dev", "ref", 47},
		"ref longer in b":   {base, base + "line", "ref", len(base)},
		"project differs":   {base, "project_path:acme/pay:ref_type:branch:ref:main", "project_path", 21},
		"ref_type tag":      {base, "project_path:acme/payments:ref_type:tag:ref:main", "ref_type", 36},
		"component missing": {"project_path:acme/payments:ref_type:branch", base, "ref", 42},
		"lead differs":      {base, "project_id:4242:ref_type:branch:ref:main", "project_path", 8},
		"empty a":           {"", base, "project_path", 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			comp, off := FirstDifference(tc.a, tc.b)
			if comp != tc.wantComp || off != tc.wantOffset {
				t.Errorf("FirstDifference = %q, %d; want %q, %d", comp, off, tc.wantComp, tc.wantOffset)
			}
		})
	}
}

func TestSubValuesRebuildSub(t *testing.T) {
	tok, err := Parse(compact(rsHeader, `{"sub":"project_id:4242:ref_type:branch:ref:main:ref_protected:true","project_id":4242,"project_path":"acme/payments","ref_type":"branch","ref":"main","ref_protected":"true"}`, fakeSig))
	if err != nil {
		t.Fatal(err)
	}
	got := BuildSub([]string{"project_id", "ref_type", "ref", "ref_protected", "deployment_tier"}, tok.Claims.SubValues())
	if got != tok.Claims.Subject {
		t.Errorf("rebuilt sub %q, token sub %q", got, tok.Claims.Subject)
	}
}
