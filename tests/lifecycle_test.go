package tests

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// answeredCall places an authenticated call and returns once it is up.
func answeredCall(t *testing.T, s *server, dest string, rtpPort int) (*sipClient, *call, string) {
	t.Helper()
	c := dialSIP(t, s, "udp")
	cl, res := c.answered(dest, rtpPort)
	return c, cl, fmt.Sprintf("%s\r\n%s\r\n", res.From().String(), res.To().String())
}

// answered places an authenticated call from 1001 and returns its ACKed 200.
func (c *sipClient) answered(dest string, rtpPort int) (*call, *sip.Response) {
	c.t.Helper()
	cl := c.startInvite("1001", testUsers["1001"], dest, rtpPort)
	res := cl.next()
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 {
		c.t.Fatalf("call to %s got %d", dest, res.StatusCode)
	}
	cl.ack(res)
	return cl, res
}

// SIGTERM drains: the call in progress goes on to its end, new requests
// get 503, then the process exits cleanly with the CDR written.
func TestSIGTERMDrainsCalls(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	rtp := newRTPPeer(t)
	c, _, _ := answeredCall(t, s, "07010002000", rtp.port())
	rtp.waitPackets(t, 25, 5*time.Second)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "drain logged", func() bool { return strings.Contains(s.logs(), "terminating: draining calls") })
	late := dialSIP(t, s, "udp")
	late.mustRegister("1002", "", 600, "", 503)
	bye := c.recvRequest(20 * time.Second) // the test audio plays to its end
	if bye == nil || bye.Method != "BYE" {
		t.Fatalf("the call was not carried to its end: %v", bye)
	}
	c.respond(bye, 200, "OK", "")
	s.waitExit()
	if pcm, _ := rtp.received(); len(pcm) < 8*8000 {
		t.Fatalf("drained call was cut short: %.1f s of audio", float64(len(pcm))/8000)
	}
	if out := runCLI(t, "cdr", "list", "--data", s.data); !strings.Contains(out, "07010002000") {
		t.Fatalf("CDR of the drained call missing:\n%s", out)
	}
}

// Only destinations the configuration names may be called anonymously.
// Elsewhere a stranger (no extension in From, no registration from its
// address, no credentials) is challenged exactly like an extension, so
// that it cannot tell which extensions exist.
func TestAnonymousDestinations(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "anonymous_destinations: [\"07010002000\"]\n")
	s := startServer(t, "", "--dialplan", testDialplan, "--config", cfg)
	rtp := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl, res := c.invite("stranger", "", "07010002000", rtp.port())
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("anonymous call to the allowed number got %d, want 200", res.StatusCode)
	}
	cl.ack(res)
	cl.bye(res)
	other := dialSIP(t, s, "udp")
	cl2, res2 := other.invite("stranger", "", "1002", rtp.port())
	if res2.StatusCode != 407 {
		t.Fatalf("anonymous call elsewhere got %d, want a 407 challenge like an extension's", res2.StatusCode)
	}
	cl2.ack(res2)
	cl3, res3 := other.invite("1001", "", "1002", rtp.port())
	if res3.StatusCode != 407 {
		t.Fatalf("an extension's call without credentials got %d, want a 407 challenge", res3.StatusCode)
	}
	cl3.ack(res3)
}

// Session timers (RFC 4028): a refresh by UPDATE without SDP is answered
// with the interval and no SDP; the call goes on.
func TestSessionRefresh(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	rtp := newRTPPeer(t)
	c, cl, fromTo := answeredCall(t, s, "07010002000", rtp.port())
	c.cseq++
	c.send(fmt.Sprintf("UPDATE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n%sCall-ID: %s\r\nCSeq: %d UPDATE\r\n"+
		"Contact: <sip:1001@%s>\r\nSession-Expires: 90\r\nSupported: timer\r\nContent-Length: 0\r\n\r\n",
		cl.ruri(), c.viaHost, randHex(6), fromTo, c.callID, c.cseq, c.viaHost))
	res := c.recv(5 * time.Second)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("UPDATE answered %v", res)
	}
	if se := res.GetHeader("Session-Expires"); se == nil || !strings.HasPrefix(se.Value(), "90") {
		t.Fatalf("200 to the refresh without Session-Expires: %s", res)
	}
	if len(res.Body()) != 0 {
		t.Fatalf("200 to an UPDATE without offer carries SDP:\n%s", res.Body())
	}
	before, _ := rtp.received()
	time.Sleep(500 * time.Millisecond)
	if after, _ := rtp.received(); len(after) <= len(before) {
		t.Fatal("audio stopped after the refresh")
	}
}

// A phone's connection drops mid-call (TCP here; a browser's WebSocket
// takes the same path): the other side gets BYE, the CDR says why, and
// the extension is unreachable afterwards (480).
func TestConnectionDropsMidCall(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	d := dialSIP(t, s, "tcp")
	d.login("1002", testUsers["1002"], 600, "")
	calleeMedia := newRTPPeer(t)
	callerMedia := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "1002", callerMedia.port())
	inv := d.mustRecvRequest("INVITE", 5*time.Second)
	d.respond(inv, 200, "OK", offer(calleeMedia.port()))
	res := cl.next()
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("caller got %d", res.StatusCode)
	}
	cl.ack(res)
	d.mustRecvRequest("ACK", 5*time.Second)
	d.conn.Close() // the phone vanishes
	bye := c.recvRequest(10 * time.Second)
	if bye == nil || bye.Method != "BYE" {
		t.Fatalf("caller not told: %v", bye)
	}
	c.respond(bye, 200, "OK", "")
	waitFor(t, 5*time.Second, "CDR", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "connection-lost")
	})
	_, again := dialSIP(t, s, "udp").invite("1001", testUsers["1001"], "1002", callerMedia.port())
	if again.StatusCode != 480 {
		t.Fatalf("call to the vanished extension got %d, want 480", again.StatusCode)
	}
}
