package ui

import (
	"strings"
)

// highlightJSON colours indented JSON line by line: keys, strings and
// punctuation. It is a display aid only, so it never fails: anything it does
// not recognise is left as it is.
func highlightJSON(st *styles, doc string) string {
	lines := strings.Split(strings.TrimRight(doc, "\n"), "\n")
	for i, line := range lines {
		lines[i] = highlightJSONLine(st, line)
	}
	return strings.Join(lines, "\n")
}

func highlightJSONLine(st *styles, line string) string {
	var b strings.Builder
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				if rs[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(rs)-1)
			tok := string(rs[i : j+1])
			rest := strings.TrimLeft(string(rs[j+1:]), " ")
			if strings.HasPrefix(rest, ":") {
				b.WriteString(st.jsonKey.Render(tok))
			} else {
				b.WriteString(st.jsonString.Render(tok))
			}
			i = j
		case strings.ContainsRune("{}[],:", c):
			b.WriteString(st.jsonPunct.Render(string(c)))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// highlightDiff colours a unified diff: additions, removals and hunk
// headers. The +/- prefixes stay, so it reads without colour.
func highlightDiff(st *styles, diff string) string {
	lines := strings.Split(strings.TrimRight(diff, "\n"), "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "@@"):
			lines[i] = st.diffHunk.Render(l)
		case strings.HasPrefix(l, "+"):
			lines[i] = st.diffAdd.Render(l)
		case strings.HasPrefix(l, "-"):
			lines[i] = st.diffDel.Render(l)
		}
	}
	return strings.Join(lines, "\n")
}
