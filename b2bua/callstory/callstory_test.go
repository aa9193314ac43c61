package callstory

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/siptrace"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const g729Offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18 101\r\na=rtpmap:101 telephone-event/8000\r\n"

// msg builds a SIP message of call callID.
func msg(first, callID, cseq, body string) []byte {
	return []byte(first + "\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:1001@h>;tag=1\r\nTo: <sip:1002@h>\r\nCall-ID: " +
		callID + "\r\nCSeq: " + cseq + "\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body)
}

// feed records each message at t0 + its offset in ms.
func feed(r *Recorder, msgs ...struct {
	ms   int
	in   bool
	data []byte
}) {
	for _, m := range msgs {
		tm := siptrace.Message{Time: t0.Add(time.Duration(m.ms) * time.Millisecond), In: m.in, Transport: "udp", Remote: "10.0.0.1:5060", Data: m.data}
		r.Observe(tm, siptrace.Summarize(m.data))
	}
}

type step = struct {
	ms   int
	in   bool
	data []byte
}

func TestBridgedCallStory(t *testing.T) {
	r := NewRecorder(10)
	feed(r, step{0, true, msg("REGISTER sip:h SIP/2.0", "reg", "1 REGISTER", "")}) // not a call
	if _, ok := r.Story("reg"); ok {
		t.Fatal("a REGISTER started a story")
	}
	offer := "v=0\r\nm=audio 4000 RTP/AVP 0 8\r\n"
	feed(r, step{0, true, msg("INVITE sip:1002@h SIP/2.0", "a1", "1 INVITE", offer)})
	r.Link("a1", "b1")
	feed(r,
		step{4, false, msg("SIP/2.0 100 Trying", "a1", "1 INVITE", "")},
		step{5, false, msg("INVITE sip:1002@10.0.0.2 SIP/2.0", "b1", "1 INVITE", offer)},
		step{900, true, msg("SIP/2.0 200 OK", "b1", "1 INVITE", "v=0\r\nm=audio 5000 RTP/AVP 0\r\n")},
		step{901, false, msg("ACK sip:1002@10.0.0.2 SIP/2.0", "b1", "1 ACK", "")},
		step{902, false, msg("SIP/2.0 200 OK", "a1", "1 INVITE", "v=0\r\nm=audio 6000 RTP/AVP 0\r\n")},
		step{950, true, msg("ACK sip:1002@h SIP/2.0", "a1", "1 ACK", "")},
		step{60000, true, msg("BYE sip:1002@h SIP/2.0", "a1", "2 BYE", "")},
	)
	st, ok := r.Story("b1") // any leg's id finds the call
	if !ok || st.CallID != "a1" || len(st.Entries) != 8 || len(st.Legs) != 2 {
		t.Fatalf("story %+v", st)
	}
	if v := st.Verdicts(t0.Add(time.Hour)); len(v) != 0 {
		t.Fatalf("verdicts on a good call: %q", v)
	}
	var b strings.Builder
	if err := st.Render(&b, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"   +0.000 A→   INVITE sip:1002@h SIP/2.0", "   +0.004 ←A   SIP/2.0 100 Trying", "   +0.005 →B1  INVITE sip:1002@10.0.0.2",
		"   +0.900 B1←  SIP/2.0 200 OK", "  +60.000 A→   BYE", "A→ offer in INVITE (+0.000):\n    v=0\n    m=audio 4000 RTP/AVP 0 8",
		"B1← SDP in 200 to INVITE (+0.900)", "leg B1: Call-ID b1 (UDP 10.0.0.1:5060)", "verdicts:\n  none"} {
		if !strings.Contains(out, want) {
			t.Errorf("render lacks %q:\n%s", want, out)
		}
	}
}

func TestVerdicts(t *testing.T) {
	r := NewRecorder(10)
	feed(r,
		step{0, true, msg("INVITE sip:1002@h SIP/2.0", "noack", "1 INVITE", "v=0\r\nm=audio 4000 RTP/AVP 0\r\n")},
		step{10, false, msg("SIP/2.0 200 OK", "noack", "1 INVITE", "v=0\r\nm=audio 6000 RTP/AVP 0\r\n")},
		step{0, true, msg("INVITE sip:1002@h SIP/2.0", "g729", "1 INVITE", g729Offer)},
		step{3, false, msg("SIP/2.0 488 Not Acceptable Here", "g729", "1 INVITE", "")},
	)
	st, _ := r.Story("noack")
	if v := st.Verdicts(t0.Add(20 * time.Second)); len(v) != 0 {
		t.Fatalf("an ACK still awaited is no verdict yet: %q", v)
	}
	if v := st.Verdicts(t0.Add(33 * time.Second)); len(v) != 1 || !strings.HasPrefix(v[0], "no ACK for the 200 on leg A in 32 s") {
		t.Fatalf("no-ACK verdict: %q", v)
	}
	st, _ = r.Story("g729")
	if v := st.Verdicts(t0); len(v) != 1 || v[0] != "488 on leg A: the softswitch found no codec in common: the offer had only G729" {
		t.Fatalf("488 verdict: %q", v)
	}
}

// The recorder keeps the last calls only, and a bounded ladder per call.
func TestRecorderBounds(t *testing.T) {
	r := NewRecorder(3)
	for i := 0; i < 5; i++ {
		id := fmt.Sprint("c", i)
		feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", id, "1 INVITE", "")})
		r.Link(id, id+"-b")
	}
	if _, ok := r.Story("c1"); ok {
		t.Fatal("c1 kept beyond the history of 3")
	}
	if _, ok := r.Story("c1-b"); ok {
		t.Fatal("c1's leg B kept beyond the history")
	}
	if _, ok := r.Story("c4-b"); !ok {
		t.Fatal("c4 lost")
	}
	for i := 0; i < maxEntries+5; i++ {
		feed(r, step{i, true, msg("INFO sip:x@h SIP/2.0", "c4", fmt.Sprint(i+2, " INFO"), "")})
	}
	if st, _ := r.Story("c4"); len(st.Entries) != maxEntries || st.Dropped != 6 {
		t.Fatalf("%d entries, %d dropped", len(st.Entries), st.Dropped)
	}
}

func FuzzOfferedCodecs(f *testing.F) {
	f.Add(g729Offer)
	f.Add("m=audio\na=rtpmap:\nm=audio 1 RTP/AVP 96\na=rtpmap:96 opus/48000/2")
	f.Fuzz(func(t *testing.T, sdp string) {
		if got := offeredCodecs(sdp); len(got) == 0 {
			t.Fatal("empty list")
		}
		_ = sdpOf([]byte("X\r\n\r\n" + sdp))
	})
}

// A WebSocket that closes under an answered leg is a verdict; one that
// closes after the BYE, or under another call, is not.
func TestConnClosedVerdict(t *testing.T) {
	r := NewRecorder(10)
	ws := func(ms int, in bool, first, id, cseq string) {
		data := msg(first, id, cseq, "")
		r.Observe(siptrace.Message{Time: t0.Add(time.Duration(ms) * time.Millisecond), In: in, Transport: "wss", Remote: "127.0.0.1:5555", Data: data}, siptrace.Summarize(data))
	}
	ws(0, true, "INVITE sip:2000@h SIP/2.0", "up", "1 INVITE")
	ws(10, false, "SIP/2.0 200 OK", "up", "1 INVITE")
	ws(0, true, "INVITE sip:2000@h SIP/2.0", "done", "1 INVITE")
	ws(10, false, "SIP/2.0 200 OK", "done", "1 INVITE")
	ws(20, true, "BYE sip:2000@h SIP/2.0", "done", "2 BYE")
	r.ConnClosed("wss", "127.0.0.1:5555", 1006)
	r.ConnClosed("wss", "127.0.0.1:5555", 1006) // twice: noted once
	r.ConnClosed("tcp", "127.0.0.1:5555", 0)
	st, _ := r.Story("up")
	if v := st.Verdicts(t0); len(v) != 1 || !strings.HasPrefix(v[0], "the browser's WebSocket closed mid-call (code 1006) on leg A (WSS 127.0.0.1:5555) at +") ||
		!strings.HasSuffix(v[0], "without a BYE: no close frame came: the browser was killed or crashed, the computer slept, or its network went away") {
		t.Fatalf("verdicts %q", v)
	}
	if e := st.Entries[len(st.Entries)-1]; e.FirstLine != "(WSS connection closed, code 1006)" || e.CloseCode != 1006 {
		t.Fatalf("ladder entry %+v", e)
	}
	// Other endings, each in words.
	for _, tc := range []struct {
		transport string
		code      int
		want      string
	}{
		{"wss", 1001, "the browser's WebSocket closed mid-call (code 1001) on leg A (WSS 127.0.0.1:6000) at +0.010 s without a BYE: the browser went away: the tab was closed"},
		{"ws", 0, "the softswitch closed the WebSocket of leg A (WS 127.0.0.1:6000) at +0.010 s without a BYE mid-call"},
		{"tls", 0, "the connection of leg A (TLS 127.0.0.1:6000) at +0.010 s without a BYE closed mid-call: the phone went away"},
	} {
		id := fmt.Sprint(tc.transport, tc.code)
		data := msg("INVITE sip:2000@h SIP/2.0", id, "1 INVITE", "")
		r.Observe(siptrace.Message{Time: t0, In: true, Transport: tc.transport, Remote: "127.0.0.1:6000", Data: data}, siptrace.Summarize(data))
		data = msg("SIP/2.0 200 OK", id, "1 INVITE", "")
		r.Observe(siptrace.Message{Time: t0.Add(10 * time.Millisecond), In: false, Transport: tc.transport, Remote: "127.0.0.1:6000", Data: data}, siptrace.Summarize(data))
		r.ConnClosed(tc.transport, "127.0.0.1:6000", tc.code)
		st, _ := r.Story(id)
		st.Entries[len(st.Entries)-1].At = t0.Add(10 * time.Millisecond) // ConnClosed stamps the wall clock
		if v := st.Verdicts(t0); len(v) != 1 || !strings.HasPrefix(v[0], tc.want) {
			t.Errorf("%s code %d: verdicts %q", tc.transport, tc.code, v)
		}
	}
	st, _ = r.Story("done")
	if v := st.Verdicts(t0); len(v) != 0 {
		t.Fatalf("a closed connection after the BYE: %q", v)
	}
}

// A leg answered for more than the grace period that received no RTP is
// one-way audio, with the private address its SDP named.
func TestOneWayVerdict(t *testing.T) {
	r := NewRecorder(10)
	feed(r,
		step{0, true, msg("INVITE sip:2000@h SIP/2.0", "c", "1 INVITE", "v=0\r\nc=IN IP4 192.168.1.20\r\nm=audio 4000 RTP/AVP 0\r\n")},
		step{10, false, msg("SIP/2.0 200 OK", "c", "1 INVITE", "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 6000 RTP/AVP 0\r\n")},
		step{5000, true, msg("BYE sip:2000@h SIP/2.0", "c", "2 BYE", "")},
	)
	st, _ := r.Story("c")
	if v := st.Verdicts(t0); len(v) != 0 {
		t.Fatalf("verdict without media counters: %q", v)
	}
	r.SetMedia("c", []LegMedia{{Leg: "A", Kind: "rtp", PacketsSent: 249}})
	st, _ = r.Story("c")
	want := "one-way audio: nothing received from leg A's peer in 5.0 s since the answer (its SDP named 192.168.1.20, a private address"
	if v := st.Verdicts(t0); len(v) != 1 || !strings.HasPrefix(v[0], want) || !strings.HasSuffix(v[0], "249 packets were sent to it") {
		t.Fatalf("verdicts %q", v)
	}
	r.SetMedia("c", []LegMedia{{Leg: "A", Kind: "webrtc", SendErrors: 12}})
	st, _ = r.Story("c")
	if v := st.Verdicts(t0); len(v) != 1 || !strings.Contains(v[0], "not completed ICE or DTLS") || !strings.Contains(v[0], "(12 packets to it were refused") {
		t.Fatalf("browser verdict %q", v)
	}
	// A browser leg whose transport facts are known: how far it got.
	answer := "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=candidate:1 1 udp 2130706431 127.0.0.7 40000 typ host\r\n"
	feed(r,
		step{0, true, msg("INVITE sip:2000@h SIP/2.0", "web", "1 INVITE", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")},
		step{10, false, msg("SIP/2.0 200 OK", "web", "1 INVITE", answer)},
		step{5000, true, msg("BYE sip:2000@h SIP/2.0", "web", "2 BYE", "")},
	)
	for _, tc := range []struct {
		m    LegMedia
		want string
	}{
		{LegMedia{ICEKnown: true}, "; ICE never started: no connectivity check (STUN binding request) from the browser reached UDP 127.0.0.7 port 40000, the candidate our SDP gave it, so DTLS never started either: check"},
		{LegMedia{ICEKnown: true, ICEDropped: 4}, "; ICE never started: 4 datagrams reached UDP 127.0.0.7 port 40000, the candidate our SDP gave it, but none was a valid connectivity check"},
		{LegMedia{ICEKnown: true, ICEChecks: 3, ICEPeer: "127.0.0.1:5000"}, "; ICE worked (3 connectivity checks, the pair with 127.0.0.1:5000) but DTLS never completed"},
		{LegMedia{ICEKnown: true, ICEChecks: 3, ICEPeer: "127.0.0.1:5000", DTLSUp: true, DTLSRole: "client"}, "; ICE and DTLS completed, yet the browser sent no audio"},
	} {
		tc.m.Leg, tc.m.Kind, tc.m.PacketsSent = "A", "webrtc", 40
		r.SetMedia("web", []LegMedia{tc.m})
		st, _ := r.Story("web")
		if v := st.Verdicts(t0); len(v) != 1 || !strings.HasPrefix(v[0], "one-way audio: nothing received from leg A's peer in 5.0 s") || !strings.Contains(v[0], tc.want) {
			t.Errorf("%+v: verdicts %q", tc.m, v)
		}
	}
	var out strings.Builder
	if st, _ := r.Story("web"); st.Render(&out, t0) != nil || !strings.Contains(out.String(), "    ICE: 3 connectivity checks, pair 127.0.0.1:5000, 0 datagrams refused; DTLS-SRTP up (we are the client)\n") {
		t.Errorf("render lacks the ICE line:\n%s", out.String())
	}
	r.SetMedia("c", []LegMedia{{Leg: "A", Kind: "rtp", PacketsSent: 249, PacketsReceived: 250, Expected: 256, Missing: 6, JitterMs: 2.5, RTTMs: 41.25},
		{Leg: "B", Kind: "rtp", PacketsSent: 1, PacketsReceived: 1, Expected: 1}})
	st, _ = r.Story("c")
	if v := st.Verdicts(t0); len(v) != 0 {
		t.Fatalf("verdict with media both ways: %q", v)
	}
	var b strings.Builder
	if err := st.Render(&b, t0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  leg A (rtp): 249 packets sent, 250 received,", "    from its peer: loss 2.3 % (6 of 256), jitter 2.5 ms, round trip 41.2 ms\n",
		"    from its peer: loss 0.0 % (0 of 1), jitter 0.0 ms, round trip unknown (no RTCP report about our stream)\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("render lacks %q:\n%s", want, b.String())
		}
	}
	// A call shorter than the grace period is no verdict.
	feed(r,
		step{0, true, msg("INVITE sip:2000@h SIP/2.0", "short", "1 INVITE", "")},
		step{10, false, msg("SIP/2.0 200 OK", "short", "1 INVITE", "")},
		step{1000, true, msg("BYE sip:2000@h SIP/2.0", "short", "2 BYE", "")},
	)
	r.SetMedia("short", []LegMedia{{Leg: "A", Kind: "rtp", PacketsSent: 50}})
	if st, _ := r.Story("short"); len(st.Verdicts(t0)) != 0 {
		t.Fatal("a 1 s call judged one-way")
	}
}

// A history file of an older version loads into a new recorder.
func TestLoadLegacyFile(t *testing.T) {
	r := NewRecorder(10)
	for i := 0; i < 4; i++ {
		id := fmt.Sprint("c", i)
		feed(r, step{i, true, msg("INVITE sip:x@h SIP/2.0", id, "1 INVITE", "v=0\r\nm=audio 1 RTP/AVP 0\r\n")})
		r.Link(id, id+"-b")
	}
	r.SetMedia("c3", []LegMedia{{Leg: "A", Kind: "rtp", PacketsSent: 7}})
	var buf strings.Builder
	if err := saveSnapshot(r, &buf); err != nil {
		t.Fatal(err)
	}
	again := NewRecorder(3) // smaller: the oldest saved are left out
	feed(again, step{0, true, msg("INVITE sip:x@h SIP/2.0", "new", "1 INVITE", "")})
	n, err := again.Load(strings.NewReader(buf.String()))
	if err != nil || n != 2 {
		t.Fatalf("Load = %d, %v; want 2", n, err)
	}
	st, ok := again.Story("c3-b")
	if !ok || st.CallID != "c3" || len(st.Entries) != 1 || st.Entries[0].SDP == "" || len(st.Media) != 1 || st.Media[0].PacketsSent != 7 {
		t.Fatalf("loaded story %+v", st)
	}
	if _, ok := again.Story("c1"); ok {
		t.Fatal("c1 loaded beyond the history")
	}
	feed(again, step{0, true, msg("INVITE sip:x@h SIP/2.0", "newer", "1 INVITE", "")})
	if _, ok := again.Story("c2"); ok {
		t.Fatal("the oldest (loaded) story was not the first pushed out")
	}
	if _, err := again.Load(strings.NewReader("{not json")); err == nil {
		t.Fatal("garbage loaded")
	}
}

// saveSnapshot writes r as versions before the call_history table did.
func saveSnapshot(r *Recorder, w io.Writer) error {
	snap := snapshot{Version: snapshotVersion}
	for _, id := range r.order {
		snap.Stories = append(snap.Stories, *r.stories[id])
	}
	return json.NewEncoder(w).Encode(snap)
}
