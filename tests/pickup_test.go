package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// pickupInvite sends, as user, an INVITE carrying Replaces (answering the
// 407 first) and returns the call and its final response.
func pickupInvite(t *testing.T, p *sipClient, user, replaces string, rtpPort int) (*call, *sip.Response) {
	t.Helper()
	cl := &call{c: p, user: user, dest: "1002", body: offer(rtpPort), auth: "Replaces: " + replaces + "\r\nRequire: replaces\r\n"}
	cl.send(user)
	res := cl.next()
	if res.StatusCode != 407 {
		t.Fatalf("INVITE answered %d, want a 407 challenge first", res.StatusCode)
	}
	cl.ack(res)
	cl.authorize(res, transferUsers[user])
	cl.auth += "Replaces: " + replaces + "\r\nRequire: replaces\r\n"
	cl.send(user)
	res = cl.finalResponse()
	if res.StatusCode >= 300 {
		cl.ack(res)
	}
	return cl, res
}

// Directed call pickup (INVITE with Replaces, RFC 3891): 1003 takes over
// the call ringing at 1002 by naming that INVITE's dialog; the ringing
// phone is CANCELed and the caller talks to 1003, audio both ways. A
// Replaces naming no ringing call is refused 481, and a pickup the
// dialplan's on_pickup refuses (by 1001) 403, the call ringing on.
func TestCallPickup(t *testing.T) {
	t.Parallel()
	s := startTransferServer(t)
	picker := dialSIP(t, s, "udp")
	if _, res := pickupInvite(t, picker, "1003", "nope@h;to-tag=1;from-tag=2", newRTPPeer(t).port()); res.StatusCode != 481 {
		t.Fatalf("Replaces naming no call answered %d, want 481", res.StatusCode)
	}

	d := device(t, s, "1002")
	callerMedia, pickerMedia := newRTPPeer(t), newRTPPeer(t)
	caller := dialSIP(t, s, "udp")
	cl := caller.startInvite("1001", testUsers["1001"], "91002", callerMedia.port())
	inv := d.mustRecvRequest("INVITE", 5*time.Second)
	d.respond(inv, 180, "Ringing", "")
	fromTag, _ := inv.From().Params.Get("tag")
	replaces := inv.CallID().Value() + ";to-tag=" + d.tag + ";from-tag=" + fromTag

	refused := dialSIP(t, s, "udp")
	if _, res := pickupInvite(t, refused, "1001", replaces, newRTPPeer(t).port()); res.StatusCode != 403 {
		t.Fatalf("a pickup on_pickup refuses answered %d, want 403", res.StatusCode)
	}
	picker = dialSIP(t, s, "udp")
	pcl, res := pickupInvite(t, picker, "1003", replaces, pickerMedia.port())
	if res.StatusCode != 200 {
		t.Fatalf("pickup answered %d, want 200", res.StatusCode)
	}
	pcl.ack(res)
	if c := d.mustRecvRequest("CANCEL", 5*time.Second); c != nil {
		d.respond(c, 200, "OK", "")
		d.respond(inv, 487, "Request Terminated", "")
	}
	cres := cl.finalResponse()
	if cres.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200 once picked up", cres.StatusCode)
	}
	cl.ack(cres)
	stop := make(chan struct{})
	defer close(stop)
	go callerMedia.sendTone(mediaAddr(t, cres.Body()), 1000, 30*time.Second, stop)
	go pickerMedia.sendTone(mediaAddr(t, res.Body()), 440, 30*time.Second, stop)
	callerMedia.waitPackets(t, 100, 8*time.Second)
	pickerMedia.waitPackets(t, 100, 8*time.Second)
	pcm, _ := callerMedia.received()
	assertHeardTone(t, "caller", promptOf(pcm), 440)
	pcm, _ = pickerMedia.received()
	assertHeardTone(t, "picker", promptOf(pcm), 1000)

	cl.bye(cres)
	bye := picker.mustRecvRequest("BYE", 5*time.Second)
	picker.respond(bye, 200, "OK", "")
	waitFor(t, 10*time.Second, "CDR", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "pickup/1003")
	})
}
