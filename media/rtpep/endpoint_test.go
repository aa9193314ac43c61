package rtpep

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/media"
)

func TestAudioEndToEnd(t *testing.T) {
	tests := []struct {
		codec string
		pt    int
	}{
		{"PCMU", 0},
		{"PCMA", 8},
	}
	for _, tt := range tests {
		t.Run(tt.codec, func(t *testing.T) {
			a := newTestEndpoint(t, Config{Codecs: []string{tt.codec}})
			b := newTestEndpoint(t, Config{})
			connect(t, a, b)
			if a.Codec() != tt.codec || b.Codec() != tt.codec {
				t.Fatalf("codecs %q %q, want %q", a.Codec(), b.Codec(), tt.codec)
			}
			out := &capture{}
			b.SetAudioOutput(out)
			if err := sendTone(context.Background(), a.AudioSink(), 1000, 8000, 60); err != nil {
				t.Fatal(err)
			}
			waitFor(t, time.Second, "audio at B", func() bool { f, _ := out.counts(); return f >= 55 })
			expectTone(t, out, 1000, 8000, 0.95)
			if want := fmt.Sprintf("RTP(pt=%d) -> %s(decode)", tt.pt, tt.codec); b.String() != want {
				t.Errorf("B String() = %q, want %q", b.String(), want)
			}
			if want := fmt.Sprintf("%s(encode) -> RTP(pt=%d)", tt.codec, tt.pt); a.AudioSink().String() != want {
				t.Errorf("A sink String() = %q, want %q", a.AudioSink().String(), want)
			}
			if s := b.Stats(); s.Decoded < 55 || s.Relayed != 0 || s.Stray != 0 {
				t.Errorf("B stats %+v", s)
			}
		})
	}
}

func TestSendPacketFormat(t *testing.T) {
	ctx := context.Background()
	e := newTestEndpoint(t, Config{})
	peer := newRawPeer(t)
	// Frames written before the peer's address is known are dropped.
	if err := e.AudioSink().WriteFrame(make([]int16, 160)); err != nil {
		t.Fatal(err)
	}
	if e.Stats().FramesDropped != 1 {
		t.Fatalf("frame before negotiation not dropped: %+v", e.Stats())
	}
	if _, err := e.Answer(ctx, offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 8", peer.port()))); err != nil {
		t.Fatal(err)
	}
	if err := e.AudioSink().WriteFrame(make([]int16, 100)); !errors.Is(err, ErrFrameSize) {
		t.Fatalf("short frame: %v, want ErrFrameSize", err)
	}
	var hs []rtp.Header
	write := func() {
		if err := e.AudioSink().WriteFrame(make([]int16, 160)); err != nil {
			t.Fatal(err)
		}
		var p rtp.Packet
		b := peer.read(time.Second)
		if b == nil {
			t.Fatal("no packet")
		}
		if err := p.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		if p.PayloadType != 8 || len(p.Payload) != 160 || p.Payload[0] != 0xd5 {
			t.Fatalf("packet pt %d, %d bytes, first %#x", p.PayloadType, len(p.Payload), p.Payload[0])
		}
		hs = append(hs, p.Header)
	}
	write()
	write()
	write()
	time.Sleep(150 * time.Millisecond) // a pause: new talkspurt
	write()
	for i, h := range hs {
		if h.SSRC != hs[0].SSRC {
			t.Errorf("packet %d SSRC changed", i)
		}
		if i > 0 && h.SequenceNumber != hs[i-1].SequenceNumber+1 {
			t.Errorf("packet %d seq %d after %d", i, h.SequenceNumber, hs[i-1].SequenceNumber)
		}
	}
	if !hs[0].Marker || hs[1].Marker || hs[2].Marker || !hs[3].Marker {
		t.Errorf("markers %v %v %v %v, want true false false true", hs[0].Marker, hs[1].Marker, hs[2].Marker, hs[3].Marker)
	}
	if d := hs[1].Timestamp - hs[0].Timestamp; d != 160 {
		t.Errorf("timestamp step %d, want 160", d)
	}
	if d := hs[3].Timestamp - hs[2].Timestamp; d < 5*160 || d%160 != 0 {
		t.Errorf("timestamp after a pause moved %d, want >= 800 in frames", d)
	}
}

