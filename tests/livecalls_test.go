package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

type liveCallJSON struct {
	ID     string  `json:"id"`
	Caller string  `json:"caller"`
	State  string  `json:"state"`
	Media  string  `json:"media"`
	Age    float64 `json:"age_seconds"`
	A      struct {
		Transport, Codec string
		Media            *legMediaJSON
	} `json:"a"`
	B *struct {
		Target, Codec string
		Media         *legMediaJSON
	} `json:"b"`
}

type legMediaJSON struct {
	Kind         string  `json:"kind"`
	Sent         int     `json:"packets_sent"`
	Received     int     `json:"packets_received"`
	LossPercent  float64 `json:"loss_percent"`
	JitterMs     float64 `json:"jitter_ms"`
	RTTMs        float64 `json:"rtt_ms"`
	RTCPSent     int     `json:"rtcp_sent"`
	RTCPReceived int     `json:"rtcp_received"`
	Reports      int     `json:"reports"`
	ReportsTimed int     `json:"reports_timed"`
}

// A JsSIP browser calls a baresip desk phone: `softswitch calls` lists the
// call with both legs' codecs; `softswitch calls hangup` ends it (both
// legs released, CDR cause admin); an unknown id is refused in words.
func TestLiveCallsBrowserToPhone(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	p := loginPage(t, s, "1001")
	desk := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 60 * time.Second})
	waitFor(t, 10*time.Second, "phone registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	if out := runCLI(t, "calls", "--data", s.data); out != "no calls in progress\n" {
		t.Fatalf("calls before the call: %q", out)
	}
	p.eval(`phone.setTone(440); phone.call("1002")`, nil)
	p.waitTrue(`phone.inCall()`, 15*time.Second)

	var calls []liveCallJSON
	waitFor(t, 10*time.Second, "the call listed as up", func() bool {
		calls = nil
		if err := json.Unmarshal([]byte(runCLI(t, "calls", "--json", "--data", s.data)), &calls); err != nil {
			t.Fatal(err)
		}
		return len(calls) == 1 && calls[0].State == "up" && calls[0].B != nil && calls[0].B.Codec != "" &&
			calls[0].A.Media != nil && calls[0].A.Media.Received > 0 && calls[0].A.Media.Sent > 0 &&
			calls[0].B.Media != nil && calls[0].B.Media.Received > 0 && calls[0].B.Media.Sent > 0
	})
	if calls[0].A.Media.Kind != "webrtc" || calls[0].B.Media.Kind != "rtp" {
		t.Fatalf("legs' media: a %+v, b %+v", *calls[0].A.Media, *calls[0].B.Media)
	}
	c := calls[0]
	if c.Caller != "1001" || c.A.Transport != "wss" || !strings.EqualFold(c.A.Codec, "opus") ||
		c.B.Target != "user/1002" || c.B.Codec != "PCMU" || c.Media != "transcoded" || c.Age <= 0 {
		t.Fatalf("listed call %+v (b %+v)", c, *c.B)
	}
	var shown string
	p.eval(`phone.lastCallID()`, &shown)
	if shown != c.ID {
		t.Errorf("the page shows call id %q, the server lists %q", shown, c.ID)
	}
	text := runCLI(t, "calls", "--data", s.data)
	if !strings.Contains(text, c.ID) || !strings.Contains(text, "wss opus") || !strings.Contains(text, "user/1002 PCMU") {
		t.Fatalf("calls table:\n%s", text)
	}

	if e := runCLIFail(t, "calls", "hangup", "no-such-call", "--data", s.data); !strings.Contains(e, `no call "no-such-call" in progress`) {
		t.Fatalf("hangup of an unknown call: %q", e)
	}
	if e := runCLIUsage(t, "calls", "hangup", c.ID, "--cause", "whim", "--data", s.data); !strings.Contains(e, `unknown --cause "whim"`) {
		t.Fatalf("hangup with an unknown cause: %q", e)
	}
	time.Sleep(3 * time.Second) // past call show's grace for silent legs: media must flow both ways
	// Both peers' RTCP reports about our streams give round trips (the
	// browser's within a second or two, baresip's every 5 s).
	// A report can be lost or arrive before its sender report on a loaded
	// machine: several rounds of both are allowed for.
	var during liveCallJSON
	defer func() { // after a timeout: what each leg's RTCP had come to
		if t.Failed() && during.A.Media != nil {
			t.Logf("last counters: leg A %+v, leg B %+v", *during.A.Media, *during.B.Media)
		}
	}()
	waitFor(t, 30*time.Second, "round trips on both legs", func() bool {
		calls = nil
		if err := json.Unmarshal([]byte(runCLI(t, "calls", "--json", "--data", s.data)), &calls); err != nil {
			t.Fatal(err)
		}
		if len(calls) == 1 && calls[0].B != nil && calls[0].A.Media != nil && calls[0].B.Media != nil {
			during = calls[0]
		}
		return during.A.Media != nil && during.A.Media.RTTMs > 0 && during.B.Media.RTTMs > 0
	})
	t.Logf("during the call: leg A %+v, leg B %+v", *during.A.Media, *during.B.Media)
	for _, m := range []*legMediaJSON{during.A.Media, during.B.Media} {
		// Loopback: a few ms of round trip and jitter (bounded generously
		// for a loaded machine; a wrong unit would be far off), next to no loss.
		if m.RTTMs > 250 || m.JitterMs <= 0 || m.JitterMs > 250 || m.LossPercent > 5 {
			t.Errorf("%s leg: rtt %.1f ms, jitter %.1f ms, loss %.1f %%", m.Kind, m.RTTMs, m.JitterMs, m.LossPercent)
		}
	}
	if text := runCLI(t, "calls", "--data", s.data); !regexp.MustCompile(`loss \d+\.\d% jitter \d+\.\dms rtt \d+\.\dms`).MatchString(text) {
		t.Errorf("calls table without loss, jitter and round trip:\n%s", text)
	}
	if out := runCLI(t, "calls", "hangup", c.ID, "--data", s.data); !strings.Contains(out, "hanging up") {
		t.Fatalf("hangup: %q", out)
	}
	p.waitTrue(`!phone.inCall()`, 10*time.Second)
	waitFor(t, 10*time.Second, "the phone to get its BYE", func() bool {
		return strings.Contains(desk.output(), "sip:1001@"+testHostIP+": session closed") // baresip's words for a BYE
	})
	waitFor(t, 10*time.Second, "the CDR with cause admin", func() bool {
		return strings.Contains(grepLines(runCLI(t, "cdr", "list", "--data", s.data), "1002"), "admin")
	})
	if out := runCLI(t, "calls", "--data", s.data); out != "no calls in progress\n" {
		t.Fatalf("calls after the hangup: %q", out)
	}

	// The call's story: both ladders in time order, both legs' SDPs, its
	// record, and no verdict.
	story := runCLI(t, "call", "show", c.ID, "--data", s.data)
	for _, want := range []string{"call " + c.ID, "leg A: Call-ID " + c.ID + " (WSS ", "leg B1: Call-ID ", " A→   INVITE sip:1002@",
		" →B1  INVITE sip:", " B1←  SIP/2.0 200 OK", " ←A   SIP/2.0 200 OK", " A→   ACK ", " →B1  BYE ", " ←A   BYE ",
		"A→ offer in INVITE", "UDP/TLS/RTP/SAVPF", "←A SDP in 200 to INVITE", "→B1 offer in INVITE", "B1← SDP in 200 to INVITE",
		"cause admin (side admin", "codec B PCMU: transcoded", "verdicts:\n  none"} {
		if !strings.Contains(story, want) {
			t.Errorf("call show lacks %q", want)
		}
	}
	for _, re := range []string{`leg A \(webrtc\): [1-9]\d* packets sent, [1-9]\d* received`, `leg B \(rtp\): [1-9]\d* packets sent, [1-9]\d* received`} {
		if !regexp.MustCompile(re).MatchString(story) {
			t.Errorf("call show lacks media both ways (%s)", re)
		}
	}
	for _, re := range []string{`leg A \(webrtc\): .*\n    from its peer: loss \d+\.\d % \(\d+ of [1-9]\d*\), jitter \d+\.\d ms, round trip \d+\.\d ms\n`,
		`leg B \(rtp\): .*\n    from its peer: loss \d+\.\d % \(\d+ of [1-9]\d*\), jitter \d+\.\d ms, round trip \d+\.\d ms\n`} {
		if !regexp.MustCompile(re).MatchString(story) {
			t.Errorf("call show lacks receive quality (%s)", re)
		}
	}
	// Both legs sent sender reports, and their peers' reports named them.
	if n := len(regexp.MustCompile(`\n    RTCP: [1-9]\d* sent, [1-9]\d* received; [1-9]\d* reports about us from its peer, [1-9]\d* of them timed`).FindAllString(story, -1)); n != 2 {
		t.Errorf("call show has RTCP both ways on %d legs, want 2", n)
	}
	// When media first flowed, each way on each leg, and when the
	// browser's DTLS came up: after its first ICE check, before its
	// media, within the call (before the hangup's BYE).
	end := regexp.MustCompile(`\+(\d+\.\d{3}) →B1  BYE `).FindStringSubmatch(story)
	a := regexp.MustCompile(`leg A \(webrtc\): .*\n.*\n    first RTP: from its peer \+(\d+\.\d{3}), to it \+(\d+\.\d{3})\n` +
		`    ICE: [1-9]\d* connectivity checks, the first at \+(\d+\.\d{3}), pair .*; DTLS-SRTP up at \+(\d+\.\d{3}) \(we are the (client|server)\)\n`).FindStringSubmatch(story)
	b := regexp.MustCompile(`leg B \(rtp\): .*\n.*\n    first RTP: from its peer \+(\d+\.\d{3}), to it \+(\d+\.\d{3})\n`).FindStringSubmatch(story)
	if end == nil || a == nil || b == nil {
		t.Errorf("call show lacks first RTP both ways on both legs, or the browser's ICE and DTLS times")
	} else {
		bye, aIn, aOut, check, dtls := atof(t, end[1]), atof(t, a[1]), atof(t, a[2]), atof(t, a[3]), atof(t, a[4])
		if !(0 < check && check <= dtls && dtls <= aIn && dtls <= aOut && aIn < bye && aOut < bye) {
			t.Errorf("leg A: first check +%.3f, DTLS up +%.3f, first RTP in +%.3f, out +%.3f; BYE +%.3f", check, dtls, aIn, aOut, bye)
		}
		if bIn, bOut := atof(t, b[1]), atof(t, b[2]); !(0 < bIn && bIn < bye && 0 < bOut && bOut < bye) {
			t.Errorf("leg B: first RTP in +%.3f, out +%.3f; BYE +%.3f", bIn, bOut, bye)
		}
	}
	if strings.Contains(story, "media timeout") {
		t.Errorf("call show reports a media timeout")
	}
	if t.Failed() {
		t.Fatalf("call show:\n%s", story)
	}
	var asJSON struct {
		ID     string `json:"id"`
		Ladder []struct {
			Leg       string `json:"leg"`
			FirstLine string `json:"first_line"`
		} `json:"ladder"`
		Media []struct {
			Leg string `json:"leg"`
			legMediaJSON
			FirstRTPIn  *float64 `json:"first_rtp_in_seconds"`
			FirstRTPOut *float64 `json:"first_rtp_out_seconds"`
			ICE         *struct {
				FirstCheck    *float64 `json:"first_check_seconds"`
				DTLSConnected *float64 `json:"dtls_connected_seconds"`
			} `json:"ice"`
		} `json:"media"`
		Verdicts []string `json:"verdicts"`
	}
	raw := runCLI(t, "call", "show", c.ID, "--json", "--data", s.data)
	if err := json.Unmarshal([]byte(raw), &asJSON); err != nil {
		t.Fatalf("call show --json: %v\n%s", err, raw)
	}
	if asJSON.ID != c.ID || len(asJSON.Ladder) < 8 || asJSON.Ladder[0].Leg != "A" || !strings.HasPrefix(asJSON.Ladder[0].FirstLine, "INVITE ") ||
		len(asJSON.Media) != 2 || asJSON.Media[0].RTTMs <= 0 || asJSON.Media[1].RTTMs <= 0 || len(asJSON.Verdicts) != 0 {
		t.Fatalf("call show --json:\n%s", raw)
	}
	for _, m := range asJSON.Media {
		if m.FirstRTPIn == nil || m.FirstRTPOut == nil || *m.FirstRTPIn <= 0 || *m.FirstRTPOut <= 0 ||
			(m.Leg == "A") != (m.ICE != nil) || m.ICE != nil && (m.ICE.FirstCheck == nil || m.ICE.DTLSConnected == nil || *m.ICE.DTLSConnected < *m.ICE.FirstCheck) {
			t.Fatalf("call show --json: leg %s without its first RTP both ways (or, the browser's, ICE and DTLS times):\n%s", m.Leg, raw)
		}
	}
	if e := runCLIFail(t, "call", "show", "never-seen", "--data", s.data); !strings.Contains(e, `no call "never-seen" among the last 1000 calls (call_history)`) {
		t.Fatalf("call show of an unknown id: %q", e)
	}
}

