package tests

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/media"
)

// bridged is an answered call from 1001 (a raw UDP client) to 1002 (a
// raw UDP device), each side with its own RTP peer.
type bridged struct {
	caller, callee           *sipClient
	call                     *call
	answer                   *sip.Response // the 200 the caller got
	callerMedia, calleeMedia *rtpPeer
	legA, legB               *net.UDPAddr // where each side sends its RTP
}

func bridgedCall(t *testing.T, s *server) *bridged {
	t.Helper()
	b := &bridged{callee: device(t, s, "1002"), callerMedia: newRTPPeer(t), calleeMedia: newRTPPeer(t)}
	b.caller = dialSIP(t, s, "udp")
	b.call = b.caller.startInvite("1001", testUsers["1001"], "1002", b.callerMedia.port())
	inv := b.callee.mustRecvRequest("INVITE", 5*time.Second)
	b.legB = mediaAddr(t, inv.Body())
	b.callee.respond(inv, 200, "OK", offer(b.calleeMedia.port()))
	res := b.call.next()
	for res.StatusCode < 200 {
		res = b.call.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", res.StatusCode)
	}
	b.call.ack(res)
	b.callee.mustRecvRequest("ACK", 5*time.Second)
	b.answer, b.legA = res, mediaAddr(t, res.Body())
	return b
}