func TestHoldAndResume(t *testing.T) {
	ctx := context.Background()
	a := newTestEndpoint(t, Config{})
	b := newTestEndpoint(t, Config{})
	connect(t, a, b)
	port := fmt.Sprintf("m=audio %d ", b.LocalAddr().Port)
	outA, outB := &capture{}, &capture{}
	a.SetAudioOutput(outA)
	b.SetAudioOutput(outB)

	holds := []struct {
		name    string
		rewrite func(string) string
	}{
		{"sendonly", func(s string) string { return strings.Replace(s, "a=sendrecv", "a=sendonly", 1) }},
		{"c=0.0.0.0", func(s string) string { return strings.Replace(s, "c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0", 1) }},
	}
	for _, h := range holds {
		t.Run(h.name, func(t *testing.T) {
			offer, err := a.Offer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			answer, err := b.Answer(ctx, []byte(h.rewrite(string(offer))))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(answer), "a=recvonly\r\n") || !strings.Contains(string(answer), port) {
				t.Fatalf("hold answer:\n%s", answer)
			}
			if err := a.Accept(ctx, answer); err != nil {
				t.Fatal(err)
			}
			// B on hold sends nothing ...
			sent := b.Stats().PacketsSent
			if err := sendTone(ctx, b.AudioSink(), 1000, 8000, 5); err != nil {
				t.Fatal(err)
			}
			if got := b.Stats().PacketsSent; got != sent {
				t.Errorf("B sent %d packets on hold", got-sent)
			}
			// ... while A keeps sending to B.
			before, _ := outB.counts()
			if err := sendTone(ctx, a.AudioSink(), 1000, 8000, 10); err != nil {
				t.Fatal(err)
			}
			waitFor(t, time.Second, "audio at B during hold", func() bool { f, _ := outB.counts(); return f > before+5 })

			// Resume with a plain re-offer: B sends again, same port.
			offer, err = a.Offer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			answer, err = b.Answer(ctx, offer)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(answer), "a=sendrecv\r\n") || !strings.Contains(string(answer), port) {
				t.Fatalf("resume answer:\n%s", answer)
			}
			if err := a.Accept(ctx, answer); err != nil {
				t.Fatal(err)
			}
			beforeA, _ := outA.counts()
			if err := sendTone(ctx, b.AudioSink(), 1000, 8000, 10); err != nil {
				t.Fatal(err)
			}
			waitFor(t, time.Second, "audio at A after resume", func() bool { f, _ := outA.counts(); return f > beforeA+5 })
		})
	}
}

func TestLatching(t *testing.T) {
	ctx := context.Background()
	e := newTestEndpoint(t, Config{})
	sdpSock, srcSock := newRawPeer(t), newRawPeer(t)
	if _, err := e.Answer(ctx, offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 0", sdpSock.port()))); err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	// Before the peer sends, we send to the SDP address.
	if err := e.AudioSink().WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	if sdpSock.read(time.Second) == nil {
		t.Fatal("nothing sent to the SDP address")
	}
	// The peer's packets come from another port (NAT): latch onto it.
	pkt := rtpPacket(0, 1, 1000, 0x1234, make([]byte, 160))
	if _, err := srcSock.conn.WriteToUDPAddrPort(pkt, e.local); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "packet received", func() bool { return e.Stats().PacketsReceived == 1 })
	if err := e.AudioSink().WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	if srcSock.read(time.Second) == nil {
		t.Fatal("nothing sent to the latched source")
	}
	if sdpSock.read(100*time.Millisecond) != nil {
		t.Fatal("still sending to the SDP address after latching")
	}
	// Packets from the SDP's own address are preferred once they come.
	if _, err := sdpSock.conn.WriteToUDPAddrPort(rtpPacket(0, 2, 1160, 0x1234, make([]byte, 160)), e.local); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "packet from the SDP address", func() bool { return e.Stats().PacketsReceived == 2 })
	if err := e.AudioSink().WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	if sdpSock.read(time.Second) == nil {
		t.Fatal("nothing sent to the SDP address once it sent")
	}
	// The NAT port, still sending, no longer counts: it is not silent
	// long enough to take over again.
	if _, err := srcSock.conn.WriteToUDPAddrPort(rtpPacket(0, 3, 1320, 0x1234, make([]byte, 160)), e.local); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "stray packet counted", func() bool { return e.Stats().Stray == 1 })
	if got := e.Stats().PacketsReceived; got != 2 {
		t.Errorf("PacketsReceived = %d, want 2", got)
	}
	// A re-offer with a new address drops the latch.
	other := newRawPeer(t)
	if _, err := e.Answer(ctx, offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 0", other.port()))); err != nil {
		t.Fatal(err)
	}
	if err := e.AudioSink().WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	if other.read(time.Second) == nil {
		t.Fatal("nothing sent to the new SDP address")
	}
}

