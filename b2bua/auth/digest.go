package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Algorithm names as they appear in challenges (RFC 8760).
const (
	MD5    = "MD5"
	SHA256 = "SHA-256"
)

// newHash returns the hash for a digest algorithm name, or nil.
func newHash(alg string) hash.Hash {
	switch {
	case strings.EqualFold(alg, MD5):
		return md5.New()
	case strings.EqualFold(alg, SHA256):
		return sha256.New()
	}
	return nil
}

// canonical returns the canonical spelling of a supported algorithm.
func canonical(alg string) (string, error) {
	switch {
	case strings.EqualFold(alg, MD5):
		return MD5, nil
	case strings.EqualFold(alg, SHA256):
		return SHA256, nil
	}
	return "", fmt.Errorf("%w: %q", ErrAlgorithm, alg)
}

// hashHex hashes the parts joined by ':' and returns lower-case hex.
func hashHex(h hash.Hash, parts ...string) string {
	h.Reset()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HA1 computes H(username:realm:password) for alg (MD5 or SHA-256), the
// only form in which a password is ever stored.
func HA1(alg, username, realm, password string) (string, error) {
	h := newHash(alg)
	if h == nil {
		return "", fmt.Errorf("%w: %q", ErrAlgorithm, alg)
	}
	return hashHex(h, username, realm, password), nil
}

// Response computes the expected digest response (RFC 7616 §3.4.1) for a
// request method and the credentials' uri, nonce, qop, nc and cnonce.
func Response(c Credentials, method, ha1 string) (string, error) {
	h := newHash(c.Algorithm)
	if h == nil {
		return "", fmt.Errorf("%w: %q", ErrAlgorithm, c.Algorithm)
	}
	ha2 := hashHex(h, method, c.URI)
	switch c.QOP {
	case "":
		return hashHex(h, ha1, c.Nonce, ha2), nil
	case "auth":
		nc := c.NCText
		if nc == "" {
			nc = fmt.Sprintf("%08x", c.NC)
		}
		return hashHex(h, ha1, c.Nonce, nc, c.Cnonce, c.QOP, ha2), nil
	}
	return "", fmt.Errorf("%w: %q", ErrQOP, c.QOP)
}

// equalHex compares two hex strings in constant time.
func equalHex(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
