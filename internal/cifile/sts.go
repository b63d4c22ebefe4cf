package cifile

import (
	"regexp"
	"sort"
	"strings"
)

// STSCall is one `aws sts assume-role-with-web-identity` command found in a
// job's script. The *Expr fields keep the argument as written (quotes
// removed, variables unexpanded), "" when the option is absent.
type STSCall struct {
	Line string
	// TokenVar is the variable passed as --web-identity-token ($X, ${X},
	// "$X"); "" when the token comes from elsewhere (see TokenFile).
	TokenVar string
	// TokenFile is the file read for the token ("$(cat FILE)", `cat FILE`,
	// file://FILE).
	TokenFile       string
	TokenExpr       string
	RoleARNExpr     string
	SessionNameExpr string
	DurationExpr    string
	// ProviderIDSet is true when --provider-id is passed, which STS
	// forbids for OpenID Connect tokens.
	ProviderIDSet bool
}

// TokenFileWrite is a script line that writes a variable into a file, as
// the native SDK style does for AWS_WEB_IDENTITY_TOKEN_FILE.
type TokenFileWrite struct {
	Line     string
	TokenVar string
	Path     string
}

var (
	varRef      = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)
	catFile     = regexp.MustCompile("^(?:\\$\\(\\s*cat\\s+(.+?)\\s*\\)|`\\s*cat\\s+(.+?)\\s*`)$")
	fileWrite   = regexp.MustCompile(`\b(?:echo|printf)\b.*\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?["']?\s*>\s*(\S+)`)
	exportLine  = regexp.MustCompile(`^export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
	legacyJWT   = regexp.MustCompile(`\$\{?(CI_JOB_JWT(?:_V1|_V2|_FILE)?)\b`)
	legacyNames = []string{"CI_JOB_JWT", "CI_JOB_JWT_V1", "CI_JOB_JWT_V2", "CI_JOB_JWT_FILE"}
)

// analyze fills the job's STS calls, token file writes, exports and legacy
// JWT use from its scripts and variables.
func analyze(j *Job) {
	legacy := map[string]bool{}
	for _, line := range j.Scripts {
		if i := strings.Index(line, "assume-role-with-web-identity"); i >= 0 {
			j.STSCalls = append(j.STSCalls, parseSTSCall(line, line[i+len("assume-role-with-web-identity"):]))
		}
		if m := fileWrite.FindStringSubmatch(line); m != nil {
			j.TokenFileWrites = append(j.TokenFileWrites, TokenFileWrite{Line: line, TokenVar: m[1], Path: unquote(m[2])})
		}
		if m := exportLine.FindStringSubmatch(line); m != nil {
			j.Exports[m[1]] = unquote(strings.TrimSpace(m[2]))
		}
		for _, m := range legacyJWT.FindAllStringSubmatch(line, -1) {
			legacy[m[1]] = true
		}
	}
	for k, v := range j.Variables {
		for _, m := range legacyJWT.FindAllStringSubmatch(v, -1) {
			legacy[m[1]] = true
		}
		for _, n := range legacyNames {
			if k == n {
				legacy[n] = true // the job defines it itself: still the old name
			}
		}
	}
	for n := range legacy {
		j.LegacyJWTVars = append(j.LegacyJWTVars, n)
	}
	sort.Strings(j.LegacyJWTVars)
	j.UsesLegacyJWT = len(j.LegacyJWTVars) > 0
}

// parseSTSCall reads the options after assume-role-with-web-identity.
func parseSTSCall(line, args string) STSCall {
	c := STSCall{Line: line}
	words := shellWords(args)
	for i := 0; i < len(words); i++ {
		name, value, inline := strings.Cut(words[i], "=")
		if !strings.HasPrefix(name, "--") {
			continue
		}
		if !inline && name != "--provider-id" && i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
			value = words[i+1]
			i++
		}
		switch name {
		case "--role-arn":
			c.RoleARNExpr = value
		case "--role-session-name":
			c.SessionNameExpr = value
		case "--duration-seconds":
			c.DurationExpr = value
		case "--provider-id":
			c.ProviderIDSet = true
		case "--web-identity-token":
			c.TokenExpr = value
			c.TokenVar, c.TokenFile = tokenSource(value)
		}
	}
	return c
}

// tokenSource says where a --web-identity-token value comes from.
func tokenSource(v string) (variable, file string) {
	if m := varRef.FindStringSubmatch(v); m != nil {
		return m[1], ""
	}
	if m := catFile.FindStringSubmatch(v); m != nil {
		return "", unquote(m[1] + m[2])
	}
	if f, ok := strings.CutPrefix(v, "file://"); ok {
		return "", f
	}
	return "", ""
}

// shellWords splits a command line into words the way a shell would before
// expansion: quotes group and are removed, $(...) and `...` stay whole, and
// an unbalanced ")" or a ; | & ends the command.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\'' || ch == '"':
			end := strings.IndexByte(s[i+1:], ch)
			if end < 0 {
				end = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case ch == '$' && i+1 < len(s) && s[i+1] == '(':
			end := matchParen(s, i+1)
			cur.WriteString(s[i : end+1])
			inWord = true
			i = end
		case ch == '`':
			end := strings.IndexByte(s[i+1:], '`')
			if end < 0 {
				cur.WriteString(s[i:])
				inWord = true
				i = len(s)
				continue
			}
			cur.WriteString(s[i : i+2+end])
			inWord = true
			i += end + 1
		case ch == ' ' || ch == '\t':
			flush()
		case ch == ')' || ch == ';' || ch == '|' || ch == '&':
			flush()
			return words
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	flush()
	return words
}

// matchParen returns the index of the ")" closing the "(" at open, or the
// last index when it is unbalanced.
func matchParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(s) - 1
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return strings.Trim(s, `"'`)
}