// cdrLines returns the CDR lines (no header) that mention substr.
func cdrLines(t *testing.T, data, substr string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(runCLI(t, "cdr", "list", "--last", "0", "--data", data), "\n")[1:] {
		if line != "" && strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// The callee's phone vanishes mid-call without a BYE (its RTP stops): the
// RTP timeout ends the call, the caller gets a BYE at once (not after the
// callee's BYE times out), the callee's leg is released with a BYE too,
// and the CDR says media-timeout.
func TestFarLegVanishesWithoutBye(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan, "--config", writeConfig(t, "rtp_timeout: 2s\n"))
	b := bridgedCall(t, s)
	stopCaller, stopCallee := make(chan struct{}), make(chan struct{})
	defer close(stopCaller)
	go b.callerMedia.sendTone(b.legA, 1000, 60*time.Second, stopCaller)
	go b.calleeMedia.sendTone(b.legB, 440, 60*time.Second, stopCallee)
	b.callerMedia.waitPackets(t, 50, 10*time.Second) // the callee's audio reaches the caller
	close(stopCallee)                                // the phone is gone: no RTP, no BYE

	bye := b.caller.mustRecvRequest("BYE", 20*time.Second)
	b.caller.respond(bye, 200, "OK", "")
	// The callee's leg is released too; its phone (SIP still alive, its
	// media path dead) answers, so the CDR need not wait out the BYE.
	b.callee.respond(b.callee.mustRecvRequest("BYE", 10*time.Second), 200, "OK", "")
	waitFor(t, 10*time.Second, "CDR", func() bool { return len(cdrLines(t, s.data, b.caller.callID)) == 1 })
	if line := cdrLines(t, s.data, b.caller.callID)[0]; !strings.Contains(line, " media-timeout ") {
		t.Fatalf("CDR does not say media-timeout: %s", line)
	}
	// call show says when the callee's RTP first came, and when it timed
	// out: 2 s after it stopped, so later than its first packet.
	story := runCLI(t, "call", "show", b.caller.callID, "--data", s.data)
	m := regexp.MustCompile(`leg B \(rtp\): .*\n.*\n    first RTP: from its peer \+(\d+\.\d{3}), to it \+\d+\.\d{3}\n    media timeout at \+(\d+\.\d{3}): no RTP for 2s\n`).FindStringSubmatch(story)
	if m == nil {
		t.Fatalf("call show lacks leg B's first RTP and media timeout:\n%s", story)
	}
	if first, timeout := atof(t, m[1]), atof(t, m[2]); timeout < first+2 {
		t.Errorf("media timeout at +%.3f, not 2 s after the first RTP at +%.3f:\n%s", timeout, first, story)
	}
}

// The same INVITE, ACK and BYE, each sent many times (a client
// retransmitting into a lossy network): one call, one CDR, the proper
// answers, and no retransmission taken for a new request by the rate
// limit (more copies than its default burst of 40).
func TestRetransmissionStorm(t *testing.T) {
	const copies = 60
	s := startServer(t, "", "--dialplan", testDialplan)
	peer := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	// storm sends a message copies times and collects the answers.
	tags := map[string]bool{} // To tags of final answers to the authenticated INVITE
	storm := func(first func()) (map[int]int, *sip.Response) {
		first()
		again := c.lastSent
		for i := 1; i < copies; i++ {
			c.send(again)
		}
		codes := map[int]int{}
		var final *sip.Response
		for res := c.recv(2 * time.Second); res != nil; res = c.recv(time.Second) {
			if res.CSeq().SeqNo != uint32(c.cseq) {
				continue // a late retransmission answering the previous request
			}
			codes[res.StatusCode]++
			if res.StatusCode >= 200 {
				final = res
			}
			if res.StatusCode == 200 && res.CSeq().MethodName == sip.INVITE {
				tag, _ := res.To().Params.Get("tag")
				tags[tag] = true
			}
		}
		return codes, final
	}
	only := func(codes map[int]int, want int) bool {
		return codes[want] > 0 && len(codes) == 1 || codes[want] > 0 && codes[100] > 0 && len(codes) == 2
	}
	cl := &call{c: c, user: "1001", dest: "07010002000", body: offer(peer.port())}
	codes, challenge := storm(func() { cl.send(cl.user) })
	if !only(codes, 407) {
		t.Fatalf("first INVITE storm answered %v, want only 407 (and 100)", codes)
	}
	cl.ack(challenge)
	cl.authorize(challenge, testUsers["1001"])
	codes, answer := storm(func() { cl.send(cl.user) })
	if !only(codes, 200) {
		t.Fatalf("authenticated INVITE storm answered %v, want only 200 (and 100)", codes)
	}
	if len(tags) != 1 {
		t.Fatalf("200s with %d different To tags, want one dialog", len(tags))
	}
	for i := 0; i < copies; i++ {
		cl.ack(answer)
	}
	peer.waitPackets(t, 25, 5*time.Second)
	codes, _ = storm(func() { cl.bye(answer) })
	if codes[200] == 0 || len(codes) != 1 {
		t.Fatalf("BYE storm answered %v, want only 200", codes)
	}
	waitFor(t, 5*time.Second, "CDR", func() bool { return len(cdrLines(t, s.data, c.callID)) > 0 })
	if err := s.stop(sigterm); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	lines := cdrLines(t, s.data, c.callID)
	if len(lines) != 1 || !strings.Contains(lines[0], " normal ") || !strings.Contains(lines[0], " caller ") {
		t.Fatalf("CDRs of the stormed call %q, want one normal hangup by the caller", lines)
	}
	if n := strings.Count(s.logs(), `msg=call `); n != 1 {
		t.Fatalf("%d calls started, want 1", n)
	}
	if strings.Contains(s.logs(), "request rate limited") {
		t.Fatal("retransmissions were counted by the rate limit")
	}
}

// Media through a relayed call survives 10 % packet loss and reordering
// in both directions: each side still hears the other's tone.
func TestLossyReorderedMedia(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	b := bridgedCall(t, s)
	done := make(chan struct{}, 2)
	go func() { b.callerMedia.sendImpairedTone(t, b.legA, 1000, 150); done <- struct{}{} }()
	go func() { b.calleeMedia.sendImpairedTone(t, b.legB, 440, 150); done <- struct{}{} }()
	<-done
	<-done
	b.calleeMedia.waitPackets(t, 100, 5*time.Second)
	b.callerMedia.waitPackets(t, 100, 5*time.Second)
	heard, _ := b.calleeMedia.received()
	assertHeardTone(t, "callee", promptOf(heard), 1000)
	heard, _ = b.callerMedia.received()
	assertHeardTone(t, "caller", promptOf(heard), 440)
	b.call.bye(b.answer)
	b.callee.respond(b.callee.mustRecvRequest("BYE", 5*time.Second), 200, "OK", "")
}

// sendImpairedTone sends n packets of a PCMU tone paced at 20 ms, losing
// one packet in ten and swapping another pair in each ten (seq 3 is lost,
// 7 goes out before 6).
func (p *rtpPeer) sendImpairedTone(t *testing.T, addr *net.UDPAddr, freq float64, n int) {
	tone := media.NewTone(freq, -12, 8000)
	pcm := make([]int16, 160)
	pkts := make([][]byte, n)
	for i := range pkts {
		tone.Next(pcm)
		payload := make([]byte, 160)
		g711.EncodeULaw(payload, pcm)
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x77, SequenceNumber: uint16(i), Timestamp: uint32(i * 160)}, Payload: payload}
		b, err := pkt.Marshal()
		if err != nil {
			t.Error(err)
			return
		}
		pkts[i] = b
	}
	order := make([]int, 0, n)
	for i := 0; i < n; i++ {
		switch {
		case i%10 == 3:
			order = append(order, -1) // lost: the slot stays silent
		case i%10 == 6 && i+1 < n:
			order = append(order, i+1, i)
			i++
		default:
			order = append(order, i)
		}
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, i := range order {
		<-tick.C
		if i < 0 {
			continue
		}
		if _, err := p.conn.WriteToUDP(pkts[i], addr); err != nil {
			t.Error(err)
			return
		}
	}
}

