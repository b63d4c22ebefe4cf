package policy

import (
	"strings"
	"unicode/utf8"
)

// Like reports whether value matches an IAM StringLike pattern (* and ?),
// case-sensitively.
//
// "*" matches any run of characters (including none) and "?" exactly one
// character. The policy-variable escapes ${*}, ${?} and ${$} stand for a
// literal *, ? and $; other ${...} variables are not resolved and compare
// literally. The match is iterative with a single backtrack point, so it
// runs in O(len(pattern)*len(value)) time at worst, whatever the input.
func Like(pattern, value string) bool {
	if !strings.ContainsAny(pattern, "*?$") {
		return pattern == value
	}
	p := compileLike(pattern)
	v := toRunes(value)
	pi, vi := 0, 0
	star, starV := -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && p[pi].kind == tokStar:
			star, starV = pi, vi
			pi++
		case pi < len(p) && (p[pi].kind == tokOne || p[pi].r == v[vi]):
			pi++
			vi++
		case star >= 0:
			// Let the last star absorb one more character and retry. Earlier
			// stars never need revisiting: the last one can absorb anything
			// they could.
			starV++
			pi, vi = star+1, starV
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].kind == tokStar {
		pi++
	}
	return pi == len(p)
}

type likeKind uint8

const (
	tokLit likeKind = iota
	tokStar
	tokOne
)

type likeTok struct {
	kind likeKind
	r    rune
}

func compileLike(pattern string) []likeTok {
	toks := make([]likeTok, 0, len(pattern))
	for i := 0; i < len(pattern); {
		if strings.HasPrefix(pattern[i:], "${") && i+3 < len(pattern) && pattern[i+3] == '}' {
			if c := pattern[i+2]; c == '*' || c == '?' || c == '$' {
				toks = append(toks, likeTok{kind: tokLit, r: rune(c)})
				i += 4
				continue
			}
		}
		r, size := decodeRune(pattern[i:])
		switch r {
		case '*':
			// Consecutive stars are one star; collapsing them keeps the
			// backtracking bounded.
			if n := len(toks); n == 0 || toks[n-1].kind != tokStar {
				toks = append(toks, likeTok{kind: tokStar})
			}
		case '?':
			toks = append(toks, likeTok{kind: tokOne})
		default:
			toks = append(toks, likeTok{kind: tokLit, r: r})
		}
		i += size
	}
	return toks
}

func toRunes(s string) []rune {
	out := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, size := decodeRune(s[i:])
		out = append(out, r)
		i += size
	}
	return out
}

// decodeRune decodes one character; an invalid byte becomes a negative rune
// unique to that byte, so two different invalid bytes never compare equal.
func decodeRune(s string) (rune, int) {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size == 1 {
		return -1 - rune(s[0]), 1
	}
	return r, size
}
