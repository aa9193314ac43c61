package tests

import (
	"strings"
	"testing"
	"time"
)

// flood sends n requests from c and returns how each was answered.
func flood(t *testing.T, c *sipClient, n int, send func()) map[int]int {
	t.Helper()
	for i := 0; i < n; i++ {
		send()
	}
	codes := map[int]int{}
	for res := c.recv(5 * time.Second); res != nil; res = c.recv(time.Second) {
		codes[res.StatusCode]++
		if res.StatusCode == 503 && res.GetHeader("Retry-After") == nil {
			t.Fatalf("503 without Retry-After:\n%s", res)
		}
	}
	return codes
}

// A flood of REGISTERs or INVITEs from one address is answered 503 (with
// Retry-After) beyond its rate, while another address registers and calls
// as usual; the log says so once per source and method.
func TestFloodRateLimitedPerSource(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "rate_limit:\n  invite: {rate: 5, burst: 10}\n  register: {rate: 5, burst: 10}\n")
	s := startServer(t, "", "--dialplan", testDialplan, "--config", cfg)
	sink := newRTPPeer(t)
	for _, tr := range []string{"udp", "tcp"} {
		t.Run("REGISTER over "+tr, func(t *testing.T) {
			c := dialSIP(t, s, tr)
			codes := flood(t, c, 100, func() { c.sendRegister("1001", "", 600, "") })
			// The second transport finds the source's bucket (shared) drained.
			if codes[503] == 0 || codes[401]+codes[503] != 100 {
				t.Fatalf("REGISTER flood answered %v, want 401 then 503", codes)
			}
			dialSIPFrom(t, s, "udp", "127.0.0.2").login("1002", testUsers["1002"], 600, "")
		})
	}
	t.Run("INVITE", func(t *testing.T) {
		c := dialSIP(t, s, "udp")
		codes := flood(t, c, 100, func() {
			c.callID = randHex(8) + "@flood"
			c.startInvite("1001", "", "07010002000", sink.port())
		})
		if codes[503] == 0 || codes[407] == 0 {
			t.Fatalf("INVITE flood answered %v, want 407 then 503", codes)
		}
		for code := range codes {
			if code != 100 && code != 407 && code != 503 {
				t.Fatalf("INVITE flood answered %v", codes)
			}
		}
		other := dialSIPFrom(t, s, "udp", "127.0.0.2")
		cl, res := other.answered("07010002000", sink.port())
		cl.bye(res)
	})
	logs := s.logs()
	for _, method := range []string{"REGISTER", "INVITE"} {
		n := 0
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, `msg="request rate limited"`) && strings.Contains(line, "method="+method) {
				if !strings.Contains(line, "source=127.0.0.1 ") {
					t.Fatalf("another source was limited: %s", line)
				}
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s limit logged %d times, want once", method, n)
		}
	}
}

// A carrier (a trunk, recognised by its address) sends many calls from one
// address: it is not rate-limited, while another address sending the same
// is.
func TestCarrierNotRateLimited(t *testing.T) {
	t.Parallel()
	sink := newUDPSink(t, carrierIP)
	cfg := writeConfig(t, "rate_limit:\n  invite: {rate: 1, burst: 2}\ntrunks:\n"+
		trunkYAML("carrier", carrierIP, sink.port(), "options_interval: -1\nfrom_addresses: [\""+carrierIP+"/32\"]"))
	s := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	media := newRTPPeer(t)
	calls := func(c *sipClient) map[int]int {
		return flood(t, c, 20, func() {
			c.callID = randHex(8) + "@carrier"
			c.startInvite("+15551234567", "", "5559999", media.port()) // no such DID: 404
		})
	}
	codes := calls(dialSIPFrom(t, s, "udp", carrierIP))
	if codes[404] == 0 || codes[503] > 0 {
		t.Fatalf("the carrier's calls were answered %v, want 404 (no such DID) and never 503", codes)
	}
	if codes = calls(dialSIPFrom(t, s, "udp", otherIP)); codes[503] == 0 {
		t.Fatalf("calls from an address that is no carrier's answered %v, want 503 beyond the limit", codes)
	}
}
