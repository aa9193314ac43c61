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

// maxDigestInput bounds what digestHex hashes on the stack; longer input
// (a header is at most maxHeader) is hashed by hashHex.
const maxDigestInput = 512

// digestHex writes into dst the lower-case hex of alg's hash (MD5 or
// SHA-256, canonical spelling) over the parts joined by ':', and returns
// it; it allocates nothing for the usual sizes (issue 20).
func digestHex(dst *[2 * sha256.Size]byte, alg string, parts ...string) []byte {
	var buf [maxDigestInput]byte
	in := buf[:0]
	for i, p := range parts {
		if i > 0 {
			in = append(in, ':')
		}
		in = append(in, p...)
	}
	if len(in) > maxDigestInput {
		h := newHash(alg)
		return append(dst[:0], hashHex(h, parts...)...)
	}
	if alg == SHA256 {
		sum := sha256.Sum256(in)
		return dst[:hex.Encode(dst[:], sum[:])]
	}
	sum := md5.Sum(in)
	return dst[:hex.Encode(dst[:], sum[:])]
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
	alg, err := canonical(c.Algorithm)
	if err != nil {
		return "", err
	}
	var ha2, res [2 * sha256.Size]byte
	h2 := digestHex(&ha2, alg, method, c.URI)
	switch c.QOP {
	case "":
		return string(digestHex(&res, alg, ha1, c.Nonce, string(h2))), nil
	case "auth":
		nc := c.NCText
		if nc == "" {
			nc = fmt.Sprintf("%08x", c.NC)
		}
		return string(digestHex(&res, alg, ha1, c.Nonce, nc, c.Cnonce, c.QOP, string(h2))), nil
	}
	return "", fmt.Errorf("%w: %q", ErrQOP, c.QOP)
}

// equalHex compares two hex strings in constant time.
func equalHex(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
