package tests

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// callerCall places a call from our SIP client as 1001 to dest and
// ACKs the 200; the caller sends a 1000 Hz tone from its media port.
func callerCall(t *testing.T, s *server, dest string, stop <-chan struct{}) (*sipClient, *call, *sip.Response) {
	t.Helper()
	media := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], dest, media.port())
	res := cl.finalResponse()
	if res.StatusCode != 200 {
		t.Fatalf("call to %s answered %d", dest, res.StatusCode)
	}
	cl.ack(res)
	go media.sendTone(mediaAddr(t, res.Body()), 1000, 60*time.Second, stop)
	return c, cl, res
}

// answerUntil answers the requests the softswitch sends a client (NOTIFY,
// BYE) with 200 until one of method arrives; it returns the NOTIFY
// sipfrags seen.
func answerUntil(t *testing.T, c *sipClient, method string, frags []string) []string {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); {
		req := c.recvRequest(time.Until(end))
		if req == nil {
			break
		}
		c.send(sip.NewResponseFromRequest(req, 200, "OK", nil).String())
		if req.Method == sip.NOTIFY {
			frags = append(frags, notifyFrag(t, req))
		}
		if string(req.Method) == method {
			return frags
		}
	}
	t.Fatalf("no %s (NOTIFYs so far: %q)", method, frags)
	return nil
}

// Attended transfer (REFER with Replaces, RFC 3891): A (1001) talks to
// desk phone B (1002), puts B on hold, calls desk phone C (1003), then
// transfers B to C by replacing its call with C. B (700 Hz) and C
// (440 Hz) end up hearing each other, A is released from both calls.
// baresip 1.0.0 cannot make an attended transfer, so A is our SIP client.
func TestAttendedTransfer(t *testing.T) {
	t.Parallel()
	s := startTransferServer(t)
	b, bCtrl, c, cCtrl := startDeskPhones(t, s)
	stop := make(chan struct{})
	defer close(stop)
	a1, cl1, res1 := callerCall(t, s, "1002", stop)
	time.Sleep(time.Second)
	hold := "v=0\r\no=t 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		strings.SplitN(cl1.body, "t=0 0\r\n", 2)[1] + "a=sendonly\r\n"
	if r := cl1.reinvite(res1, hold); r.StatusCode != 200 {
		t.Fatalf("hold answered %d", r.StatusCode)
	}
	a2, _, res2 := callerCall(t, s, "1003", stop)
	time.Sleep(time.Second)

	toTag, _ := res2.To().Params.Get("tag")
	replaces := url.QueryEscape(fmt.Sprintf("%s;to-tag=%s;from-tag=%s", a2.callID, toTag, a2.tag))
	host, _, _ := net.SplitHostPort(s.addr("udp"))
	a1.cseq++
	a1.send(fmt.Sprintf("REFER %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n%s\r\n%s\r\n"+
		"Call-ID: %s\r\nCSeq: %d REFER\r\nContact: <sip:1001@%s>\r\nRefer-To: <sip:1003@%s?Replaces=%s>\r\n"+
		"Referred-By: <sip:1001@%s>\r\nContent-Length: 0\r\n\r\n",
		res1.Contact().Address.String(), a1.viaHost, randHex(6), res1.From().String(), res1.To().String(),
		a1.callID, a1.cseq, a1.viaHost, host, replaces, host))
	var frags []string
	if r := recvResponseTo(t, a1, "REFER", &frags); r.StatusCode != 202 {
		t.Fatalf("REFER answered %d, want 202", r.StatusCode)
	}
	frags = answerUntil(t, a1, "BYE", frags) // NOTIFYs, then A released from the first call
	answerUntil(t, a2, "BYE", nil)           // and from the second
	t.Logf("NOTIFYs: %q", frags)
	if len(frags) < 2 || !strings.HasPrefix(frags[0], "SIP/2.0 100 ") || !strings.HasPrefix(frags[len(frags)-1], "SIP/2.0 200 ") {
		t.Fatalf("NOTIFYs %q, want 100 then 200", frags)
	}

	time.Sleep(3 * time.Second) // B and C talk
	baresipCommand(t, bCtrl, "quit", "")
	b.wait(t, 15*time.Second)
	waitFor(t, 10*time.Second, "both calls ended", func() bool { return strings.Count(s.logs(), `msg="call ended"`) >= 2 })
	baresipCommand(t, cCtrl, "quit", "")
	c.wait(t, 15*time.Second)
	heardB := b.heard(t)
	assertToneNear(t, "B after the transfer", lastPart(heardB, 2500*time.Millisecond, 300*time.Millisecond), heardB.Rate, 440, 8)
	heardC := c.heard(t)
	assertToneNear(t, "C after the transfer", lastPart(heardC, 2500*time.Millisecond, 300*time.Millisecond), heardC.Rate, 700, 8)
	assertTransferCDRs(t, s, "user/1003")
	if logs := s.logs(); !strings.Contains(logs, `msg="attended transfer"`) || !strings.Contains(logs, `msg="callee handed over to an attended transfer"`) {
		t.Fatalf("the transfer did not take the other call's callee:\n%s", grepLines(logs, "transfer"))
	}
}

