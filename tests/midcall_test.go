package tests

import (
	"github.com/softswitch/softswitch/media/audiotest"
	"strings"
	"testing"
	"time"
)

// A 183 with SDP from the callee is early media: the caller hears it
// before the answer. Then the caller puts the call on hold and takes it
// back with re-INVITEs, answered on the caller's leg alone: the callee's
// audio keeps flowing after the resume.
func TestEarlyMediaAndHold(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	d := device(t, s, "1002")
	calleeMedia := newRTPPeer(t)
	callerMedia := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "91002", callerMedia.port()) // rings 15 s

	inv := d.mustRecvRequest("INVITE", 5*time.Second)
	legB := mediaAddr(t, inv.Body())
	d.respond(inv, 183, "Session Progress", offer(calleeMedia.port()))
	stop := make(chan struct{})
	defer close(stop)
	go calleeMedia.sendTone(legB, 440, 30*time.Second, stop)

	res := cl.next()
	if res.StatusCode != 183 || len(res.Body()) == 0 {
		t.Fatalf("caller got %d, want 183 with SDP (early media)", res.StatusCode)
	}
	callerMedia.waitPackets(t, 150, 8*time.Second)
	pcm, _ := callerMedia.received()
	assertHeardTone(t, "caller before the answer", promptOf(pcm[len(pcm)/3:]), 440)

	d.respond(inv, 200, "OK", offer(calleeMedia.port()))
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", res.StatusCode)
	}
	cl.ack(res)
	d.mustRecvRequest("ACK", 5*time.Second)

	hold := strings.Replace(offer(callerMedia.port()), "o=t 1 1", "o=t 1 2", 1) + "a=sendonly\r\n"
	if r := cl.reinvite(res, hold); r.StatusCode != 200 || !strings.Contains(string(r.Body()), "a=recvonly") {
		t.Fatalf("hold answered %d:\n%s", r.StatusCode, r.Body())
	}
	resume := strings.Replace(offer(callerMedia.port()), "o=t 1 1", "o=t 1 3", 1) + "a=sendrecv\r\n"
	if r := cl.reinvite(res, resume); r.StatusCode != 200 || !strings.Contains(string(r.Body()), "a=sendrecv") {
		t.Fatalf("resume answered %d:\n%s", r.StatusCode, r.Body())
	}
	callerMedia.clear()
	callerMedia.waitPackets(t, 150, 8*time.Second)
	pcm, _ = callerMedia.received()
	assertHeardTone(t, "caller after the resume", promptOf(pcm[len(pcm)/3:]), 440)
	if req := d.recvRequest(300 * time.Millisecond); req != nil {
		t.Fatalf("the callee's leg saw %s: the re-INVITEs must stay on the caller's leg", req.Method)
	}

	cl.bye(res)
	if r := c.recv(5 * time.Second); r == nil || r.StatusCode != 200 {
		t.Fatalf("BYE answered with %v", r)
	}
	bye := d.mustRecvRequest("BYE", 5*time.Second)
	d.respond(bye, 200, "OK", "")
}

// An INVITE without SDP (late offer): we offer in the 200, the caller
// answers in its ACK, and the test audio flows.
func TestLateOffer(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	rtp := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "07010002000", 0)
	res := cl.next()
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "m=audio ") {
		t.Fatalf("got %d without our offer:\n%s", res.StatusCode, res.Body())
	}
	cl.ackWith(res, strings.Replace(offer(rtp.port()), "a=fmtp:101 0-16\r\n", "a=fmtp:101 0-16\r\na=sendrecv\r\n", 1))
	rtp.waitPackets(t, 150, 10*time.Second)
	pcm, _ := rtp.received()
	if level := audiotest.RMSdBFS(pcm); level < -40 {
		t.Fatalf("test audio after a late offer is silent: %.1f dBFS", level)
	}
	cl.bye(res)
}
