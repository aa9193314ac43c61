package trunk

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in        string
		prefix    string
		port      uint16
		transport string
	}{
		{"203.0.113.7", "203.0.113.7/32", 0, ""},
		{" 198.51.100.9/28 ", "198.51.100.0/28", 0, ""},
		{"::ffff:203.0.113.7", "203.0.113.7/32", 0, ""},
		{"2001:db8::1", "2001:db8::1/128", 0, ""},
		{"2001:db8::/32", "2001:db8::/32", 0, ""},
		{"203.0.113.5:5060", "203.0.113.5/32", 5060, ""},
		{"udp:203.0.113.5:5060", "203.0.113.5/32", 5060, "udp"},
		{"TCP:203.0.113.5", "203.0.113.5/32", 0, "tcp"},
		{"tls:198.51.100.0/24", "198.51.100.0/24", 0, "tls"},
		{"udp:[2001:db8::1]:5060", "2001:db8::1/128", 5060, "udp"},
		{"[2001:db8::1]:5061", "2001:db8::1/128", 5061, ""},
		{"udp:2001:db8::1", "2001:db8::1/128", 0, "udp"},
	} {
		got, err := parseSource(tc.in)
		if err != nil {
			t.Errorf("parseSource(%q): %v", tc.in, err)
			continue
		}
		want := source{netip.MustParsePrefix(tc.prefix), tc.port, tc.transport}
		if got != want {
			t.Errorf("parseSource(%q) = %+v; want %+v", tc.in, got, want)
		}
	}
	for _, in := range []string{"", "udp:", "ws:203.0.113.5:5060", "sctp:203.0.113.5", "203.0.113.5:0",
		"203.0.113.5:65536", "203.0.113.5:x", "host.example:5060", "10.0.0.0/33", "udp:10.0.0.0/8:5060",
		"[2001:db8::1]", "[2001:db8::1]:", "[203.0.113.5]:5060", "203.0.113.5:5060:1", "udp:udp:203.0.113.5"} {
		if s, err := parseSource(in); err == nil {
			t.Errorf("parseSource(%q) = %+v; want an error", in, s)
		}
	}
}

func TestSourceMatches(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, tc := range []struct {
		entry     string
		transport string
		src       string
		want      bool
	}{
		{"203.0.113.5", "UDP", "203.0.113.5:5070", true},
		{"203.0.113.5", "TCP", "203.0.113.6:5060", false},
		{"udp:203.0.113.5:5060", "UDP", "203.0.113.5:5060", true},
		{"udp:203.0.113.5:5060", "udp", "203.0.113.5:5060", true},
		{"udp:203.0.113.5:5060", "TCP", "203.0.113.5:5060", false},
		{"udp:203.0.113.5:5060", "UDP", "203.0.113.5:5061", false},
		{"203.0.113.5:5060", "TLS", "203.0.113.5:5060", true},
		{"tcp:198.51.100.0/24", "TCP", "198.51.100.77:40000", true},
		{"tcp:198.51.100.0/24", "UDP", "198.51.100.77:5060", false},
		{"udp:[2001:db8::1]:5060", "UDP", "[2001:db8::1]:5060", true},
		{"udp:[2001:db8::1]:5060", "UDP", "[2001:db8::1]:5062", false},
	} {
		s, err := parseSource(tc.entry)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.matches(tc.transport, ap(tc.src)); got != tc.want {
			t.Errorf("%s matches %s %s = %v; want %v", tc.entry, tc.transport, tc.src, got, tc.want)
		}
	}
}

func TestIdentifyPortAndTransport(t *testing.T) {
	s := newTestSet(t)
	cfgs := []Config{
		{Name: "a", Host: "127.0.0.2", OptionsInterval: -1, FromAddresses: []string{"udp:203.0.113.5:5060"}},
		{Name: "b", Host: "127.0.0.3", OptionsInterval: -1, FromAddresses: []string{"tcp:203.0.113.0/24"}},
	}
	if _, err := s.Apply(cfgs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		transport, src, want string
	}{
		{"UDP", "203.0.113.5:5060", "a"},
		{"UDP", "[::ffff:203.0.113.5]:5060", "a"},
		{"UDP", "203.0.113.5:5062", ""},
		{"TCP", "203.0.113.5:5060", "b"},
		{"TLS", "203.0.113.5:5060", ""},
		{"UDP", "127.0.0.2:1234", "a"}, // the host's own address: any port and transport
	} {
		got, _ := s.Identify(tc.transport, netip.MustParseAddrPort(tc.src))
		if got != tc.want {
			t.Errorf("Identify(%s, %s) = %q; want %q", tc.transport, tc.src, got, tc.want)
		}
	}
	if !s.FromCarrier(netip.MustParseAddr("203.0.113.5")) || s.FromCarrier(netip.MustParseAddr("192.0.2.1")) {
		t.Error("FromCarrier does not go by address alone")
	}
	src := netip.MustParseAddrPort("203.0.113.9:5060")
	if n := testing.AllocsPerRun(100, func() { s.Identify("UDP", src) }); n != 0 {
		t.Errorf("Identify allocates %.0f times", n)
	}
}

func TestFromAddressesErrorNamesEntry(t *testing.T) {
	c := Config{Name: "carrier", Host: "h", FromAddresses: []string{"203.0.113.5", "udp:203.0.113.5:99999"}}
	err := c.Normalize()
	if err == nil || !strings.Contains(err.Error(), "trunk carrier") || !strings.Contains(err.Error(), "udp:203.0.113.5:99999") {
		t.Errorf("Normalize: %v; want an error naming the trunk and the entry", err)
	}
}