// rtpPacket builds an RTP packet.
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		panic(err) // test helper with fixed inputs
	}
	return b
}

func TestDTMFEndToEnd(t *testing.T) {
	a := newTestEndpoint(t, Config{})
	b := newTestEndpoint(t, Config{})
	if err := a.SendDTMF('1', 0); !errors.Is(err, ErrNoTelephoneEvent) {
		t.Fatalf("before negotiation: %v, want ErrNoTelephoneEvent", err)
	}
	connect(t, a, b)
	if err := a.SendDTMF('x', 0); !errors.Is(err, ErrBadDigit) {
		t.Fatalf("bad digit: %v", err)
	}
	// Audio flows meanwhile and is suppressed while events play.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sendTone(ctx, a.AudioSink(), 1000, 8000, 100) })
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(60 * time.Millisecond)
	digits := []struct {
		r rune
		d time.Duration
	}{{'5', 120 * time.Millisecond}, {'#', 60 * time.Millisecond}, {'D', 0}}
	for _, d := range digits {
		if err := a.SendDTMF(d.r, d.d); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range digits {
		select {
		case ev := <-b.Events():
			if ev.Kind != media.EventDTMF || ev.Digit != want.r {
				t.Fatalf("event %+v, want digit %q", ev, want.r)
			}
			wd := want.d
			if wd == 0 {
				wd = media.DTMFDefault
			}
			if ev.Duration != wd {
				t.Errorf("digit %q duration %v, want %v", ev.Digit, ev.Duration, wd)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no event for %q", want.r)
		}
	}
	select {
	case ev := <-b.Events():
		t.Fatalf("extra event %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
	if s := a.Stats(); s.DTMFSent != 3 || s.FramesDropped == 0 {
		t.Errorf("A stats: DTMFSent %d, FramesDropped %d", s.DTMFSent, s.FramesDropped)
	}
}

func TestDTMFDetector(t *testing.T) {
	type pkt struct {
		ts  uint32
		ev  uint8
		end bool
		dur uint16
	}
	tests := []struct {
		name string
		pkts []pkt
		want string
	}{
		{"one digit, three ends", []pkt{{100, 5, false, 400}, {100, 5, false, 800}, {100, 5, true, 960}, {100, 5, true, 960}, {100, 5, true, 960}}, "5/120ms"},
		{"only end packets", []pkt{{100, 11, true, 800}, {100, 11, true, 800}}, "#/100ms"},
		{"same digit twice", []pkt{{100, 1, true, 400}, {100, 1, true, 400}, {2000, 1, true, 400}}, "1/50ms 1/50ms"},
		{"lost end packets", []pkt{{100, 2, false, 400}, {100, 2, false, 800}, {3000, 3, true, 400}}, "2/100ms 3/50ms"},
		{"late packet of an old event", []pkt{{100, 4, true, 400}, {3000, 6, false, 400}, {100, 4, true, 400}, {3000, 6, true, 800}}, "4/50ms 6/100ms"},
		{"flash is not a digit", []pkt{{100, 16, true, 800}}, ""},
		{"star and letter", []pkt{{100, 10, true, 400}, {500, 15, true, 400}}, "*/50ms D/50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d media.DTMFDetector
			var out [2]media.Event
			var got []string
			for _, p := range tt.pkts {
				n := d.Feed(p.ts, media.DTMFEvent{Event: p.ev, End: p.end, Duration: p.dur}, g711Clock, 0, &out)
				for _, ev := range out[:n] {
					got = append(got, fmt.Sprintf("%c/%v", ev.Digit, ev.Duration))
				}
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Fatalf("got %q, want %q", g, tt.want)
			}
		})
	}
	// An event whose end never comes is reported after media.DTMFExpiry.
	var d media.DTMFDetector
	var out [2]media.Event
	d.Feed(100, media.DTMFEvent{Event: 7, Duration: 400}, g711Clock, time.Second, &out)
	if n := d.Expire(time.Second+media.DTMFExpiry/2, &out); n != 0 {
		t.Fatal("expired early")
	}
	if n := d.Expire(2*time.Second+time.Millisecond, &out); n != 1 || out[0].Digit != '7' {
		t.Fatalf("expire: n=%d %+v", n, out[0])
	}
	if n := d.Expire(5*time.Second, &out); n != 0 {
		t.Fatal("expired twice")
	}
}

// impairingProxy relays UDP between a and b, dropping and reordering
// packets from a to b.
type impairingProxy struct {
	conn *net.UDPConn
	wg   sync.WaitGroup
}

func newImpairingProxy(t *testing.T, a, b netip.AddrPort, dropEvery, swapEvery int) *impairingProxy {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(testIP+":0")))
	if err != nil {
		t.Fatal(err)
	}
	p := &impairingProxy{conn: c}
	p.wg.Go(func() {
		buf := make([]byte, 2048)
		var held []byte
		for i := 0; ; {
			n, src, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if src != a {
				_, _ = c.WriteToUDPAddrPort(buf[:n], a)
				continue
			}
			i++
			switch {
			case i%dropEvery == 0:
				continue
			case i%swapEvery == 0 && held == nil:
				held = append([]byte(nil), buf[:n]...)
				continue
			}
			_, _ = c.WriteToUDPAddrPort(buf[:n], b)
			if held != nil {
				_, _ = c.WriteToUDPAddrPort(held, b)
				held = nil
			}
		}
	})
	t.Cleanup(func() { _ = c.Close(); p.wg.Wait() })
	return p
}

func (p *impairingProxy) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func TestLossAndReorder(t *testing.T) {
	ctx := context.Background()
	a := newTestEndpoint(t, Config{})
	b := newTestEndpoint(t, Config{})
	offer, err := a.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := b.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newImpairingProxy(t, a.local, b.local, 10, 7)
	answer = []byte(strings.Replace(string(answer),
		fmt.Sprintf("m=audio %d ", b.LocalAddr().Port), fmt.Sprintf("m=audio %d ", proxy.port()), 1))
	if err := a.Accept(ctx, answer); err != nil {
		t.Fatal(err)
	}
	out := &capture{}
	b.SetAudioOutput(out)
	if err := sendTone(ctx, a.AudioSink(), 1000, 8000, 100); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "audio at B", func() bool { f, _ := out.counts(); return f >= 90 })
	expectTone(t, out, 1000, 8000, 0.7)
	s := b.Stats()
	t.Logf("B: received %d, concealed %d, jitter %+v", s.PacketsReceived, s.Concealed, s.Jitter)
	if s.Concealed == 0 || s.Jitter.Lost == 0 {
		t.Errorf("loss not concealed: %+v", s)
	}
	if s.Jitter.Late > 2 {
		t.Errorf("reordered packets dropped as late: %d", s.Jitter.Late)
	}
}

