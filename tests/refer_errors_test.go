package tests

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// referIn sends a REFER in the dialog of an INVITE the device d answered
// (d is the callee: its From is the INVITE's To with its tag).
func referIn(d *sipClient, inv *sip.Request, referTo string) {
	d.t.Helper()
	d.cseq++
	to := inv.To().String() + ";tag=" + d.tag
	target := inv.Contact().Address.String()
	msg := fmt.Sprintf("REFER %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d REFER\r\nContact: <sip:dev@%s>\r\nRefer-To: %s\r\n"+
		"Referred-By: <sip:1002@%s>\r\nContent-Length: 0\r\n\r\n",
		target, d.viaHost, randHex(6), strings.TrimPrefix(to, "To: "), strings.TrimPrefix(inv.From().String(), "From: "),
		inv.CallID().Value(), d.cseq, d.viaHost, referTo, d.viaHost)
	d.send(msg)
}

// recvResponseTo reads messages until the response to method arrives,
// answering the NOTIFYs that come meanwhile (their sipfrags are returned).
func recvResponseTo(t *testing.T, d *sipClient, method string, frags *[]string) *sip.Response {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		raw := d.recvRaw(time.Until(end))
		if raw == nil {
			break
		}
		msg, err := sip.ParseMessage(raw)
		if err != nil {
			t.Fatalf("unparseable: %v\n%s", err, raw)
		}
		switch m := msg.(type) {
		case *sip.Response:
			if m.CSeq().MethodName == sip.RequestMethod(method) {
				return m
			}
		case *sip.Request:
			if m.Method == sip.NOTIFY {
				*frags = append(*frags, notifyFrag(t, m))
				d.send(sip.NewResponseFromRequest(m, 200, "OK", nil).String())
			}
		}
	}
	t.Fatalf("no response to %s", method)
	return nil
}

// notifyFrag checks a transfer NOTIFY's headers and returns its sipfrag.
func notifyFrag(t *testing.T, n *sip.Request) string {
	t.Helper()
	ev, ct, st := n.GetHeader("Event"), n.ContentType(), n.GetHeader("Subscription-State")
	if ev == nil || !strings.HasPrefix(ev.Value(), "refer") || ct == nil || !strings.HasPrefix(ct.Value(), "message/sipfrag") || st == nil {
		t.Fatalf("NOTIFY without Event: refer, a sipfrag body and Subscription-State:\n%s", n)
	}
	return strings.TrimSpace(string(n.Body())) + " (" + st.Value() + ")"
}

// Transfer requests that cannot be carried out get their answer: REFER
// outside a dialog 481; an unusable Refer-To 400; a target the dialplan
// refuses a NOTIFY with 403, and the call stays up with audio both ways.
func TestReferErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	host, _, _ := net.SplitHostPort(s.addr("udp"))

	c := dialSIP(t, s, "udp")
	c.send(c.request("REFER", "sip:1002@"+s.addr("udp"), "Refer-To: <sip:1003@"+host+">\nContact: <sip:probe@"+c.viaHost+">\n"))
	if res := c.mustRecv(481); res == nil {
		t.Fatal("REFER outside a dialog not answered 481")
	}

	d := device(t, s, "1002")
	calleeMedia, callerMedia := newRTPPeer(t), newRTPPeer(t)
	caller := dialSIP(t, s, "udp")
	cl := caller.startInvite("1001", testUsers["1001"], "91002", callerMedia.port())
	inv := d.mustRecvRequest("INVITE", 5*time.Second)
	d.respond(inv, 200, "OK", offer(calleeMedia.port()))
	res := cl.next()
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("call answered %d", res.StatusCode)
	}
	cl.ack(res)
	d.mustRecvRequest("ACK", 5*time.Second)
	stop := make(chan struct{})
	defer close(stop)
	go calleeMedia.sendTone(mediaAddr(t, inv.Body()), 440, 30*time.Second, stop)
	go callerMedia.sendTone(mediaAddr(t, res.Body()), 1000, 30*time.Second, stop)

	var frags []string
	for _, bad := range []string{"<tel:+4930123>", "<sip:example.com>", "<sip:1003@h?Replaces=only-a-call-id>"} {
		referIn(d, inv, bad)
		if r := recvResponseTo(t, d, "REFER", &frags); r.StatusCode != 400 {
			t.Fatalf("Refer-To %s answered %d, want 400", bad, r.StatusCode)
		}
	}
	referIn(d, inv, "<sip:1999@"+host+">")
	if r := recvResponseTo(t, d, "REFER", &frags); r.StatusCode != 202 {
		t.Fatalf("REFER answered %d, want 202", r.StatusCode)
	}
	for len(frags) < 2 {
		n := d.mustRecvRequest("NOTIFY", 10*time.Second)
		frags = append(frags, notifyFrag(t, n))
		d.send(sip.NewResponseFromRequest(n, 200, "OK", nil).String())
	}
	t.Logf("NOTIFYs: %q", frags)
	if !strings.HasPrefix(frags[0], "SIP/2.0 100 ") || !strings.HasPrefix(frags[1], "SIP/2.0 403 ") || !strings.Contains(frags[1], "terminated") {
		t.Fatalf("NOTIFYs %q, want 100 then 403 ending the subscription", frags)
	}

	// The call is still up, the two parties talking again.
	callerMedia.clear()
	calleeMedia.clear()
	callerMedia.waitPackets(t, 100, 8*time.Second)
	calleeMedia.waitPackets(t, 100, 8*time.Second)
	pcm, _ := callerMedia.received()
	assertHeardTone(t, "caller after the refused transfer", promptOf(pcm), 440)
	pcm, _ = calleeMedia.received()
	assertHeardTone(t, "callee after the refused transfer", promptOf(pcm), 1000)
	if r := d.recvRequest(200 * time.Millisecond); r != nil {
		t.Fatalf("the referrer got %s after a refused transfer", r.Method)
	}
	cl.bye(res)
	bye := d.mustRecvRequest("BYE", 5*time.Second)
	d.respond(bye, 200, "OK", "")
}