// waitExit waits for a draining server to exit by itself, with status 0.
func (s *server) waitExit() {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.t.Fatal("softswitch did not exit after its last call")
	}
	if s.waitErr != nil {
		s.t.Fatalf("exit after SIGTERM: %v", s.waitErr)
	}
}

// SIGTERM with 20 calls up: new calls get 503, the calls go on (half
// are hung up by their callers, half play to their end and get the
// server's BYE), the process exits 0 after the last one, and every call
// has its CDR. A restart on the same data keeps them and adds new ones.
func TestSIGTERMUnderLoad(t *testing.T) {
	const calls = 20 // 40 INVITEs with their challenges: the default burst
	s := startServer(t, "", "--dialplan", testDialplan)
	sink := newRTPPeer(t)
	type live struct {
		c   *sipClient
		cl  *call
		res *sip.Response
	}
	var up []live
	for i := 0; i < calls; i++ {
		c := dialSIP(t, s, "udp")
		cl, res := c.answered("07010002000", sink.port())
		up = append(up, live{c, cl, res})
	}
	sink.waitPackets(t, calls*10, 10*time.Second)
	if err := s.cmd.Process.Signal(sigterm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "drain logged", func() bool { return strings.Contains(s.logs(), "terminating: draining calls") })
	late := dialSIPFrom(t, s, "udp", "127.0.0.2")
	if _, res := late.invite("1001", "", "07010002000", sink.port()); res.StatusCode != 503 {
		t.Fatalf("a new call while draining got %d, want 503", res.StatusCode)
	}
	for _, l := range up[:calls/2] {
		l.cl.bye(l.res)
		if r := l.c.recv(5 * time.Second); r == nil || r.StatusCode != 200 {
			t.Fatalf("BYE while draining answered %v", r)
		}
	}
	for _, l := range up[calls/2:] {
		l.c.respond(l.c.mustRecvRequest("BYE", 30*time.Second), 200, "OK", "")
	}
	s.waitExit()
	lines := cdrLines(t, s.data, "07010002000")
	sides := map[string]int{}
	for _, line := range lines {
		if f := strings.Fields(line); len(f) == 12 && f[5] == "normal" {
			sides[f[7]]++
		}
	}
	if len(lines) != calls || sides["caller"] != calls/2 || sides["system"] != calls/2 {
		t.Fatalf("%d CDRs, normal hangups by side %v; want %d, half by the callers:\n%s", len(lines), sides, calls, strings.Join(lines, "\n"))
	}

	s2 := startServer(t, s.data, "--dialplan", testDialplan)
	c := dialSIP(t, s2, "udp")
	cl, res := c.answered("07010002000", sink.port())
	cl.bye(res)
	if r := c.recv(5 * time.Second); r == nil || r.StatusCode != 200 {
		t.Fatalf("BYE after the restart answered %v", r)
	}
	if err := s2.stop(sigterm); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if n := len(cdrLines(t, s.data, "07010002000")); n != calls+1 {
		t.Fatalf("%d CDRs after a restart and one more call, want %d", n, calls+1)
	}
}

// Calls that outlast the drain time after SIGTERM are hung up with a BYE,
// their CDRs are written, and the process still exits 0: an orderly stop.
func TestSIGTERMHangsUpAfterDrainTime(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan, "--config", writeConfig(t, "drain_timeout: 1s\n"))
	sink := newRTPPeer(t)
	var clients []*sipClient
	for i := 0; i < 5; i++ {
		c := dialSIP(t, s, "udp")
		c.answered("07010002000", sink.port()) // the test audio plays for longer than the drain
		clients = append(clients, c)
	}
	if err := s.cmd.Process.Signal(sigterm); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		c.respond(c.mustRecvRequest("BYE", 10*time.Second), 200, "OK", "")
	}
	s.waitExit()
	if lines := cdrLines(t, s.data, " normal "); len(lines) != len(clients) {
		t.Fatalf("%d normal CDRs, want %d:\n%s", len(lines), len(clients), strings.Join(lines, "\n"))
	}
}