// atof reads a number call show printed.
func atof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// g729Call dials the test number offering only G.729 and returns the
// call's Call-ID once refused with 488.
func g729Call(t *testing.T, s *server) string {
	t.Helper()
	rtp := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	body := strings.NewReplacer("RTP/AVP 0", "RTP/AVP 18", "a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000").Replace(offer(rtp.port()))
	if !strings.Contains(body, "RTP/AVP 18") {
		t.Fatalf("offer not rewritten: %q", body)
	}
	cl := &call{c: c, user: "1001", dest: "07010002000", body: body}
	cl.send("1001")
	res := cl.next()
	cl.ack(res)
	cl.authorize(res, testUsers["1001"])
	cl.send("1001")
	res = cl.finalResponse()
	cl.ack(res)
	if res.StatusCode != 488 {
		t.Fatalf("a G.729-only offer got %d, want 488", res.StatusCode)
	}
	return c.callID
}

// A caller that offers only G.729 gets 488, and `softswitch call show`
// says why in words. The story is in the database within a second, so it
// survives even a crash; beyond call_history it is gone, and call show
// says the call is older than the history.
func TestCallShowCodecVerdict(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	id := g729Call(t, s)
	const verdict = "488 on leg A: the softswitch found no codec in common: the offer had only G729"
	story := runCLI(t, "call", "show", id, "--data", s.data)
	if !strings.Contains(story, verdict) {
		t.Fatalf("no codec verdict:\n%s", story)
	}
	db, err := store.Open(t.Context(), filepath.Join(s.data, "softswitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, 10*time.Second, "the story in the database", func() bool {
		_, err := db.ArchivedCall(t.Context(), id)
		return err == nil
	})
	// A crash, then a restart: the history is still there.
	if err := s.stop(syscall.SIGKILL); err == nil {
		t.Fatal("a killed server exited cleanly")
	}
	again := startServer(t, s.data)
	after := runCLI(t, "call", "show", id, "--data", again.data)
	if !strings.Contains(after, verdict) || !strings.Contains(after, "←A   SIP/2.0 488 Not Acceptable Here") ||
		!regexp.MustCompile(`m=audio \d+ RTP/AVP 18 101`).MatchString(after) {
		t.Fatalf("call show after a restart:\n%s", after)
	}
	if err := again.stop(sigterm); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// A history of one call: a newer call pushes the first out.
	conf := filepath.Join(t.TempDir(), "softswitch.yaml")
	if err := os.WriteFile(conf, []byte("call_history: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	third := startServer(t, s.data, "--config", conf)
	rtp := newRTPPeer(t)
	c := dialSIP(t, third, "udp")
	cl, res := c.answered("07010002000", rtp.port())
	cl.bye(res)
	waitFor(t, 10*time.Second, "the answered call's CDR", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", third.data), "07010002000")
	})
	newer := g729Call(t, third)
	waitFor(t, 10*time.Second, "the newer story in the database", func() bool {
		_, err := db.ArchivedCall(t.Context(), newer)
		return err == nil
	})
	if !strings.Contains(runCLI(t, "call", "show", newer, "--data", third.data), verdict) {
		t.Fatal("the newer call has no story")
	}
	e := runCLIFail(t, "call", "show", c.callID, "--data", third.data)
	if !strings.Contains(e, fmt.Sprintf("call %q (1001 -> 07010002000, started ", c.callID)) || !strings.Contains(e, "is older than the last 1 calls whose story is kept (call_history)") {
		t.Fatalf("call show of a call older than the history: %q", e)
	}
	if e := runCLIFail(t, "call", "show", id, "--data", third.data); !strings.Contains(e, `among the last 1 calls (call_history): it is older, or never reached`) {
		t.Fatalf("call show of a refused call older than the history: %q", e)
	}
}

// oneCallUp waits until `softswitch calls` lists one call, answered.
func oneCallUp(t *testing.T, s *server) liveCallJSON {
	t.Helper()
	var calls []liveCallJSON
	waitFor(t, 10*time.Second, "the call listed as up", func() bool {
		calls = nil
		if err := json.Unmarshal([]byte(runCLI(t, "calls", "--json", "--data", s.data)), &calls); err != nil {
			t.Fatal(err)
		}
		return len(calls) == 1 && calls[0].State == "up"
	})
	return calls[0]
}

// A browser's WebSocket closes mid-call: `softswitch call show` says so,
// with the close code the softswitch saw: 1006 (no close frame) when
// Chromium is killed, 1001 (going away) when the page navigates away.
func TestCallShowWebSocketLost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		end     func(p *page)
		code    int
		meaning string
	}{
		{"killed", func(p *page) { p.killBrowser() }, 1006, "no close frame came: the browser was killed or crashed"},
		{"navigated away", func(p *page) { p.eval(`location.href = "about:blank"`, nil) }, 1001, "the browser went away: the tab was closed or reloaded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, "")
			p := loginPage(t, s, "1001")
			p.eval(`phone.setTone(440); phone.call("07010002000")`, nil)
			p.waitTrue(`phone.inCall()`, 15*time.Second)
			up := oneCallUp(t, s)
			tc.end(p)
			verdict := fmt.Sprintf("the browser's WebSocket closed mid-call (code %d) on leg A (WSS ", tc.code)
			var story string
			waitFor(t, 15*time.Second, "the verdict", func() bool {
				story = runCLI(t, "call", "show", up.ID, "--data", s.data)
				return strings.Contains(story, "connection closed")
			})
			if !strings.Contains(story, verdict) || !strings.Contains(story, tc.meaning) ||
				!strings.Contains(story, fmt.Sprintf("A→   (WSS connection closed, code %d)", tc.code)) {
				t.Fatalf("call show:\n%s", story)
			}
		})
	}
}