// The same attended transfer with a browser as A (JsSIP: hold, a second
// call, then session.refer with replaces): the desk phones B and C hear
// each other, the browser's two calls are both ended by us.
func TestAttendedTransferFromBrowser(t *testing.T) {
	t.Parallel()
	s := startTransferServer(t)
	b, bCtrl, c, cCtrl := startDeskPhones(t, s)
	p := openPage(t, "https://"+s.addr("https")+"/")
	p.eval(fmt.Sprintf(`(async () => {
  const ctx = new AudioContext(); await ctx.resume();
  const osc = ctx.createOscillator(); osc.frequency.value = 1000;
  const gain = ctx.createGain(); gain.gain.value = 0.3;
  const dst = ctx.createMediaStreamDestination(); osc.connect(gain).connect(dst); osc.start();
  const ua = new JsSIP.UA({sockets: [new JsSIP.WebSocketInterface("wss://" + location.host + "/ws")],
    uri: "sip:1001@" + location.hostname, password: %q, register: true});
  window.xfer = {ua, stream: dst.stream, accepted: false, failed: ""};
  await new Promise((ok, fail) => { ua.on("registered", ok); ua.on("registrationFailed", (e) => fail(new Error(e.cause))); ua.start(); });
  return true;
})()`, testUsers["1001"]), nil)
	call := func(n int, dest string) {
		p.eval(fmt.Sprintf(`xfer.s%d = xfer.ua.call(%q, {mediaStream: xfer.stream, pcConfig: {iceServers: []}}); true`, n, dest), nil)
		p.waitTrue(fmt.Sprintf(`!!xfer.s%d && xfer.s%d.isEstablished()`, n, n), 15*time.Second)
	}
	call(1, "1002")
	time.Sleep(time.Second)
	p.eval(`xfer.s1.hold(); true`, nil)
	call(2, "1003")
	time.Sleep(time.Second)
	p.eval(`xfer.s1.refer("sip:1003@" + location.hostname, {replaces: xfer.s2, eventHandlers: {
  accepted: () => { xfer.accepted = true; }, failed: (e) => { xfer.failed = String(e && e.status_line && e.status_line.status_code); }}}); true`, nil)
	p.waitTrue(`xfer.accepted || xfer.failed !== ""`, 20*time.Second)
	var failed string
	p.eval(`xfer.failed`, &failed)
	if failed != "" {
		t.Fatalf("the browser saw the transfer fail: %s", failed)
	}
	p.waitTrue(`xfer.s1.isEnded() && xfer.s2.isEnded()`, 15*time.Second) // released from both calls

	time.Sleep(3 * time.Second) // B and C talk
	baresipCommand(t, bCtrl, "quit", "")
	b.wait(t, 15*time.Second)
	waitFor(t, 10*time.Second, "both calls ended", func() bool { return strings.Count(s.logs(), `msg="call ended"`) >= 2 })
	baresipCommand(t, cCtrl, "quit", "")
	c.wait(t, 15*time.Second)
	heardB := b.heard(t)
	assertToneNear(t, "B after the transfer", lastPart(heardB, 2500*time.Millisecond, 300*time.Millisecond), heardB.Rate, 440, 8)
	heardC := c.heard(t)
	assertToneNear(t, "C after the transfer", lastPart(heardC, 2500*time.Millisecond, 300*time.Millisecond), heardC.Rate, 700, 8)
	assertTransferCDRs(t, s, "user/1003")
	if logs := s.logs(); !strings.Contains(logs, `msg="attended transfer"`) || !strings.Contains(logs, `msg="callee handed over to an attended transfer"`) {
		t.Fatalf("the transfer did not take the other call's callee:\n%s", grepLines(logs, "transfer"))
	}
}
