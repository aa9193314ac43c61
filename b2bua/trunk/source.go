package trunk

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// source is one from_addresses entry: [transport:]ADDRESS[:port] or
// [transport:]CIDR. A zero port or an empty transport matches any.
type source struct {
	prefix    netip.Prefix
	port      uint16
	transport string // "udp", "tcp" or "tls"; "" for any
}

// matches tells whether a request from src over transport is from s.
func (s *source) matches(transport string, src netip.AddrPort) bool {
	if !s.prefix.Contains(src.Addr()) {
		return false
	}
	if s.port != 0 && s.port != src.Port() {
		return false
	}
	return s.transport == "" || strings.EqualFold(s.transport, transport)
}

// parseSource parses "203.0.113.7", "203.0.113.0/28",
// "udp:203.0.113.5:5060", "tcp:198.51.100.0/24", "2001:db8::1",
// "[2001:db8::1]:5060" or "udp:[2001:db8::1]:5060".
func parseSource(entry string) (source, error) {
	s := strings.TrimSpace(entry)
	var src source
	if t, rest, ok := strings.Cut(s, ":"); ok {
		switch lt := strings.ToLower(t); lt {
		case "udp", "tcp", "tls":
			src.transport, s = lt, rest
		}
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return source{}, fmt.Errorf("CIDR %q: %w", s, err)
		}
		src.prefix = p.Masked()
		return src, nil
	}
	if a, err := netip.ParseAddr(s); err == nil { // a plain IPv4 or IPv6 address
		src.prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		return src, nil
	}
	host, port, ok := splitHostPort(s)
	if !ok {
		return source{}, fmt.Errorf("%q: want an IP address, ADDRESS:PORT or a CIDR", s)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return source{}, fmt.Errorf("address %q: %w", host, err)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return source{}, fmt.Errorf("port %q: want 1-65535", port)
	}
	src.prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
	src.port = uint16(n)
	return src, nil
}

// splitHostPort splits "1.2.3.4:5060" or "[2001:db8::1]:5060"; an
// unbracketed IPv6 address with a port is ambiguous and refused.
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		host, port, ok = strings.Cut(s[1:], "]:")
		return host, port, ok && strings.Count(host, ":") > 0
	}
	host, port, ok = strings.Cut(s, ":")
	return host, port, ok && !strings.Contains(port, ":")
}
