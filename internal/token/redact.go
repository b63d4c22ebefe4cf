package token

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// redactPrefix is how much of a token Redact shows: enough to recognise a
// JWT header ("eyJhbGciOi" is {"alg":), never a claim or the signature.
const redactPrefix = 10

// Redact gives a safe display form of a token, such as
// "eyJhbGciOi…(1043 chars, sha256:3f2a9c1b)": a short prefix, the length and
// a short hash, so that two tokens can be told apart without showing either.
func Redact(raw string) string {
	if raw == "" {
		return "(empty)"
	}
	sum := sha256.Sum256([]byte(raw))
	prefix := raw
	if len(prefix) > redactPrefix {
		prefix = prefix[:redactPrefix]
	}
	// The prefix must not run into the claims when the header is tiny.
	if i := strings.IndexByte(prefix, '.'); i >= 0 {
		prefix = prefix[:i]
	}
	return fmt.Sprintf("%s…(%d chars, sha256:%s)", prefix, len(raw), hex.EncodeToString(sum[:4]))
}

// String describes the token by its header, issuer, subject and redacted
// form; it never contains the signature.
func (t Token) String() string {
	return fmt.Sprintf("token{alg=%s kid=%s iss=%s sub=%s %s}",
		t.Header.Alg, t.Header.Kid, t.Claims.Issuer, t.Claims.Subject, t.Redacted())
}

// GoString keeps %#v as safe as %v.
func (t Token) GoString() string { return "token." + t.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x ...) print the safe
// String form instead of the struct's fields.
func (t Token) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, t.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", t.String())
	default:
		fmt.Fprint(f, t.String())
	}
}
