package rtpep

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
)

type discardSink struct{}

func (discardSink) WriteFrame([]int16) error { return nil }
func (discardSink) Rate() int                { return 8000 }
func (discardSink) String() string           { return "discard" }

// sendFixture is an endpoint without goroutines sending PCMU to a socket
// nobody reads (the kernel drops what overflows).
func sendFixture(tb testing.TB) (*Endpoint, func()) {
	tb.Helper()
	e, err := newEndpoint(Config{IP: testIP}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	peer := newRawPeer(tb)
	if _, err := e.Answer(context.Background(), offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 0", peer.port()))); err != nil {
		tb.Fatal(err)
	}
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
// each step sends one PCMU packet, reads it on the endpoint's socket,
// handles it and runs one playout tick.
func receiveFixture(tb testing.TB) (*Endpoint, func()) {
	tb.Helper()
	e, err := newEndpoint(Config{IP: testIP}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	peer := newRawPeer(tb)
	if _, err := e.Answer(context.Background(), offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 0", peer.port()))); err != nil {
		tb.Fatal(err)
	}
	e.SetAudioOutput(discardSink{})
	pkt := rtpPacket(0, 0, 0, 0xabcd, make([]byte, 160))
	var seq uint16
	return e, func() {
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
		seq++
		if _, err := peer.conn.WriteToUDPAddrPort(pkt, e.local); err != nil {
			tb.Fatal(err)
		}
		n, src, err := e.rtpConn.ReadFromUDPAddrPort(e.rl.buf[:])
		if err != nil {
			tb.Fatal(err)
		}
		e.handleRTP(e.rl.buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
		e.playout()
	}
}

func TestNoAllocsPerFrame(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	_, send := sendFixture(t)
	send()
	if n := testing.AllocsPerRun(500, send); n != 0 {
		t.Errorf("send path: %v allocs per frame", n)
	}
	e, recv := receiveFixture(t)
	recv()
	if n := testing.AllocsPerRun(500, recv); n != 0 {
		t.Errorf("receive path: %v allocs per frame", n)
	}
	if s := e.Stats(); s.Decoded < 500 {
		t.Errorf("decoded %d frames", s.Decoded)
	}
}

func BenchmarkSendFrame(b *testing.B) {
	_, send := sendFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		send()
	}
}

func BenchmarkReceiveFrame(b *testing.B) {
	_, recv := receiveFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		recv()
	}
}

// BenchmarkReceivePacket is the receive path without the socket:
// parse, jitter buffer, decode and output.
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
		e.playout()
	}
}