func TestRTPTimeout(t *testing.T) {
	a := newTestEndpoint(t, Config{})
	b := newTestEndpoint(t, Config{RTPTimeout: 200 * time.Millisecond})
	connect(t, a, b)
	// No media yet: no timeout.
	select {
	case ev := <-b.Events():
		t.Fatalf("event before media: %+v", ev)
	case <-time.After(400 * time.Millisecond):
	}
	start := time.Now()
	if err := sendTone(context.Background(), a.AudioSink(), 1000, 8000, 5); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-b.Events():
		if ev.Kind != media.EventTimeout {
			t.Fatalf("event %+v, want timeout", ev)
		}
		// sendTone paces its frames, so the last of 5 leaves no sooner
		// than 4 frames after start (a loaded machine only delays it, so
		// this bound, unlike one taken when sendTone returns, holds under
		// load); the timeout comes 200 ms after it, less a frame of slack.
		if d := time.Since(start); d < 4*media.FrameDuration+200*time.Millisecond-media.FrameDuration {
			t.Errorf("timeout %v after the first packet, want >= 260ms (last packet + 200ms)", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no timeout event")
	}
	select {
	case ev := <-b.Events():
		t.Fatalf("second event %+v", ev)
	case <-time.After(500 * time.Millisecond):
	}
}

func TestPassthrough(t *testing.T) {
	tests := []struct {
		name     string
		farCodec string // codec between C and D
		mode     string
	}{
		{"same codec relays payloads", "PCMU", "passthrough"},
		{"other codec decodes", "PCMA", "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestEndpoint(t, Config{Codecs: []string{"PCMU"}})
			b := newTestEndpoint(t, Config{})
			c := newTestEndpoint(t, Config{})
			d := newTestEndpoint(t, Config{Codecs: []string{tt.farCodec}})
			connect(t, a, b)
			connect(t, d, c)
			b.SetAudioOutput(c.AudioSink())
			out := &capture{}
			d.SetAudioOutput(out)
			if err := sendTone(context.Background(), a.AudioSink(), 1000, 8000, 60); err != nil {
				t.Fatal(err)
			}
			waitFor(t, time.Second, "audio at D", func() bool { f, _ := out.counts(); return f >= 50 })
			expectTone(t, out, 1000, 8000, 0.95)
			if want := "RTP(pt=0) -> PCMU(" + tt.mode + ")"; b.String() != want {
				t.Errorf("B String() = %q, want %q", b.String(), want)
			}
			s := b.Stats()
			if tt.mode == "passthrough" && (s.Relayed < 50 || s.Decoded != 0) {
				t.Errorf("relay: Relayed %d, Decoded %d", s.Relayed, s.Decoded)
			}
			if tt.mode == "decode" && (s.Relayed != 0 || s.Decoded < 50) {
				t.Errorf("decode: Relayed %d, Decoded %d", s.Relayed, s.Decoded)
			}
		})
	}
}

