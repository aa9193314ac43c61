package sipleg

import (
	"net/netip"
	"testing"
)

// TestSignalAddr: the host a leg's SIP comes from, as RTP latching's hint;
// a name (a trunk's host) gives no hint.
func TestSignalAddr(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7:5060":       "203.0.113.7",
		"[::ffff:1.2.3.4]:5060":  "1.2.3.4",
		"[2001:db8::1]:5061":     "2001:db8::1",
		"carrier.example:5060":   "",
		"":                       "",
		"203.0.113.7":            "203.0.113.7",
		"not an address at all:": "",
	} {
		got := signalAddr(in)
		if want == "" {
			if got.IsValid() {
				t.Errorf("signalAddr(%q) = %v, want none", in, got)
			}
			continue
		}
		if got != netip.MustParseAddr(want) {
			t.Errorf("signalAddr(%q) = %v, want %s", in, got, want)
		}
	}
}
