package rtpep

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/softswitch/softswitch/codecs/opus"
)

type discardSink struct{}

func (discardSink) WriteFrame([]int16) error { return nil }
func (discardSink) Rate() int                { return 8000 }
func (discardSink) String() string           { return "discard" }

// fixtureCodecs are the codecs the allocation tests and benchmarks run.
var fixtureCodecs = []string{"PCMU", "opus"}

// fixtureEndpoint is an endpoint without goroutines that answered a
// peer's offer of codec (PCMU or opus, at PT 0 or 96) from port.
func fixtureEndpoint(tb testing.TB, codec string, port int) *Endpoint {
	tb.Helper()
	e, err := newEndpoint(Config{IP: testIP, Codecs: []string{codec}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	offer := offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 0 96", port), "a=rtpmap:96 opus/48000/2")
	if _, err := e.Answer(context.Background(), offer); err != nil {
		tb.Fatal(err)
	}
	return e
}

// fixturePacket is one RTP packet of a 20 ms frame of codec as the
// fixture's peer sends it, and its timestamp step.
func fixturePacket(tb testing.TB, codec string) ([]byte, uint32) {
	tb.Helper()
	if codec != "opus" {
		return rtpPacket(0, 0, 0, 0xabcd, make([]byte, 160)), 160
	}
	enc, err := opus.NewEncoder(opus.Config{Rate: 8000})
	if err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, opus.MaxPayload)
	n, err := enc.Encode(buf, sine(8000, 1000, 8000, 0, 160))
	if err != nil {
		tb.Fatal(err)
	}
	return rtpPacket(96, 0, 0, 0xabcd, buf[:n]), 960
}

// sendFixture is an endpoint without goroutines sending codec to a
// socket nobody reads (the kernel drops what overflows).
func sendFixture(tb testing.TB, codec string) (*Endpoint, func()) {
	tb.Helper()
	e := fixtureEndpoint(tb, codec, newRawPeer(tb).port())
	sink := e.AudioSink()
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i * 100)
	}
	return e, func() {
		if err := sink.WriteFrame(pcm); err != nil {
			tb.Fatal(err)
		}
	}
}

// receiveFixture is an endpoint without goroutines and a client socket:
// each step sends one packet of codec, reads it on the endpoint's socket,
// handles it: decoded and written out on arrival.
func receiveFixture(tb testing.TB, codec string) (*Endpoint, func()) {
	tb.Helper()
	peer := newRawPeer(tb)
	e := fixtureEndpoint(tb, codec, peer.port())
	e.SetAudioOutput(discardSink{})
	pkt, step := fixturePacket(tb, codec)
	var seq uint16
	rc, err := e.rtpConn.SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	got := 0 // the reader's own path: wait for the socket, drain it
	read := func(fd uintptr) bool {
		n, _ := e.rtpReader.Drain(int(fd))
		got += n
		return got > 0
	}
	return e, func() {
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*step)
		seq++
		if _, err := peer.conn.WriteToUDPAddrPort(pkt, e.local); err != nil {
			tb.Fatal(err)
		}
		got = 0
		if err := rc.Read(read); err != nil || got != 1 {
			tb.Fatalf("read %d packets (%v), want 1", got, err)
		}
	}
}

func TestNoAllocsPerFrame(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	for _, codec := range fixtureCodecs {
		t.Run(codec, func(t *testing.T) {
			_, send := sendFixture(t, codec)
			send()
			if n := testing.AllocsPerRun(500, send); n != 0 {
				t.Errorf("send path: %v allocs per frame", n)
			}
			e, recv := receiveFixture(t, codec)
			recv()
			if n := testing.AllocsPerRun(500, recv); n != 0 {
				t.Errorf("receive path: %v allocs per frame", n)
			}
			if s := e.Stats(); s.Decoded < 500 || s.OutputErrors != 0 {
				t.Errorf("decoded %d frames, %d output errors", s.Decoded, s.OutputErrors)
			}
		})
	}
}

func BenchmarkSendFrame(b *testing.B)    { benchPerCodec(b, sendFixture) }
func BenchmarkReceiveFrame(b *testing.B) { benchPerCodec(b, receiveFixture) }

// benchPerCodec runs the steps of fixture for each of fixtureCodecs.
func benchPerCodec(b *testing.B, fixture func(testing.TB, string) (*Endpoint, func())) {
	for _, codec := range fixtureCodecs {
		b.Run(codec, func(b *testing.B) {
			_, step := fixture(b, codec)
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
		})
	}
}

// BenchmarkReceivePacket is the receive path without the socket:
// parse, reorder buffer, decode and output on arrival.
func BenchmarkReceivePacket(b *testing.B) {
	e, err := newEndpoint(Config{IP: testIP}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = e.Close() }()
	if _, err := e.Answer(context.Background(), offerSDP(testIP, "m=audio 4000 RTP/AVP 0")); err != nil {
		b.Fatal(err)
	}
	e.SetAudioOutput(discardSink{})
	src := netip.MustParseAddrPort(testIP + ":4000")
	pkt := rtpPacket(0, 0, 0, 0xabcd, make([]byte, 160))
	var seq uint16
	b.ReportAllocs()
	for b.Loop() {
		binary.BigEndian.PutUint16(pkt[2:], seq)
		seq++
		e.handleRTP(pkt, src)
	}
}

// BenchmarkStrayPacket is what a third party spraying a call's port
// costs per packet: parsed, refused by the latch rules, counted.
func BenchmarkStrayPacket(b *testing.B) {
	e, err := newEndpoint(Config{IP: testIP}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = e.Close() }()
	if _, err := e.Answer(context.Background(), offerSDP(testIP, "m=audio 4000 RTP/AVP 0")); err != nil {
		b.Fatal(err)
	}
	e.SetAudioOutput(discardSink{})
	stranger := netip.MustParseAddrPort("127.0.0.2:5000")
	pkt := rtpPacket(0, 0, 0, 0xbad, make([]byte, 160))
	b.ReportAllocs()
	for b.Loop() {
		e.handleRTP(pkt, stranger)
	}
	if e.Stats().PacketsReceived != 0 {
		b.Fatal("a stranger's packet was accepted")
	}
}
