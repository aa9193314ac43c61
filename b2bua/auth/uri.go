package auth

import (
	"fmt"
	"net/url"
	"strings"
)

// matchURI checks that a digest uri names the request it signs (RFC 3261
// §22.4, RFC 7616 §3.4.6): a sip or sips URI whose host is the
// Request-URI's host and whose user part, when it has one, is the
// Request-URI's user. Ports and parameters are not compared, and a uri
// without a user is accepted, because real clients differ there: sipp signs
// `sip:host:port` whatever it calls, baresip, JsSIP and SIP.js sign the
// Request-URI itself. What this refuses is the replay of credentials made
// for one destination (`sip:07010002000@host`) on a request to another.
func matchURI(uri, reqUser, reqHost string) error {
	user, host, ok := splitSIPURI(uri)
	if !ok {
		return fmt.Errorf("%w: %q is not a sip uri", ErrURI, clip(uri))
	}
	if !strings.EqualFold(trimBrackets(host), trimBrackets(reqHost)) {
		return fmt.Errorf("%w: host %q, request-uri host %q", ErrURI, clip(host), clip(reqHost))
	}
	if user != "" && unescape(user) != unescape(reqUser) {
		return fmt.Errorf("%w: user %q, request-uri user %q", ErrURI, clip(user), clip(reqUser))
	}
	return nil
}

// splitSIPURI returns the user (without password) and host (without port)
// of a sip: or sips: URI.
func splitSIPURI(uri string) (user, host string, ok bool) {
	scheme, rest, found := strings.Cut(uri, ":")
	if !found || !strings.EqualFold(scheme, "sip") && !strings.EqualFold(scheme, "sips") {
		return "", "", false
	}
	// The user part may hold ';', '?' and '/' (RFC 3261 user-unreserved),
	// the host part cannot hold '@'.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, _, _ = strings.Cut(rest[:at], ":")
		rest = rest[at+1:]
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	host = rest
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", "", false
		}
		host = host[:end+1]
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return user, host, host != ""
}

func trimBrackets(h string) string {
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// unescape undoes %HH escapes; a malformed escape is compared as written.
func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
