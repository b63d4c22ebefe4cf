package token

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrKeyNotFound is matched (errors.Is) when the token's kid is not in the
// issuer's JWK set: the key was rotated, or the token comes from another
// GitLab instance.
var ErrKeyNotFound = errors.New("signing key not found in the issuer's JWK set")

// ErrSignatureInvalid is matched (errors.Is) when no key of the set verifies
// the signature, or the algorithm is one STS refuses: the token was altered or
// cut when copied.
var ErrSignatureInvalid = errors.New("signature does not verify")

// stsAlgorithms are the algorithms AssumeRoleWithWebIdentity accepts.
var stsAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512,
}

// KeyNotFoundError reports a kid missing from a JWK set together with the
// kids that are present, so that a rotated key is easy to recognise.
type KeyNotFoundError struct {
	Kid       string
	Available []string
}

func (e *KeyNotFoundError) Error() string {
	have := "the set is empty"
	if len(e.Available) > 0 {
		have = "the set has " + strings.Join(e.Available, ", ")
	}
	if e.Kid == "" {
		return fmt.Sprintf("%v: the token has no kid and no key matches (%s)", ErrKeyNotFound, have)
	}
	return fmt.Sprintf("%v: kid %s is not in the set (%s)", ErrKeyNotFound, e.Kid, have)
}

// Is makes errors.Is(err, ErrKeyNotFound) true.
func (e *KeyNotFoundError) Is(target error) bool { return target == ErrKeyNotFound }

// KeyIDs lists the kids of a JWK set in order, for messages and reports.
func KeyIDs(set *jose.JSONWebKeySet) []string {
	if set == nil {
		return nil
	}
	ids := make([]string, 0, len(set.Keys))
	for _, k := range set.Keys {
		ids = append(ids, k.KeyID)
	}
	return ids
}

// Verify checks the signature with the key of set whose kid matches the
// token's (every key when the token has no kid), accepting only the
// algorithms STS accepts. It returns nil, an error matching ErrKeyNotFound,
// or one matching ErrSignatureInvalid whose text says why.
func (t *Token) Verify(set *jose.JSONWebKeySet) error {
	if t == nil || t.sec == nil {
		return errors.New("verify: no token (use Parse)")
	}
	alg := jose.SignatureAlgorithm(t.Header.Alg)
	if !slices.Contains(stsAlgorithms, alg) {
		return fmt.Errorf("%w: alg %q is not accepted by STS (only RS256/384/512 and ES256/384/512)", ErrSignatureInvalid, t.Header.Alg)
	}
	keys := candidateKeys(set, t.Header.Kid)
	if len(keys) == 0 {
		return &KeyNotFoundError{Kid: t.Header.Kid, Available: KeyIDs(set)}
	}
	jws, err := jose.ParseSignedCompact(t.sec.raw, stsAlgorithms)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	var reasons []string
	for _, k := range keys {
		pub := k.Public()
		if why := mismatch(pub, alg, len(t.sec.signature)); why != "" {
			reasons = append(reasons, why)
			continue
		}
		if _, err := jws.Verify(pub.Key); err == nil {
			return nil
		}
		reasons = append(reasons, fmt.Sprintf("key %s does not verify it: the token was altered, or cut when copied", pub.KeyID))
	}
	return fmt.Errorf("%w: %s", ErrSignatureInvalid, strings.Join(reasons, "; "))
}

// candidateKeys picks the keys to try: those with the token's kid, or every
// key when the token names none.
func candidateKeys(set *jose.JSONWebKeySet, kid string) []jose.JSONWebKey {
	if set == nil {
		return nil
	}
	if kid == "" {
		return set.Keys
	}
	return set.Key(kid)
}

// mismatch explains why key cannot verify a signature of sigLen bytes made
// with alg, or returns "". It turns "does not verify" into a precise cause
// for the two common cases: a truncated signature and a key of another type.
func mismatch(key jose.JSONWebKey, alg jose.SignatureAlgorithm, sigLen int) string {
	switch k := key.Key.(type) {
	case *rsa.PublicKey:
		if !strings.HasPrefix(string(alg), "RS") {
			return fmt.Sprintf("key %s is RSA but the token says alg %s", key.KeyID, alg)
		}
		if want := k.Size(); sigLen != want {
			return fmt.Sprintf("the signature is %d bytes but key %s makes %d-byte signatures: the token was probably cut off", sigLen, key.KeyID, want)
		}
	case *ecdsa.PublicKey:
		if !strings.HasPrefix(string(alg), "ES") {
			return fmt.Sprintf("key %s is EC but the token says alg %s", key.KeyID, alg)
		}
	case nil:
		return fmt.Sprintf("key %s has no usable public key", key.KeyID)
	}
	return ""
}