// A browser whose ICE checks are filtered (iptables in the test's network
// namespace drops UDP to the server's media address) is answered, but its
// media never connects: `softswitch call show` says ICE never started and
// names the candidate the browser could not reach.
func TestCallShowICEFiltered(t *testing.T) {
	t.Parallel()
	const mediaIP = "127.0.0.7" // this test's own: the rule touches no other test
	rule := []string{"INPUT", "-p", "udp", "-d", mediaIP, "-j", "DROP"}
	if out, err := exec.Command("iptables", append([]string{"-A"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("iptables", append([]string{"-D"}, rule...)...).Run() })
	s := startServer(t, "", "--media-ip", mediaIP)
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440); phone.call("07010002000")`, nil)
	p.waitTrue(`phone.inCall()`, 15*time.Second)
	up := oneCallUp(t, s)
	var story string
	waitFor(t, 15*time.Second, "the ICE verdict", func() bool { // past the 3 s grace for a silent leg
		story = runCLI(t, "call", "show", up.ID, "--data", s.data)
		return strings.Contains(story, "one-way audio: nothing received from leg A's peer")
	})
	p.eval(`phone.hangup()`, nil)
	for _, want := range []string{"ICE never started: no connectivity check (STUN binding request) from the browser reached UDP " + mediaIP + " port ",
		"the candidate our SDP gave it, so DTLS never started either", "    ICE: 0 connectivity checks, pair none, 0 datagrams refused; DTLS-SRTP never up (handshake never started)",
		"    first RTP: from its peer never, to it never\n"} {
		if !strings.Contains(story, want) {
			t.Errorf("call show lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("call show:\n%s", story)
	}
}

// A caller whose phone sends no RTP: `softswitch call show` says the
// audio was one-way, naming the leg.
func TestCallShowOneWay(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	rtp := newRTPPeer(t) // receives, never sends
	c := dialSIP(t, s, "udp")
	cl, res := c.answered("07010002000", rtp.port())
	rtp.waitPackets(t, 150, 10*time.Second) // 3 s of the test audio reached the phone
	time.Sleep(time.Second)
	cl.bye(res)
	var story string
	waitFor(t, 10*time.Second, "the one-way verdict", func() bool {
		story = runCLI(t, "call", "show", c.callID, "--data", s.data)
		return strings.Contains(story, "one-way audio: nothing received from leg A's peer in ")
	})
	if !strings.Contains(story, "(its SDP named 127.0.0.1)") || !regexp.MustCompile(`leg A \(rtp\): [1-9]\d* packets sent, 0 received`).MatchString(story) {
		t.Fatalf("call show:\n%s", story)
	}
}
