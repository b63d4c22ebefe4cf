package textdiff

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedExact(t *testing.T) {
	tests := map[string]struct {
		a, b    string
		context int
		want    string
	}{
		"equal texts give no diff": {a: "x\ny\n", b: "x\ny\n", context: 3, want: ""},
		"one line changed in the middle": {
			a: "a\nb\nc\nd\ne\n", b: "a\nb\nX\nd\ne\n", context: 1,
			want: "--- a\n+++ b\n@@ -2,3 +2,3 @@\n b\n-c\n+X\n d\n",
		},
		"insert at the start of a file": {
			a: "stages:\n", b: "include:\n  - local: x\nstages:\n", context: 3,
			want: "--- a\n+++ b\n@@ -1 +1,3 @@\n+include:\n+  - local: x\n stages:\n",
		},
		"create from nothing": {
			a: "", b: "one\ntwo\n", context: 3,
			want: "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+one\n+two\n",
		},
		"delete everything": {
			a: "one\n", b: "", context: 3,
			want: "--- a\n+++ b\n@@ -1 +0,0 @@\n-one\n",
		},
		"missing final newline is shown": {
			a: "x\ny", b: "x\ny\n", context: 3,
			want: "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n",
		},
		"far apart changes make two hunks": {
			a: "1\n2\n3\n4\n5\n6\n7\n8\n9\n", b: "X\n2\n3\n4\n5\n6\n7\n8\nY\n", context: 1,
			want: "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-1\n+X\n 2\n@@ -8,2 +8,2 @@\n 8\n-9\n+Y\n",
		},
		"close changes share one hunk": {
			a: "1\n2\n3\n4\n", b: "X\n2\n3\nY\n", context: 1,
			want: "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n-4\n+Y\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Unified("a", "b", tc.a, tc.b, tc.context)
			if got != tc.want {
				t.Errorf("Unified() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestUnifiedAppliesBack checks on random texts that applying the diff to a
// gives b, and that the script is minimal enough to keep equal lines as
// context (no hunk line is both deleted and re-added unchanged).
func TestUnifiedAppliesBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		a := randomText(rng)
		b := mutate(rng, a)
		for _, ctx := range []int{0, 1, 3} {
			d := Unified("a", "b", a, b, ctx)
			got, err := apply(a, d)
			if err != nil {
				t.Fatalf("case %d ctx %d: apply: %v\na=%q\nb=%q\ndiff:\n%s", i, ctx, err, a, b, d)
			}
			if got != b {
				t.Fatalf("case %d ctx %d: applied diff gives %q, want %q\ndiff:\n%s", i, ctx, got, b, d)
			}
		}
	}
}

func randomText(rng *rand.Rand) string {
	var sb strings.Builder
	for range rng.IntN(12) {
		sb.WriteString(strconv.Itoa(rng.IntN(5)))
		sb.WriteByte('\n')
	}
	s := sb.String()
	if s != "" && rng.IntN(4) == 0 {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}

func mutate(rng *rand.Rand, a string) string {
	lines := splitLines(a)
	for range rng.IntN(4) {
		switch pos := rng.IntN(len(lines) + 1); rng.IntN(3) {
		case 0:
			lines = append(lines[:pos], append([]string{"new" + strconv.Itoa(rng.IntN(9)) + "\n"}, lines[pos:]...)...)
		case 1:
			if pos < len(lines) {
				lines = append(lines[:pos], lines[pos+1:]...)
			}
		default:
			if pos < len(lines) {
				lines[pos] = "chg\n"
			}
		}
	}
	s := strings.Join(lines, "")
	if rng.IntN(5) == 0 {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}

// apply is a strict unified-diff applier: every context and deleted line must
// match a at the position the hunk header names.
func apply(a, diff string) (string, error) {
	if diff == "" {
		return a, nil
	}
	src := splitLines(a)
	dl := splitLines(diff)[2:]
	var out []string
	pos := 0
	for i := 0; i < len(dl); {
		aStart, aCount, err := parseHeader(dl[i])
		if err != nil {
			return "", err
		}
		start := aStart - 1
		if aCount == 0 {
			start = aStart
		}
		if start < pos || start > len(src) {
			return "", fmt.Errorf("hunk %q out of order or range", dl[i])
		}
		out = append(out, src[pos:start]...)
		pos = start
		for i++; i < len(dl) && !strings.HasPrefix(dl[i], "@@"); i++ {
			kind, line := dl[i][0], dl[i][1:]
			if i+1 < len(dl) && strings.HasPrefix(dl[i+1], `\ No newline`) {
				line = strings.TrimSuffix(line, "\n")
				i++
			}
			if kind == '+' {
				out = append(out, line)
				continue
			}
			if pos >= len(src) || src[pos] != line {
				return "", fmt.Errorf("line %d: diff says %q", pos+1, line)
			}
			if kind == ' ' {
				out = append(out, line)
			}
			pos++
		}
	}
	out = append(out, src[pos:]...)
	return strings.Join(out, ""), nil
}

// parseHeader reads the old-file start and count of "@@ -s[,c] +s[,c] @@".
func parseHeader(h string) (start, count int, err error) {
	f := strings.Fields(h)
	if len(f) < 4 || f[0] != "@@" || !strings.HasPrefix(f[1], "-") {
		return 0, 0, fmt.Errorf("bad hunk header %q", h)
	}
	s, c, found := strings.Cut(f[1][1:], ",")
	count = 1
	if found {
		if count, err = strconv.Atoi(c); err != nil {
			return 0, 0, err
		}
	}
	start, err = strconv.Atoi(s)
	return start, count, err
}
