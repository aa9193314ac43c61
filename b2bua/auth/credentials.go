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
	params, err := parseParams(rest)
	if err != nil {
		return c, err
	}
	for k, val := range params {
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
			if err != nil {
				return c, fmt.Errorf("%w: nc %q", ErrMalformed, val)
			}
			c.NC = uint32(n)
			c.NCText = val
		}
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
	params, err := parseParams(rest)
	if err != nil {
		return "", err
	}
	realm, ok := params["realm"]
	if !ok {
		return "", fmt.Errorf("%w: challenge without realm", ErrMalformed)
	}
	return realm, nil
}

// parseParams splits `k=v, k="quoted \" v"` into a map with lower-case keys.
func parseParams(s string) (map[string]string, error) {
	out := make(map[string]string, 10)
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
			return nil, fmt.Errorf("%w: parameter without value near %q", ErrMalformed, clip(s[i:]))
		}
		key := strings.ToLower(strings.TrimSpace(s[i : i+eq]))
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val string
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				ch := s[i]
				if ch == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if ch == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(ch)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("%w: unterminated quoted value for %q", ErrMalformed, key)
			}
			val = b.String()
		} else {
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			val = strings.TrimSpace(s[i : i+end])
			i += end
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: duplicate parameter %q", ErrMalformed, key)
		}
		out[key] = val
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}
