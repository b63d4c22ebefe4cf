package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Header is the decoded JOSE header of a token.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// Token is a parsed (not yet verified) ID token. The raw text is kept behind
// an unexported pointer so that neither fmt nor a careless log line can print
// the token or its signature; use Redacted for display.
type Token struct {
	Header Header
	Claims Claims

	sec *secret
}

// secret holds the parts of a token that must never be displayed. Keeping it
// behind a pointer makes fmt print only an address when a Token is nested in
// another value.
type secret struct {
	raw       string
	signature []byte
}

// Len is the length of the raw token in bytes (STS accepts 4 to 20000).
func (t *Token) Len() int {
	if t == nil || t.sec == nil {
		return 0
	}
	return len(t.sec.raw)
}

// Redacted is the safe display form of the token (see Redact).
func (t *Token) Redacted() string {
	if t == nil || t.sec == nil {
		return "(no token)"
	}
	return Redact(t.sec.raw)
}

// MalformedError says why a string is not a usable JWT and where: Offset is the
// byte offset in the raw token (0 when the problem concerns the whole token)
// and Part is 1 (header), 2 (claims) or 3 (signature), or 0 for the whole
// token. Reason never quotes more than a single character of the token.
type MalformedError struct {
	Reason string
	Offset int
	Part   int
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("malformed token at byte %d: %s", e.Offset, e.Reason)
}

var partNames = [4]string{"token", "header", "claims", "signature"}

func malformed(part, offset int, format string, args ...any) *MalformedError {
	return &MalformedError{Reason: fmt.Sprintf(format, args...), Offset: offset, Part: part}
}

// Parse splits raw into its three base64url parts and decodes the header and
// the claims. It checks the shape only; call Verify for the signature. Every
// failure is a *MalformedError that names the exact problem and position,
// because the usual causes (empty variable, quotes, line breaks, truncation)
// are fixed in different places.
func Parse(raw string) (*Token, error) {
	if err := checkText(raw); err != nil {
		return nil, err
	}
	parts := strings.Split(raw, ".")
	if err := checkPartCount(raw, parts); err != nil {
		return nil, err
	}
	offsets := [3]int{0, len(parts[0]) + 1, len(parts[0]) + len(parts[1]) + 2}
	var decoded [3][]byte
	for i, p := range parts {
		b, err := decodePart(i+1, offsets[i], p)
		if err != nil {
			return nil, err
		}
		decoded[i] = b
	}
	var h Header
	if err := decodeJSON(decoded[0], &h); err != nil {
		return nil, malformed(1, 0, "the header is not a valid JSON object: %v", err)
	}
	if h.Alg == "" {
		return nil, malformed(1, 0, "the header has no alg")
	}
	if len(decoded[2]) == 0 && h.Alg != "none" {
		return nil, malformed(3, offsets[2], "the signature is empty although alg is %s: the token was cut off after the second '.'", h.Alg)
	}
	var m map[string]any
	if err := decodeJSON(decoded[1], &m); err != nil {
		return nil, malformed(2, offsets[1], "the claims are not a valid JSON object: %v", err)
	}
	claims, err := claimsFromMap(m)
	if err != nil {
		return nil, malformed(2, offsets[1], "%v", err)
	}
	return &Token{Header: h, Claims: claims, sec: &secret{raw: raw, signature: decoded[2]}}, nil
}

// checkText finds problems visible in the text as a whole: emptiness, quotes
// and whitespace, which come from the CI variable or from copying.
func checkText(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return malformed(0, 0, "the token is empty: the job has no id_tokens: block, or the variable that should hold the token has another name")
	}
	if len(raw) >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[len(raw)-1] == raw[0] {
		return malformed(0, 0, "the token is wrapped in quotes (%c…%c): pass the bare value", raw[0], raw[0])
	}
	i := strings.IndexAny(raw, " \t\r\n")
	if i < 0 {
		return nil
	}
	what := map[byte]string{' ': "a space", '\t': "a tab", '\r': "a carriage return", '\n': "a newline"}[raw[i]]
	if strings.TrimSpace(raw[i:]) == "" {
		return malformed(0, i, "the token ends with %s (byte %d of %d): strip trailing whitespace, e.g. write it with printf '%%s' instead of echo", what, i, len(raw))
	}
	return malformed(0, i, "the token contains %s at byte %d of %d: it was wrapped or pasted in pieces", what, i, len(raw))
}

// checkPartCount explains a wrong number of dot-separated parts.
func checkPartCount(raw string, parts []string) error {
	switch n := len(parts); {
	case n == 3:
		return nil
	case n == 1:
		return malformed(0, 0, "the token has no '.': a JWT is three base64url parts, header.claims.signature")
	case n == 2:
		return malformed(0, len(raw), "the token has 2 parts, a JWT has 3: it was cut off (truncated)")
	case n == 5:
		return malformed(0, 0, "the token has 5 parts: that is an encrypted JWE, not a signed ID token")
	default:
		off := len(parts[0]) + len(parts[1]) + len(parts[2]) + 2
		return malformed(0, off, "the token has %d parts, a JWT has 3: the extra '.' is at byte %d", n, off)
	}
}

// decodePart decodes one base64url part, explaining the usual mistakes
// (standard base64, padding, truncation) with the absolute byte offset.
func decodePart(part, offset int, s string) ([]byte, error) {
	name := partNames[part]
	if s == "" && part < 3 {
		return nil, malformed(part, offset, "part %d (%s) is empty", part, name)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			continue
		case c == '+' || c == '/':
			return nil, malformed(part, offset+i, "part %d (%s) uses standard base64 (%q at byte %d); a JWT uses base64url ('-' and '_')", part, name, c, offset+i)
		case c == '=':
			return nil, malformed(part, offset+i, "part %d (%s) has '=' padding at byte %d; JWT parts are unpadded base64url", part, name, offset+i)
		default:
			return nil, malformed(part, offset+i, "part %d (%s) has %q at byte %d, which is not base64url", part, name, c, offset+i)
		}
	}
	if len(s)%4 == 1 {
		return nil, malformed(part, offset+len(s), "part %d (%s) is %d characters long, which no base64url text can be: it was cut off", part, name, len(s))
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		var ce base64.CorruptInputError
		at := offset
		if errors.As(err, &ce) {
			at += int(ce)
		}
		return nil, malformed(part, at, "part %d (%s) is not valid base64url at byte %d", part, name, at)
	}
	return b, nil
}

// decodeJSON decodes exactly one JSON object, keeping numbers as json.Number
// so that claims keep their exact text.
func decodeJSON(b []byte, v any) error {
	if len(b) == 0 || b[0] != '{' {
		return errors.New("it does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("%s at byte %d of the decoded JSON", se.Error(), se.Offset)
		}
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("extra data after the JSON object")
	}
	return nil
}
