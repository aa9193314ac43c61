package tests

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testDialplan, _ = filepath.Abs("testdata/dialplan.lua")

// device registers ext over UDP with our raw client, to play a phone that
// rings, refuses or is cancelled exactly as the test says.
func device(t *testing.T, s *server, ext string) *sipClient {
	t.Helper()
	d := dialSIP(t, s, "udp")
	d.login(ext, testUsers[ext], 600, "")
	return d
}

// Each way a call can fail gets its expected answer.
func TestCallFailures(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	rtp := newRTPPeer(t)

	t.Run("unauthenticated", func(t *testing.T) {
		c := dialSIP(t, s, "udp")
		cl, res := c.invite("1001", "", "1002", rtp.port())
		if res.StatusCode != 407 || res.GetHeader("Proxy-Authenticate") == nil {
			t.Fatalf("got %d, want 407 with a challenge", res.StatusCode)
		}
		cl.ack(res)
		_, res = c.invite("1001", "wrong-password", "1002", rtp.port())
		if res.StatusCode != 403 {
			t.Fatalf("wrong password: got %d, want 403", res.StatusCode)
		}
	})
	for _, tc := range []struct {
		name, dest string
		code       int
	}{
		{"unknown number", "555", 404},
		{"unknown extension", "4444", 404},
		{"unregistered extension", "1002", 480},
		{"script error", "666", 500},
		{"script loops forever", "777", 500},
		{"catastrophic pattern", "778", 500},
		{"gsub bomb", "779", 500},
		{"table bomb", "780", 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialSIP(t, s, "udp")
			cl, res := c.invite("1001", testUsers["1001"], tc.dest, rtp.port())
			if res.StatusCode != tc.code {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.code)
			}
			cl.ack(res)
		})
	}
	t.Run("busy", func(t *testing.T) {
		d := device(t, s, "1002")
		c := dialSIP(t, s, "udp")
		done := make(chan result, 1)
		go c.final("1001", testUsers["1001"], "1002", rtp.port(), done)
		inv := d.mustRecvRequest("INVITE", 5*time.Second)
		if strings.Contains(string(inv.Body()), "rtpmap:0") == false {
			t.Fatalf("leg B offer without PCMU:\n%s", inv.Body())
		}
		d.respond(inv, 486, "Busy Here", "")
		if code := waitResult(t, done); code != 486 {
			t.Fatalf("caller got %d, want 486", code)
		}
		d.mustRecvRequest("ACK", 5*time.Second)
		// d's socket closes with this subtest but its UDP binding stays, as a
		// phone that died would leave it: the next call must not wait for it.
	})
	t.Run("no answer", func(t *testing.T) {
		d := device(t, s, "1002")
		c := dialSIP(t, s, "udp")
		done := make(chan result, 1)
		go c.final("1001", testUsers["1001"], "1002", rtp.port(), done)
		inv := d.mustRecvRequest("INVITE", 5*time.Second)
		d.respond(inv, 180, "Ringing", "")
		cancel := d.mustRecvRequest("CANCEL", 10*time.Second) // the dialplan rings 3 s
		d.respond(cancel, 200, "OK", "")
		d.respond(inv, 487, "Request Terminated", "")
		if code := waitResult(t, done); code != 480 {
			t.Fatalf("caller got %d, want 480 (no answer)", code)
		}
	})
	s.alive()
}

// The caller gives up while the callee rings: 487 to the caller, CANCEL
// to the callee, and a CDR that says so.
func TestCallerCancels(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	rtp := newRTPPeer(t)
	d := device(t, s, "1002")
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "1002", rtp.port())
	inv := d.mustRecvRequest("INVITE", 5*time.Second)
	d.respond(inv, 180, "Ringing", "")
	if res := cl.next(); res.StatusCode != 180 {
		t.Fatalf("caller got %d, want 180 relayed", res.StatusCode)
	}
	cl.cancel()
	got := map[int]bool{}
	for len(got) < 2 {
		r := c.recv(5 * time.Second)
		if r == nil {
			t.Fatalf("caller got %v, want 200 (CANCEL) and 487 (INVITE)", got)
		}
		got[r.StatusCode] = true
		if r.StatusCode == 487 {
			cl.ack(r)
		}
	}
	if !got[200] || !got[487] {
		t.Fatalf("caller got %v, want 200 and 487", got)
	}
	cancel := d.mustRecvRequest("CANCEL", 5*time.Second)
	d.respond(cancel, 200, "OK", "")
	d.respond(inv, 487, "Request Terminated", "")
	waitFor(t, 5*time.Second, "CDR of the cancelled call", func() bool {
		out := runCLI(t, "cdr", "list", "--data", s.data)
		return strings.Contains(out, "cancelled") && strings.Contains(out, "caller") && strings.Contains(out, " 487 ")
	})
}

// Two devices registered for one extension both ring; the one that
// answers gets the call and the other is CANCELed. The caller then hangs up.
func TestForkToEveryDevice(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t, "--dialplan", testDialplan)
	desk := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 440, toneFor: 20 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 10 * time.Second})
	waitFor(t, 10*time.Second, "baresip registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	other := dialSIP(t, s, "udp")
	other.server = s.addr("udp")
	other.login("1002", testUsers["1002"], 600, "")
	if n := strings.Count(s.registrations("1002"), "via udp"); n != 2 {
		t.Fatalf("%d registrations for 1002, want 2", n)
	}
	rtp := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "1002", rtp.port())
	inv := other.mustRecvRequest("INVITE", 5*time.Second)
	other.respond(inv, 180, "Ringing", "")
	res := cl.next()
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200 from the answering device", res.StatusCode)
	}
	cl.ack(res)
	cancel := other.mustRecvRequest("CANCEL", 5*time.Second)
	other.respond(cancel, 200, "OK", "")
	other.respond(inv, 487, "Request Terminated", "")
	rtp.waitPackets(t, 150, 10*time.Second) // 3 s of audio from the desk phone
	pcm, _ := rtp.received()
	assertHeardToneRaw(t, pcm[len(pcm)/2:], 440)
	cl.bye(res)
	if r := c.recv(5 * time.Second); r == nil || r.StatusCode != 200 {
		t.Fatalf("BYE answered with %v", r)
	}
	desk.wait(t, 30*time.Second)
	if !strings.Contains(desk.output(), "terminated") {
		t.Fatalf("the desk phone's call was not ended by the caller's BYE:\n%s", desk.output())
	}
}