func TestPayloadSinkOutput(t *testing.T) {
	a := newTestEndpoint(t, Config{})
	b := newTestEndpoint(t, Config{})
	connect(t, a, b)
	out := &payloadCapture{capture: capture{codec: "PCMU"}}
	b.SetAudioOutput(out)
	if err := sendTone(context.Background(), a.AudioSink(), 1000, 8000, 20); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "payloads", func() bool { _, p := out.counts(); return p >= 15 })
	if f, _ := out.counts(); f != 0 {
		t.Errorf("%d frames decoded for a sink taking PCMU payloads", f)
	}
	// A's sink takes PCMU payloads as they are, not PCMA.
	if ok, err := a.AudioSink().(media.PayloadSink).WritePayload(media.CodecPCMA, make([]byte, 160)); ok || err != nil {
		t.Errorf("WritePayload(PCMA) = %v, %v", ok, err)
	}
	if ok, err := a.AudioSink().(media.PayloadSink).WritePayload(media.CodecPCMU, make([]byte, 160)); !ok || err != nil {
		t.Errorf("WritePayload(pcmu) = %v, %v", ok, err)
	}
}

// TestReceivePath drives the receive path of an endpoint without its
// goroutines: SSRC change, sequence wrap and 30 ms packets.
func TestReceivePath(t *testing.T) {
	e, err := newEndpoint(Config{IP: testIP}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Close() }()
	if _, err := e.Answer(context.Background(), offerSDP(testIP, "m=audio 4000 RTP/AVP 0")); err != nil {
		t.Fatal(err)
	}
	out := &capture{}
	e.SetAudioOutput(out)
	src := netip.MustParseAddrPort(testIP + ":4000")
	payload := make([]byte, 160)
	feed := func(ssrc uint32, seq uint16, n int) {
		for i := range n {
			e.handleRTP(rtpPacket(0, seq+uint16(i), uint32(i)*160, ssrc, payload), src)
		}
	}
	feed(1, 100, 10)
	feed(2, 40000, 10) // new SSRC, unrelated sequence numbers
	feed(2, 40010, 0)
	feed(3, 65530, 12) // wraps
	s := e.Stats()
	if s.Jitter.Late != 0 || s.Jitter.Lost != 0 || s.Jitter.Dropped != 0 {
		t.Errorf("jitter %+v", s.Jitter)
	}
	// Every packet is decoded and written out when it arrives; a stream
	// that stops is not concealed.
	if f, _ := out.counts(); f != 32 || s.Decoded != 32 || s.Concealed != 0 {
		t.Errorf("frames out %d, decoded %d, concealed %d; want 32, 32, 0", f, s.Decoded, s.Concealed)
	}

	// A peer sending 30 ms packets: 240 samples come out as 20 ms frames.
	out30 := &capture{}
	e.SetAudioOutput(out30)
	big := make([]byte, 240)
	for i := range 20 {
		e.handleRTP(rtpPacket(0, uint16(i), uint32(i)*240, 4, big), src)
	}
	if f, _ := out30.counts(); f != 30 {
		t.Errorf("30 ms packets: %d frames out of 600 ms, want 30", f)
	}
	if n := len(out30.samples()); n%160 != 0 {
		t.Errorf("%d samples is not whole frames", n)
	}
}

