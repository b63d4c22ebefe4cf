// Package textdiff renders line-based unified diffs, the form setup uses to
// show exactly how it would change a file before it asks for permission. It
// is pure: no I/O, deterministic output.
package textdiff

import (
	"fmt"
	"strings"
)

// opKind says what a diff line does.
type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

// op is one line of an edit script with its 0-based positions in a and b.
type op struct {
	kind opKind
	a, b int // index of the line in a (equal/delete) and b (equal/insert)
}

// Unified returns a unified diff of a and b with the given number of context
// lines around each change, headed by "--- aName" and "+++ bName". It returns
// "" when the texts are equal. A final line without a newline is marked with
// "\ No newline at end of file" as diff(1) does, so that adding or dropping a
// trailing newline is visible.
func Unified(aName, bName, a, b string, context int) string {
	if a == b {
		return ""
	}
	if context < 0 {
		context = 0
	}
	al, bl := splitLines(a), splitLines(b)
	ops := editScript(al, bl)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops, context) {
		writeHunk(&sb, h, al, bl)
	}
	return sb.String()
}

// splitLines splits s after each newline, keeping the newline, so that a
// missing final newline is a difference of its own.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// editScript computes a shortest edit script from a to b with Myers' O(ND)
// algorithm, so large files with small changes stay cheap.
func editScript(a, b []string) []op {
	n, m := len(a), len(b)
	maxD := n + m
	offset := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		snapshot := make([]int, len(v))
		copy(snapshot, v)
		trace = append(trace, snapshot)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			} else {
				x = v[offset+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[offset+k] = x
			if x >= n && y >= m {
				return backtrack(trace, a, b, d, offset)
			}
		}
	}
	return nil // unreachable: d == n+m always reaches the end
}

// backtrack walks the saved frontiers from the end back to the start and
// returns the edit script in forward order.
func backtrack(trace [][]int, a, b []string, d, offset int) []op {
	x, y := len(a), len(b)
	var rev []op
	for ; d > 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[offset+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, op{kind: opEqual, a: x, b: y})
		}
		if x == prevX {
			y--
			rev = append(rev, op{kind: opInsert, a: x, b: y})
		} else {
			x--
			rev = append(rev, op{kind: opDelete, a: x, b: y})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, op{kind: opEqual, a: x, b: y})
	}
	ops := make([]op, len(rev))
	for i, o := range rev {
		ops[len(rev)-1-i] = o
	}
	return ops
}

// hunk is a run of ops: changes plus their surrounding context.
type hunk []op

// hunks groups changes that are at most 2*context equal lines apart.
func hunks(ops []op, context int) []hunk {
	var out []hunk
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == opEqual {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(0, i-context)
		end := i
		for end < len(ops) {
			if ops[end].kind != opEqual {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == opEqual {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(run, end+context)
				break
			}
			end = run
		}
		out = append(out, hunk(ops[start:end]))
		i = end
	}
	return out
}

// writeHunk writes the @@ header and the lines of one hunk.
func writeHunk(sb *strings.Builder, h hunk, a, b []string) {
	aStart, bStart := h[0].a, h[0].b
	var aCount, bCount int
	for _, o := range h {
		if o.kind != opInsert {
			aCount++
		}
		if o.kind != opDelete {
			bCount++
		}
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", rangeSpec(aStart, aCount), rangeSpec(bStart, bCount))
	for _, o := range h {
		var line string
		if o.kind == opDelete {
			line = a[o.a]
		} else {
			line = b[o.b]
		}
		sb.WriteByte(byte(o.kind))
		sb.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// rangeSpec formats a hunk range as diff(1) does: "start,count", with the
// count left out when it is 1 and the start pointing before the range when it
// is empty.
func rangeSpec(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	default:
		return fmt.Sprintf("%d,%d", start+1, count)
	}
}
