package auth

import (
	"fmt"
	"strconv"
	"strings"
)

// Credentials are the parameters of an Authorization or
// Proxy-Authorization header with the Digest scheme.
type Credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string // "MD5" when absent
	Cnonce    string
	QOP       string
	NC        uint32 // nonce count, 0 when absent
	NCText    string // nc exactly as sent: the response hashes these characters
	Opaque    string
}

// maxHeader bounds the header we are willing to parse.
const maxHeader = 4096

// ParseCredentials parses a Digest credentials header value, e.g.
// `Digest username="1001", realm="softswitch", nonce="…", uri="sip:x", response="…"`.
func ParseCredentials(v string) (Credentials, error) {
	var c Credentials
	if len(v) > maxHeader {
		return c, fmt.Errorf("%w: header too long", ErrMalformed)
	}
	v = strings.TrimSpace(v)
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return c, fmt.Errorf("%w: scheme %q is not Digest", ErrMalformed, scheme)
	}
	var ncErr error
	err := parseParams(rest, func(k, val string) {
		switch k {
		case "username":
			c.Username = val
		case "realm":
			c.Realm = val
		case "nonce":
			c.Nonce = val
		case "uri":
			c.URI = val
		case "response":
			c.Response = strings.ToLower(val)
		case "algorithm":
			c.Algorithm = val
		case "cnonce":
			c.Cnonce = val
		case "qop":
			c.QOP = val
		case "opaque":
			c.Opaque = val
		case "nc":
			n, err := strconv.ParseUint(val, 16, 32)
			if err != nil && ncErr == nil {
				ncErr = fmt.Errorf("%w: nc %q", ErrMalformed, val)
			}
			c.NC = uint32(n)
			c.NCText = val
		}
	})
	if err != nil {
		return c, err
	}
	if ncErr != nil {
		return c, ncErr
	}
	if c.Algorithm == "" {
		c.Algorithm = MD5
	}
	if c.Username == "" || c.Nonce == "" || c.Response == "" || c.URI == "" {
		return c, fmt.Errorf("%w: username, nonce, uri and response are required", ErrMalformed)
	}
	if c.QOP != "" && (c.Cnonce == "" || c.NC == 0) {
		return c, fmt.Errorf("%w: qop without cnonce or nc", ErrMalformed)
	}
	return c, nil
}

// ChallengeRealm returns the realm of a Digest challenge (the value of a
// WWW-Authenticate or Proxy-Authenticate header).
func ChallengeRealm(v string) (string, error) {
	if len(v) > maxHeader {
		return "", fmt.Errorf("%w: header too long", ErrMalformed)
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return "", fmt.Errorf("%w: scheme %q is not Digest", ErrMalformed, scheme)
	}
	realm, ok := "", false
	err := parseParams(rest, func(k, val string) {
		if k == "realm" {
			realm, ok = val, true
		}
	})
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: challenge without realm", ErrMalformed)
	}
	return realm, nil
}

// parseParams calls f with each parameter of `k=v, k="quoted \" v"`, its
// key in lower case; a key given twice is an error. A quoted value without
// escapes is a substring of s: nothing is copied (issue 20).
func parseParams(s string, f func(key, val string)) error {
	keys := make([]string, 0, 16) // on the stack for the usual handful
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',' || s[i] == '\r' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return fmt.Errorf("%w: parameter without value near %q", ErrMalformed, clip(s[i:]))
		}
		key := strings.ToLower(strings.TrimSpace(s[i : i+eq]))
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val string
		if i < len(s) && s[i] == '"' {
			var ok bool
			val, i, ok = quoted(s, i+1)
			if !ok {
				return fmt.Errorf("%w: unterminated quoted value for %q", ErrMalformed, key)
			}
		} else {
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			val = strings.TrimSpace(s[i : i+end])
			i += end
		}
		for _, k := range keys {
			if k == key {
				return fmt.Errorf("%w: duplicate parameter %q", ErrMalformed, key)
			}
		}
		keys = append(keys, key)
		f(key, val)
	}
	return nil
}

// quoted reads a quoted string's content from s[i:] (after the opening
// quote) up to its closing quote, undoing backslash escapes; it returns
// the value, the index after the closing quote, and false when unclosed.
func quoted(s string, i int) (string, int, bool) {
	start := i
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i < len(s) && s[i] == '"' {
		return s[start:i], i + 1, true // no escapes: a substring
	}
	var b strings.Builder
	b.WriteString(s[start:i])
	for i < len(s) {
		ch := s[i]
		if ch == '\\' && i+1 < len(s) {
			b.WriteByte(s[i+1])
			i += 2
			continue
		}
		if ch == '"' {
			return b.String(), i + 1, true
		}
		b.WriteByte(ch)
		i++
	}
	return "", i, false
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}