func TestRTCP(t *testing.T) {
	start := func() *Endpoint {
		e, err := newEndpoint(Config{IP: testIP}, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.srInterval = 100 * time.Millisecond
		e.start()
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	a, b := start(), start()
	connect(t, a, b)
	if err := sendTone(context.Background(), a.AudioSink(), 1000, 8000, 20); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "RTCP at B", func() bool { return b.Stats().RTCPReceived > 0 })
	if a.Stats().RTCPSent == 0 {
		t.Error("A sent no sender report")
	}
	if b.Stats().RTCPSent != 0 {
		t.Error("B sent a sender report without sending RTP")
	}
}

func TestClose(t *testing.T) {
	pool := testPool(t, 2)
	e, err := New(Config{IP: testIP, Ports: pool}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pool.InUse() != 1 {
		t.Fatalf("InUse = %d", pool.InUse())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if pool.InUse() != 0 {
		t.Fatalf("port not released: InUse = %d", pool.InUse())
	}
	if _, ok := <-e.Events(); ok {
		t.Fatal("Events not closed")
	}
	if _, err := e.Offer(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Offer after Close: %v", err)
	}
	if err := e.AudioSink().WriteFrame(make([]int16, 160)); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteFrame after Close: %v", err)
	}
	if err := e.SendDTMF('1', 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("SendDTMF after Close: %v", err)
	}
}

func TestIPv6(t *testing.T) {
	if c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
		t.Skip("no IPv6 loopback")
	} else {
		_ = c.Close()
	}
	a := newTestEndpoint(t, Config{IP: "::1"})
	b := newTestEndpoint(t, Config{IP: "::1"})
	offer, err := a.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(offer), "c=IN IP6 ::1\r\n") {
		t.Fatalf("offer:\n%s", offer)
	}
	connect(t, a, b)
	out := &capture{}
	b.SetAudioOutput(out)
	if err := sendTone(context.Background(), a.AudioSink(), 1000, 8000, 40); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "audio over IPv6", func() bool { f, _ := out.counts(); return f >= 35 })
}

func TestDTMFPacketFormat(t *testing.T) {
	e := newTestEndpoint(t, Config{})
	peer := newRawPeer(t)
	offer := offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 0 96", peer.port()), "a=rtpmap:96 telephone-event/8000")
	if _, err := e.Answer(context.Background(), offer); err != nil {
		t.Fatal(err)
	}
	if err := e.SendDTMF('7', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var pkts []rtp.Packet
	for ends := 0; ends < 3; {
		b := peer.read(time.Second)
		if b == nil {
			t.Fatalf("got %d packets, then nothing", len(pkts))
		}
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
		if ev, err := media.ParseDTMF(p.Payload); err == nil && ev.End {
			ends++
		}
	}
	var lastDur uint16
	for i, p := range pkts {
		ev, err := media.ParseDTMF(p.Payload)
		if err != nil || p.PayloadType != 96 || ev.Event != 7 || ev.Volume != media.DTMFVolume {
			t.Fatalf("packet %d: pt %d %+v %v", i, p.PayloadType, ev, err)
		}
		if p.Marker != (i == 0) {
			t.Errorf("packet %d marker %v", i, p.Marker)
		}
		if p.Timestamp != pkts[0].Timestamp || p.SSRC != pkts[0].SSRC {
			t.Errorf("packet %d timestamp/SSRC changed", i)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Errorf("packet %d seq %d after %d", i, p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
		if ev.Duration < lastDur {
			t.Errorf("packet %d duration went back", i)
		}
		lastDur = ev.Duration
	}
	if len(pkts) != 5 || lastDur != 800 {
		t.Errorf("%d packets, final duration %d; want 2 updates + 3 ends, 800", len(pkts), lastDur)
	}
}
