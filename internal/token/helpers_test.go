package token

import (
	"encoding/base64"
	"strings"
)

// b64 encodes s as an unpadded base64url JWT part.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// fakeSig is a 256-byte "signature" (the size of an RS256 signature with a
// 2048-bit key); Parse does not check it.
var fakeSig = b64(strings.Repeat("\x5a", 256))

const (
	rsHeader     = `{"alg":"RS256","kid":"k1","typ":"JWT"}`
	simpleClaims = `{"iss":"https://gitlab.com","sub":"project_path:acme/payments:ref_type:branch:ref:main","aud":"sts.amazonaws.com","exp":1700003600,"iat":1700000000,"nbf":1699999995}`
)

// compact joins a header and claims (JSON text) and a signature part.
func compact(header, claims, sig string) string {
	return b64(header) + "." + b64(claims) + "." + sig
}
