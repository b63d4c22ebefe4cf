package policy

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestLike(t *testing.T) {
	tests := map[string]struct {
		pattern, value string
		want           bool
	}{
		"exact":                   {"abc", "abc", true},
		"exact differs":           {"abc", "abd", false},
		"case-sensitive":          {"ABC", "abc", false},
		"star matches all":        {"*", "anything:at/all", true},
		"star matches empty":      {"*", "", true},
		"empty pattern":           {"", "", true},
		"empty pattern non-empty": {"", "a", false},
		"trailing star":           {"project_path:acme/*", "project_path:acme/sub/group/app:ref_type:branch:ref:main", true},
		"leading star":            {"*:ref:main", "project_path:a/b:ref_type:branch:ref:main", true},
		"middle star":             {"project_path:acme/app:ref_type:*:ref:main", "project_path:acme/app:ref_type:tag:ref:main", true},
		"middle star no match":    {"project_path:acme/app:ref_type:*:ref:main", "project_path:acme/app:ref_type:tag:ref:main2", false},
		"question one char":       {"v?", "v1", true},
		"question not zero":       {"v?", "v", false},
		"question not two":        {"v?", "v12", false},
		"question unicode":        {"caf?", "café", true},
		"many stars":              {"a*b*c*d", "aXXbYYcZZd", true},
		"backtrack":               {"*ab", "aaab", true},
		"backtrack fails":         {"*ab*cd", "abxcxd", false},
		"consecutive stars":       {"a**b", "ab", true},
		"escaped star":            {"a${*}b", "a*b", true},
		"escaped star literal":    {"a${*}b", "axb", false},
		"escaped question":        {"${?}", "?", true},
		"escaped dollar":          {"${$}x", "$x", true},
		"other variable literal":  {"${aws:username}", "${aws:username}", true},
		"dollar alone":            {"a$", "a$", true},
		"invalid utf8 distinct":   {"*\xff", "a\xfe", false},
		"invalid utf8 same":       {"*\xff", "a\xff", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, Like(tc.pattern, tc.value))
		})
	}
}

// TestLikeIsNotExponential would time out with a naive recursive matcher.
func TestLikeIsNotExponential(t *testing.T) {
	pattern := strings.Repeat("a*", 40) + "b"
	value := strings.Repeat("a", 5000)
	assert.False(t, Like(pattern, value))
}

// likeReference is an independent implementation through regexp, used as
// an oracle for valid UTF-8 without ${...} escapes.
func likeReference(pattern, value string) bool {
	var re strings.Builder
	re.WriteString(`(?s)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(value)
}

func FuzzLike(f *testing.F) {
	f.Add("project_path:acme/*:ref_type:branch:ref:main", "project_path:acme/app:ref_type:branch:ref:main")
	f.Add("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaa")
	f.Add("v?.*", "v1.2")
	f.Add("${*}", "*")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, pattern, value string) {
		got := Like(pattern, value)
		if !strings.ContainsAny(pattern, "*?$") && got != (pattern == value) {
			t.Fatalf("Like(%q, %q) = %v for a pattern without wildcards", pattern, value, got)
		}
		if !Like(strings.ReplaceAll(strings.ReplaceAll(value, "*", "?"), "$", "?"), value) {
			t.Fatalf("a value must match itself with its wildcard characters made '?': %q", value)
		}
		if utf8.ValidString(pattern) && utf8.ValidString(value) && !strings.Contains(pattern, "${") {
			if want := likeReference(pattern, value); got != want {
				t.Fatalf("Like(%q, %q) = %v, regexp oracle says %v", pattern, value, got, want)
			}
		}
	})
}

func BenchmarkLike(b *testing.B) {
	const pattern = "project_path:acme/*:ref_type:branch:ref:release/*"
	const value = "project_path:acme/platform/infra/app:ref_type:branch:ref:release/2026.04"
	b.ReportAllocs()
	for b.Loop() {
		if !Like(pattern, value) {
			b.Fatal("expected a match")
		}
	}
}
