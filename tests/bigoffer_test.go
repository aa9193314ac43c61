package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// bigOffer is an offer with one usable audio line followed by n more
// m-lines, each listing formats payload types.
func bigOffer(port, n, formats int) string {
	var b strings.Builder
	b.WriteString(offer(port))
	pts := make([]string, formats)
	for i := range pts {
		pts[i] = fmt.Sprint(96 + i%32)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", port+2+2*i, strings.Join(pts, " "))
	}
	return b.String()
}

// An offer whose answer no UDP datagram carries gets a final 488 with a
// Warning at once, instead of a 200 that sipgo never sends: 200 m-lines
// (refused as such), and 16 whose answer (one line per offered m-line)
// would still be too large.
func TestOversizedOfferOverUDP(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	for _, tc := range []struct {
		name           string
		lines, formats int
		warn           string
	}{
		{"200 m-lines", 199, 1, "m-lines"},
		{"answer too large for UDP", 15, 40, "too large for UDP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rtp := newRTPPeer(t)
			c := dialSIP(t, s, "udp")
			cl := &call{c: c, user: "1001", dest: "07010002000", body: bigOffer(rtp.port(), tc.lines, tc.formats)}
			start := time.Now()
			cl.send("1001")
			res := cl.next()
			if res.StatusCode != 407 {
				t.Fatalf("INVITE answered %d, want a 407 challenge first", res.StatusCode)
			}
			cl.ack(res)
			cl.authorize(res, testUsers["1001"])
			cl.send("1001")
			res = cl.finalResponse()
			cl.ack(res)
			if res.StatusCode != 488 && res.StatusCode != 513 {
				t.Fatalf("got %d %s, want 488 or 513", res.StatusCode, res.Reason)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("final answer after %v", d)
			}
			if w := res.GetHeader("Warning"); w == nil || !strings.Contains(w.Value(), tc.warn) {
				t.Errorf("Warning %v does not say %q", w, tc.warn)
			}
		})
	}
}
