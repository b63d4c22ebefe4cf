package policy

import (
	"fmt"
	"strings"
)

// Diff returns a readable line diff from a to b of their Marshal output:
// unchanged lines start with "  ", removed ones with "- ", added ones with
// "+ ". It returns "" when the rendered documents are identical. A nil
// document diffs as empty text. Setup shows it before it replaces a trust
// policy, so the user sees exactly which lines change.
func Diff(a, b *Document) string {
	la, lb := diffLines(a), diffLines(b)
	if strings.Join(la, "\n") == strings.Join(lb, "\n") {
		return ""
	}
	// lcs[i][j] is the length of the longest common subsequence of la[i:]
	// and lb[j:]. Policies are at most a few hundred lines, so the quadratic
	// table is small.
	lcs := make([][]int, len(la)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(lb)+1)
	}
	for i := len(la) - 1; i >= 0; i-- {
		for j := len(lb) - 1; j >= 0; j-- {
			if la[i] == lb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(la) || j < len(lb) {
		switch {
		case i < len(la) && j < len(lb) && la[i] == lb[j]:
			out.WriteString("  " + la[i] + "\n")
			i++
			j++
		case i < len(la) && (j == len(lb) || lcs[i+1][j] >= lcs[i][j+1]):
			out.WriteString("- " + la[i] + "\n")
			i++
		default:
			out.WriteString("+ " + lb[j] + "\n")
			j++
		}
	}
	return out.String()
}

func diffLines(d *Document) []string {
	if d == nil {
		return nil
	}
	data, err := Marshal(d)
	if err != nil {
		return []string{fmt.Sprintf("(cannot render policy: %v)", err)}
	}
	return strings.Split(string(data), "\n")
}
