package tests

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// upCall is an answered call from 1001 to the device 1002, seen from the
// caller's phone (its dialog) and the callee's (the INVITE it answered).
type upCall struct {
	caller *sipClient
	call   *call
	answer *sip.Response // the 200 the caller got
	invite *sip.Request  // the INVITE the callee answered
	at     time.Time     // when the caller got the 200
}

// answerOn places a call from 1001 through the server to callee, which
// answers it.
func answerOn(t *testing.T, s *server, callee *sipClient, rtpPort int) upCall {
	t.Helper()
	u := upCall{caller: dialSIP(t, s, "udp")}
	u.call = u.caller.startInvite("1001", testUsers["1001"], "1002", rtpPort)
	u.invite = callee.mustRecvRequest("INVITE", 5*time.Second)
	callee.respond(u.invite, 200, "OK", offer(rtpPort))
	res := u.call.next()
	for res.StatusCode < 200 {
		res = u.call.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", res.StatusCode)
	}
	u.call.ack(res)
	u.answer, u.at = res, time.Now()
	callee.mustRecvRequest("ACK", 5*time.Second)
	return u
}

// inDialog sends method within a dialog the phone c believes in and
// returns the final response (nil when none comes).
func inDialog(c *sipClient, method, ruri, callID, from, to string) *sip.Response {
	c.t.Helper()
	c.cseq++
	c.send(fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n",
		method, ruri, c.viaHost, randHex(6), from, to, callID, c.cseq, method))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		raw := c.recvRaw(time.Until(deadline))
		if raw == nil {
			return nil
		}
		if msg, err := sip.ParseMessage(raw); err == nil {
			if res, ok := msg.(*sip.Response); ok && res.StatusCode >= 200 && res.CSeq().SeqNo == uint32(c.cseq) {
				return res
			}
		}
	}
	return nil
}

// kill -9 with calls up: each call has a row as soon as it is answered (or
// ringing); after a restart on the same data directory those rows say
// interrupted, ending at the last heartbeat; the phones that still think
// they are in a call get 481 to their in-dialog requests.
func TestKillLeavesInterruptedCDRs(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	rtp := newRTPPeer(t)
	callee := device(t, s, "1002")
	const n = 8
	var calls []upCall
	for i := 0; i < n; i++ {
		calls = append(calls, answerOn(t, s, callee, rtp.port()))
	}
	ringer := dialSIP(t, s, "udp") // one more call, still ringing (9 + ext rings 15 s)
	ringer.startInvite("1001", testUsers["1001"], "91002", rtp.port())
	callee.respond(callee.mustRecvRequest("INVITE", 5*time.Second), 180, "Ringing", "")

	// Answered calls are durably recorded within a short bound (the
	// writer's flush), and only as open rows: the list of finished calls
	// stays empty.
	waitFor(t, 3*time.Second, "open CDRs of the calls up", func() bool {
		out := runCLI(t, "cdr", "list", "--open", "--data", s.data)
		return strings.Count(out, " up ") == n && strings.Count(out, " ringing ") == 1
	})
	if lines := cdrLines(t, s.data, "1001"); len(lines) != 0 {
		t.Fatalf("calls in progress listed as finished: %q", lines)
	}
	time.Sleep(3 * time.Second) // heartbeats while the calls are up
	sipAddr := s.addr("udp")
	if err := s.stop(syscall.SIGKILL); err == nil {
		t.Fatal("softswitch survived SIGKILL")
	}
	killed := time.Now()

	// The same address again: the phones' requests reach the new process.
	s2 := startServer(t, s.data, "--dialplan", testDialplan, "--sip", sipAddr)
	if !strings.Contains(s2.logs(), "recorded as interrupted") || !strings.Contains(s2.logs(), fmt.Sprintf("calls=%d", n+1)) {
		t.Fatalf("restart did not report %d interrupted calls:\n%s", n+1, s2.logs())
	}
	if out := runCLI(t, "cdr", "list", "--open", "--data", s.data); strings.Count(out, "\n") != 1 {
		t.Fatalf("calls still open after the restart:\n%s", out)
	}
	checkInterrupted(t, s.data, calls, ringer.callID, killed)
	checkStaleDialogs(t, calls, callee)
}

// checkInterrupted asserts one interrupted CDR per call, ending at the
// last heartbeat before the kill (at most a heartbeat interval, 2 s, and
// a flush, 0.5 s, before it; durations are listed to the second).
func checkInterrupted(t *testing.T, data string, calls []upCall, ringing string, killed time.Time) {
	t.Helper()
	for _, u := range calls {
		lines := cdrLines(t, data, u.caller.callID)
		if len(lines) != 1 {
			t.Fatalf("call %s: %d CDRs, want 1", u.caller.callID, len(lines))
		}
		// START(2 fields) CALLER DESTINATION TARGET CAUSE DURATION SIDE SIP Q850 CODECS CALL-ID
		f := strings.Fields(lines[0])
		if len(f) != 12 || f[5] != "interrupted" || f[7] != "system" || f[8] != "200" || f[4] != "user/1002" || f[10] != "PCMU/PCMU" {
			t.Fatalf("CDR of a call cut by the kill: %q", lines[0])
		}
		d, err := time.ParseDuration(f[6])
		up := killed.Sub(u.at)
		if err != nil || d < up-3500*time.Millisecond || d > up+time.Second {
			t.Fatalf("interrupted call lasted %q (%v), want about %v (answer to kill)", f[6], err, up.Round(time.Second))
		}
	}
	lines := cdrLines(t, data, ringing)
	if len(lines) != 1 {
		t.Fatalf("ringing call: %d CDRs, want 1", len(lines))
	}
	if f := strings.Fields(lines[0]); len(f) != 12 || f[5] != "interrupted" || f[8] != "0" || f[6] != "0s" {
		t.Fatalf("CDR of the ringing call cut by the kill: %q", lines[0])
	}
}

// checkStaleDialogs: both phones of a cut call are told the dialog is gone.
func checkStaleDialogs(t *testing.T, calls []upCall, callee *sipClient) {
	t.Helper()
	u := calls[0]
	if res := inDialog(u.caller, "BYE", u.call.ruri(), u.caller.callID, u.answer.From().Value(), u.answer.To().Value()); res == nil || res.StatusCode != 481 {
		t.Fatalf("caller's BYE after the restart: %v, want 481", res)
	}
	u = calls[1]
	if res := inDialog(u.caller, "INFO", u.call.ruri(), u.caller.callID, u.answer.From().Value(), u.answer.To().Value()); res == nil || res.StatusCode != 481 {
		t.Fatalf("caller's INFO after the restart: %v, want 481", res)
	}
	re := u.call.reinvite(u.answer, offer(4000))
	if re.StatusCode != 481 {
		t.Fatalf("caller's re-INVITE after the restart: %d, want 481", re.StatusCode)
	}
	inv := calls[2].invite
	from := inv.To().Value() + ";tag=" + callee.tag
	host, port, _ := net.SplitHostPort(callee.server)
	ruri := "sip:softswitch@" + net.JoinHostPort(host, port)
	if res := inDialog(callee, "BYE", ruri, inv.CallID().Value(), from, inv.From().Value()); res == nil || res.StatusCode != 481 {
		t.Fatalf("callee's BYE after the restart: %v, want 481", res)
	}
}
