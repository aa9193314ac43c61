package siptrace

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

const register = "REGISTER sip:example.com;transport=ws SIP/2.0\r\n" +
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks\r\n" +
	"From: \"Alice\" <sip:1001@example.com>;tag=65bnmj.34asd\r\n" +
	"To: <sip:1001@example.com>\r\n" +
	"i: reg-1@df7jal23ls0d.invalid\r\n" +
	"CSeq: 1 REGISTER\r\n" +
	"Content-Length: 0\r\n\r\n"

const ok200 = "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
	"f: <sip:1002@h>;tag=a\r\nt: sip:2000@h;tag=b\r\nCall-ID: c2\r\nCSeq: 7 INVITE\r\n" +
	"Content-Type: application/sdp\r\nl: 4\r\n\r\nv=0\n"

// summary is a Summary's parts as values, for comparing.
type summary struct {
	FirstLine, Method    string
	Status               int
	CallID, FromUser     string
	ToUser, URIUser, Via string
}

func summaryOf(s Summary) summary {
	return summary{FirstLine: s.FirstLine(), Method: s.Method, Status: s.Status, CallID: s.CallID(),
		FromUser: s.FromUser(), ToUser: s.ToUser(), URIUser: s.URIUser(), Via: s.Via}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want summary
	}{
		{register, summary{FirstLine: "REGISTER sip:example.com;transport=ws SIP/2.0", Method: "REGISTER",
			CallID: "reg-1@df7jal23ls0d.invalid", FromUser: "1001", ToUser: "1001", Via: "wss"}},
		{ok200, summary{FirstLine: "SIP/2.0 200 OK", Method: "INVITE", Status: 200, CallID: "c2",
			FromUser: "1002", ToUser: "2000", Via: "udp"}},
		{"INVITE sip:07010002000@h:5060 SIP/2.0\r\n", summary{FirstLine: "INVITE sip:07010002000@h:5060 SIP/2.0",
			Method: "INVITE", URIUser: "07010002000"}},
		{"garbage", summary{FirstLine: "garbage"}},
		{"", summary{}},
		{"SIP/2.0 99999 X\r\nCall-ID:\r\n", summary{FirstLine: "SIP/2.0 99999 X"}},
		{"foo sip:a@b SIP/2.0\r\nVia: SIP/2.0/Quic h\r\nCSeq: 1 foo\r\n", summary{FirstLine: "foo sip:a@b SIP/2.0",
			Method: "FOO", URIUser: "a", Via: "quic"}},
		{"SIP/2.0 486 Busy\r\nv: SIP/2.0/UDP\th\r\ni:  x \r\nCSeq: 2 bye extra\r\n", summary{FirstLine: "SIP/2.0 486 Busy",
			Status: 486, CallID: "x", Via: "udp"}},
	} {
		if got := summaryOf(Summarize([]byte(tc.in))); got != tc.want {
			t.Errorf("Summarize(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

// Summarizing a message allocates nothing (it runs for every message sent
// and received: issue 20).
func TestSummarizeAllocs(t *testing.T) {
	data := []byte(register)
	var s Summary
	if n := testing.AllocsPerRun(100, func() { s = Summarize(data) }); n != 0 {
		t.Errorf("Summarize allocates %v times", n)
	}
	if s.Method != "REGISTER" || !s.HasCallID() {
		t.Errorf("summary %+v", summaryOf(s))
	}
}

// A stream's bytes come in any cut: the framer gives whole messages.
func TestFramerCutsStream(t *testing.T) {
	stream := "\r\n\r\n" + register + ok200 + register
	for size := 1; size <= len(stream); size += 7 {
		fs := newFramers()
		var got []string
		for i := 0; i < len(stream); i += size {
			fs.feed("r", []byte(stream[i:min(i+size, len(stream))]), func(m []byte) { got = append(got, string(m)) })
		}
		if len(got) != 3 || got[0] != register || got[1] != ok200 || got[2] != register {
			t.Fatalf("chunks of %d: got %q", size, got)
		}
	}
}

func TestFramerBounded(t *testing.T) {
	fs := newFramers()
	n := 0
	junk := bytes.Repeat([]byte("x"), 1000)
	for i := 0; i < 100; i++ {
		fs.feed("r", junk, func([]byte) { n++ })
	}
	if n == 0 || len(fs.conns["r"].buf) > maxFramed {
		t.Fatalf("unbounded: %d flushes, %d buffered", n, len(fs.conns["r"].buf))
	}
	fs.forget("r")
	if len(fs.conns) != 0 {
		t.Fatal("not forgotten")
	}
}

// decodeHEP reads the chunks of one HEP v3 packet.
func decodeHEP(t *testing.T, p []byte) map[uint16][]byte {
	t.Helper()
	if string(p[:4]) != "HEP3" || int(binary.BigEndian.Uint16(p[4:])) != len(p) {
		t.Fatalf("bad HEP header % x", p[:6])
	}
	out := map[uint16][]byte{}
	for i := 6; i < len(p); {
		typ, l := binary.BigEndian.Uint16(p[i+2:]), int(binary.BigEndian.Uint16(p[i+4:]))
		if l < 6 || i+l > len(p) {
			t.Fatalf("bad chunk at %d", i)
		}
		out[typ] = p[i+6 : i+l]
		i += l
	}
	return out
}

func TestEncodeHEP(t *testing.T) {
	at := time.Unix(1700000000, 123456000)
	m := Message{Time: at, In: true, Transport: "wss", Local: "127.0.0.1:8443", Remote: "127.0.0.2:40000", Data: []byte(register)}
	c := decodeHEP(t, EncodeHEP(nil, m, 42, "secret", "reg-1"))
	checks := []struct {
		typ  uint16
		want []byte
	}{
		{hepFamily, []byte{2}}, {hepProto, []byte{6}}, {hepSrcIP4, []byte{127, 0, 0, 2}}, {hepDstIP4, []byte{127, 0, 0, 1}},
		{hepSrcPort, []byte{0x9c, 0x40}}, {hepDstPort, []byte{0x20, 0xfb}}, {hepProtoTyp, []byte{1}},
		{hepAgentID, []byte{0, 0, 0, 42}}, {hepAuthKey, []byte("secret")}, {hepCorrID, []byte("reg-1")},
		{hepPayload, []byte(register)}, {hepTimeSec, binary.BigEndian.AppendUint32(nil, 1700000000)},
		{hepTimeUsec, binary.BigEndian.AppendUint32(nil, 123456)},
	}
	for _, ck := range checks {
		if !bytes.Equal(c[ck.typ], ck.want) {
			t.Errorf("chunk %#x = % x, want % x", ck.typ, c[ck.typ], ck.want)
		}
	}
	out := Message{Time: at, Transport: "udp", Local: "[::1]:5060", Remote: "[::1]:5070", Data: []byte(ok200)}
	c = decodeHEP(t, EncodeHEP(nil, out, 1, "", ""))
	if !bytes.Equal(c[hepFamily], []byte{10}) || !bytes.Equal(c[hepProto], []byte{17}) ||
		!bytes.Equal(c[hepSrcPort], []byte{0x13, 0xc4}) || len(c[hepSrcIP6]) != 16 || c[hepAuthKey] != nil {
		t.Errorf("ipv6 udp sent: %v", c)
	}
}

func TestHEPExporterSends(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	e, err := DialHEP(t.Context(), HEPConfig{Address: pc.LocalAddr().String(), ID: 7}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tr := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if tr.Active() {
		t.Fatal("active with no consumer")
	}
	tr.SetHEP(e)
	tr.Trace(Message{Time: time.Now(), In: true, Transport: "udp", Local: "127.0.0.1:5060", Remote: "127.0.0.1:5070", Data: []byte(register)})
	buf := make([]byte, 70000)
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeHEP(t, buf[:n]); string(c[hepCorrID]) != "reg-1@df7jal23ls0d.invalid" || string(c[hepPayload]) != register {
		t.Fatalf("received %v", c)
	}
	if old := tr.SetHEP(nil); old != e {
		t.Fatal("SetHEP did not return the exporter")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e.export(Message{Data: []byte("x")}, "") // after Close: dropped, no panic
}

func TestSubscriptionFilters(t *testing.T) {
	var logged bytes.Buffer
	tr := New(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ext := tr.Subscribe(Filter{Ext: "1001"})
	inv := tr.Subscribe(Filter{Method: "invite"})
	call := tr.Subscribe(Filter{CallID: "c2"})
	tr.SetLogging(true)
	tr.Trace(Message{Time: time.Now(), In: true, Transport: "ws", Guess: true, Local: "127.0.0.1:8443", Remote: "127.0.0.1:1", Data: []byte(register)})
	tr.Trace(Message{Time: time.Now(), Transport: "udp", Local: "127.0.0.1:5060", Remote: "127.0.0.1:2", Data: []byte(ok200)})
	for _, c := range []struct {
		s    *Subscription
		want string
	}{{ext, "recv WSS 127.0.0.1:1 -> 127.0.0.1:8443 call_id=reg-1@df7jal23ls0d.invalid\nREGISTER"},
		{inv, "sent UDP 127.0.0.1:5060 -> 127.0.0.1:2 call_id=c2\nSIP/2.0 200 OK"},
		{call, "call_id=c2\nSIP/2.0 200 OK"}} {
		tr.Unsubscribe(c.s)
		var got []string
		for m := range c.s.C {
			got = append(got, m)
		}
		if len(got) != 1 || !strings.Contains(got[0], c.want) {
			t.Errorf("filter %+v got %q, want one with %q", c.s.filter, got, c.want)
		}
	}
	if !strings.Contains(logged.String(), "call_id=reg-1@df7jal23ls0d.invalid transport=wss") ||
		!strings.Contains(logged.String(), `msg="sip sent" call_id=c2 transport=udp`) {
		t.Errorf("debug log:\n%s", logged.String())
	}
	tr.SetLogging(false)
	if tr.Active() {
		t.Fatal("still active")
	}
}

// A subscriber that does not read loses messages, never blocks the SIP path.
func TestSlowSubscriberDrops(t *testing.T) {
	tr := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s := tr.Subscribe(Filter{})
	for i := 0; i < subQueue+10; i++ {
		tr.Trace(Message{Transport: "udp", Data: []byte(ok200)})
	}
	if s.Dropped() != 10 {
		t.Fatalf("dropped %d, want 10", s.Dropped())
	}
	tr.Unsubscribe(s)
	tr.Unsubscribe(s) // twice: no panic
}
