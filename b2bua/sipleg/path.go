package sipleg

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// splitPath splits a Path (RFC 3327) as a binding keeps it (header values
// joined by ", ") into its name-addr entries, "<sip:...>" each: commas
// inside angle brackets or quotes do not split.
func splitPath(path string) []string {
	var (
		out   []string
		depth int
		quote bool
		start int
	)
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case quote:
			if c == '\\' {
				i++
			} else if c == '"' {
				quote = false
			}
		case c == '"':
			quote = true
		case c == '<':
			depth++
		case c == '>':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth == 0:
			if v := strings.TrimSpace(path[start:i]); v != "" {
				out = append(out, v)
			}
			start = i + 1
		}
	}
	if v := strings.TrimSpace(path[start:]); v != "" {
		out = append(out, v)
	}
	return out
}

// firstHop is where a request through route set routes goes: the first
// entry's host:port and transport (udp unless it names another).
func firstHop(routes []string) (dest, transport string, ok bool) {
	if len(routes) == 0 {
		return "", "", false
	}
	v := routes[0]
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return "", "", false
		}
		v = v[i+1 : i+j]
	}
	var u sip.Uri
	if err := sip.ParseUri(v, &u); err != nil || u.Host == "" {
		return "", "", false
	}
	if strings.Contains(u.Host, ":") && !strings.HasPrefix(u.Host, "[") {
		u.Host = "[" + u.Host + "]"
	}
	dest, transport = uriHop(u)
	return dest, transport, true
}

// uriHop is where a request to u goes (host:port, the transport's default
// port when u names none) and over which transport (udp unless u's
// transport parameter names another).
func uriHop(u sip.Uri) (dest, transport string) {
	transport = "udp"
	if u.UriParams != nil {
		if t, ok := u.UriParams.Get("transport"); ok && t != "" {
			transport = strings.ToLower(t)
		}
	}
	port := u.Port
	if port == 0 {
		port = sip.DefaultPort(transport)
	}
	return u.Host + ":" + strconv.Itoa(port), transport
}
