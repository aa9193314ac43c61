// Package sourcekey says what one source of traffic is when it is counted
// (connections per source, request rates, authentication failures, log
// lines): an IPv4 address, or an IPv6 /64. One subscriber line gets a
// whole IPv6 prefix (RFC 6177: /48 to /64) and picks addresses in it at
// will, so counting IPv6 per address let one attacker be 2^64 sources.
package sourcekey

import (
	"net"
	"net/netip"
	"strings"
)

// Host is the host part of a host:port source address, or addr as it is
// when it has no port.
func Host(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// Of returns the unit host (an IP address, without port; brackets are
// allowed) is counted in: the address itself for IPv4, IPv4-mapped IPv6
// and ::1, its /64 for other IPv6 ("2001:db8:1:2::/64"), and host as it
// is when it is no IP address.
func Of(host string) string {
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	if a.Is4() || a.IsLoopback() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return host
	}
	return p.String()
}
