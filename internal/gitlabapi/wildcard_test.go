package gitlabapi

import "testing"

func TestWildcardMatch(t *testing.T) {
	tests := map[string]struct {
		pattern, s string
		want       bool
	}{
		"exact":             {"main", "main", true},
		"exact differs":     {"main", "mainline", false},
		"star matches all":  {"*", "feature/x", true},
		"prefix":            {"release/*", "release/1.0", true},
		"star crosses /":    {"release/*", "release/1/hotfix", true},
		"prefix misses":     {"release/*", "releases", false},
		"inner":             {"v*-rc*", "v1.2-rc3", true},
		"suffix needed":     {"*-stable", "1.0-stable-x", false},
		"question literal":  {"v?", "v1", false},
		"empty pattern":     {"", "", true},
		"overlapping parts": {"a*a", "a", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := WildcardMatch(tc.pattern, tc.s); got != tc.want {
				t.Fatalf("WildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
		})
	}
}
