package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The dialplan collects digits sent as RFC 4733 events and as SIP INFO
// (application/dtmf-relay, as JsSIP sends them).
func TestDialplanCollectsDigits(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	for _, how := range []string{"rfc4733", "info"} {
		t.Run(how, func(t *testing.T) {
			media := newRTPPeer(t)
			c := dialSIP(t, s, "udp")
			cl := c.startInvite("1001", testUsers["1001"], "08", media.port())
			res := cl.next()
			for res.StatusCode < 200 {
				res = cl.next()
			}
			if res.StatusCode != 200 {
				t.Fatalf("got %d, want 200", res.StatusCode)
			}
			cl.ack(res)
			ours := mediaAddr(t, res.Body())
			var seq uint16
			for i, d := range "123" {
				switch how {
				case "rfc4733":
					media.sendDTMF(t, ours, d, &seq, uint32(8000*(i+1)))
				case "info":
					c.cseq++
					body := fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", d)
					c.send(fmt.Sprintf("INFO %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n%s\r\n%s\r\nCall-ID: %s\r\nCSeq: %d INFO\r\n"+
						"Content-Type: application/dtmf-relay\r\nContent-Length: %d\r\n\r\n%s",
						cl.ruri(), c.viaHost, randHex(6), res.From().String(), res.To().String(), c.callID, c.cseq, len(body), body))
					if r := c.recv(5 * time.Second); r == nil || r.StatusCode != 200 {
						t.Fatalf("INFO answered %v", r)
					}
				}
			}
			bye := c.recvRequest(10 * time.Second)
			if bye == nil || bye.Method != "BYE" {
				t.Fatalf("no BYE after the digits: %v", bye)
			}
			c.respond(bye, 200, "OK", "")
			waitFor(t, 5*time.Second, "CDR", func() bool {
				return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), c.callID)
			})
			for _, line := range strings.Split(runCLI(t, "cdr", "list", "--data", s.data), "\n") {
				if strings.Contains(line, c.callID) && !strings.Contains(line, " normal ") {
					t.Fatalf("the dialplan did not collect 123 (cause says otherwise):\n%s\n%s", line, s.logs())
				}
			}
		})
	}
}
