package policy

import (
	"os"
	"path/filepath"
	"testing"
)

func addFixtureSeeds(f *testing.F) [][]byte {
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	names = append(names, filepath.Join("testdata", "gitlab-urlencoded.txt"))
	var seeds [][]byte
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// FuzzParse checks that Parse never panics and that whatever it accepts
// marshals, re-parses to an equivalent document and marshals identically.
func FuzzParse(f *testing.F) {
	for _, s := range addFixtureSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Action":[],"Principal":{},"Condition":{"StringEquals":{}}}}`))
	f.Add([]byte(`%7B%22Statement%22%3A%5B%5D%7D`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Marshal(doc)
		if err != nil {
			t.Fatalf("Marshal failed on a parsed document: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse failed on Marshal output: %v\n%s", err, out)
		}
		if !Equivalent(doc, again) {
			t.Fatalf("round trip changed the meaning:\n%s", out)
		}
		out2, err := Marshal(again)
		if err != nil || string(out2) != string(out) {
			t.Fatalf("Marshal is not stable: %v\n%s\n%s", err, out, out2)
		}
	})
}

// FuzzEvaluate checks that Evaluate never panics and keeps its invariants:
// one result per statement and per condition, Deny wins, and a statement
// applies exactly when action, principal and every condition match.
func FuzzEvaluate(f *testing.F) {
	for _, s := range addFixtureSeeds(f) {
		f.Add(s, "gitlab.com:sub", "project_path:acme/app:ref_type:branch:ref:main", ActionWebIdentity)
	}
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"ForAllValues:StringNotLikeIfExists":{"K":["*a?"]},"DateLessThan":{"k":"2026-01-01"},"IpAddress":{"k":"10.0.0.0/8"}}}}`), "k", "10.0.0.1", "s3:GetObject")
	f.Fuzz(func(t *testing.T, policy []byte, key, value, action string) {
		doc, err := Parse(policy)
		if err != nil {
			return
		}
		req := Request{
			Action:    action,
			Federated: gitlabProvider,
			Context:   map[string][]string{key: {value}, "gitlab.com:aud": {"sts.amazonaws.com", value}},
		}
		dec := Evaluate(doc, req)
		if len(dec.Statements) != len(doc.Statements) {
			t.Fatalf("%d statement results for %d statements", len(dec.Statements), len(doc.Statements))
		}
		if dec.Allowed && dec.ExplicitDeny {
			t.Fatal("allowed despite an explicit deny")
		}
		for i, sr := range dec.Statements {
			if len(sr.Conditions) != len(doc.Statements[i].Conditions) {
				t.Fatalf("statement %d: condition results do not match conditions", i)
			}
			all := sr.ActionMatch && sr.PrincipalMatch
			for _, cr := range sr.Conditions {
				all = all && cr.Matched
				if !cr.KnownOperator && cr.Matched {
					t.Fatalf("unknown operator %q matched", cr.Operator)
				}
			}
			if all != sr.Applies {
				t.Fatalf("statement %d: Applies=%v but parts say %v", i, sr.Applies, all)
			}
		}
	})
}
