package webrtcep

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/stream"
)

type discardSink struct{ rate int }

func (d discardSink) WriteFrame([]int16) error { return nil }
func (d discardSink) Rate() int                { return d.rate }
func (d discardSink) String() string           { return "discard" }

// captureWriter is a webrtc.TrackLocalWriter keeping the headers written.
type captureWriter struct {
	mu   sync.Mutex
	keep bool
	hdrs []rtp.Header
	last []byte
}

func (c *captureWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if c.keep {
		c.mu.Lock()
		c.hdrs = append(c.hdrs, *h)
		c.last = append(c.last[:0], payload...)
		c.mu.Unlock()
	}
	return len(payload), nil
}

func (c *captureWriter) Write(b []byte) (int, error) { return len(b), nil }

func (c *captureWriter) headers() []rtp.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]rtp.Header(nil), c.hdrs...)
}

// opusPackets encodes n 20 ms frames of a 1000 Hz tone at 48 kHz.
func opusPackets(tb testing.TB, n int) [][]byte {
	tb.Helper()
	enc, err := opus.NewEncoder(opus.Config{Rate: 48000, FEC: true})
	if err != nil {
		tb.Fatal(err)
	}
	pcm := make([]int16, 960)
	out := make([][]byte, n)
	k := 0
	for i := range out {
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*1000*float64(k)/48000))
			k++
		}
		buf := make([]byte, opus.MaxPayload)
		m, err := enc.Encode(buf, pcm)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = buf[:m]
	}
	return out
}

// fixture is an endpoint without goroutines, negotiated for Opus by hand.
func fixture(tb testing.TB, rate int) *Endpoint {
	tb.Helper()
	f, _ := newEngineFactory(tb, EnginePeerConnection) // the stream behind a pion writer we can capture
	e, err := f.create(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	if err := e.SetRate(rate); err != nil {
		tb.Fatal(err)
	}
	var t stream.PTTable
	t.SetCodec(111, media.CodecOpus)
	t.SetTE(126, g711Rate)
	e.s.SetReceive(t)
	return e
}

// receive runs one decrypted packet through the receive path, as readRTP does.
func receive(e *Endpoint, rl *readLoop, pkt []byte) {
	if e.s.Parse(pkt, &rl.pkt) {
		e.s.Receive(&rl.pkt)
	}
}

// feeder sends Opus packets through the receive path, as they arrive.
type feeder struct {
	e    *Endpoint
	rl   readLoop
	pkts [][]byte
	buf  [maxPacket]byte
	hdr  rtp.Header
	i    int
}

func newFeeder(tb testing.TB, e *Endpoint) *feeder {
	return &feeder{e: e, pkts: opusPackets(tb, 50), hdr: rtp.Header{Version: 2, PayloadType: 111, SSRC: 0xabcd}}
}

// step feeds the next packet, or loses it when drop.
func (f *feeder) step(drop bool) {
	p := f.pkts[f.i%len(f.pkts)]
	f.hdr.SequenceNumber, f.hdr.Timestamp = uint16(f.i), uint32(f.i)*960
	f.i++
	if !drop {
		n, _ := f.hdr.MarshalTo(f.buf[:])
		n += copy(f.buf[n:], p)
		receive(f.e, &f.rl, f.buf[:n])
	}
}

func sendFixture(tb testing.TB, rate int) (*Endpoint, *captureWriter, []int16) {
	tb.Helper()
	e := fixture(tb, rate)
	ch, _ := chooseSend(registeredCodecs())
	w := &captureWriter{}
	e.s.SetSSRC(0x1234)
	e.s.SetSend(ch.send)
	e.tr.w.Store(&writer{w: w})
	bound := true
	e.setSending(nil, &bound)
	pcm := make([]int16, rate/50)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return e, w, pcm
}

func TestNoAllocsPerFrame(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	for _, rate := range []int{8000, 48000} {
		e, _, pcm := sendFixture(t, rate)
		sink := e.AudioSink()
		send := func() {
			if err := sink.WriteFrame(pcm); err != nil {
				t.Fatal(err)
			}
		}
		send()
		if n := testing.AllocsPerRun(200, send); n != 0 {
			t.Errorf("send path at %d Hz: %v allocs per frame", rate, n)
		}
		r := fixture(t, rate)
		r.SetAudioOutput(discardSink{rate: rate})
		fd := newFeeder(t, r)
		for range 5 {
			fd.step(false)
		}
		if n := testing.AllocsPerRun(200, func() { fd.step(false) }); n != 0 {
			t.Errorf("receive path at %d Hz: %v allocs per frame", rate, n)
		}
		if s := r.Stats(); s.Decoded < 200 {
			t.Errorf("decoded %d frames", s.Decoded)
		}
	}
}

func TestFECRecoversLoss(t *testing.T) {
	e := fixture(t, 8000)
	e.SetAudioOutput(discardSink{rate: 8000})
	fd := newFeeder(t, e)
	for i := range 20 {
		fd.step(i == 10)
	}
	s := e.Stats()
	if s.Recovered != 1 || s.Concealed != 0 {
		t.Errorf("recovered %d, concealed %d; want 1 and 0", s.Recovered, s.Concealed)
	}
}

// payloadRecorder takes Opus payloads undecoded.
type payloadRecorder struct {
	discardSink
	n    int
	last []byte
}

func (p *payloadRecorder) Takes(codec media.Codec) bool { return codec == media.CodecOpus }

func (p *payloadRecorder) WritePayload(codec media.Codec, payload []byte) (bool, error) {
	if !p.Takes(codec) {
		return false, nil
	}
	p.n++
	p.last = append(p.last[:0], payload...)
	return true, nil
}

func TestPassthrough(t *testing.T) {
	e := fixture(t, 48000)
	out := &payloadRecorder{discardSink: discardSink{rate: 48000}}
	e.SetAudioOutput(out)
	fd := newFeeder(t, e)
	for range 10 {
		fd.step(false)
	}
	if out.n < 8 || e.Stats().Decoded != 0 {
		t.Errorf("relayed %d, decoded %d", out.n, e.Stats().Decoded)
	}
	if got := e.String(); got != "SRTP(pt=111) -> Opus(passthrough)" {
		t.Errorf("String() = %q", got)
	}
	if string(out.last) != string(fd.pkts[out.n-1]) {
		t.Error("relayed payload differs from the one sent")
	}

	// Our AudioSink takes Opus payloads as they are, 20 ms of clock each.
	e2, w2, _ := sendFixture(t, 48000)
	w2.keep = true
	ps := e2.AudioSink().(media.PayloadSink)
	if took, _ := ps.WritePayload(media.CodecPCMU, []byte{1, 2}); took {
		t.Error("took PCMU while Opus is negotiated")
	}
	for i := range 3 {
		if took, err := ps.WritePayload(media.CodecOpus, fd.pkts[i]); !took || err != nil {
			t.Fatalf("WritePayload: %v %v", took, err)
		}
	}
	h := w2.headers()
	if len(h) != 3 || h[1].Timestamp-h[0].Timestamp != 960 || h[2].SequenceNumber-h[1].SequenceNumber != 1 || h[0].PayloadType != 111 {
		t.Errorf("headers %+v", h)
	}
}

func TestDTMFSharesSSRCAndSequence(t *testing.T) {
	e, w, pcm := sendFixture(t, 48000)
	w.keep = true
	sink := e.AudioSink()
	_ = sink.WriteFrame(pcm)
	if err := e.SendDTMF('#', 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "dtmf sent", func() bool { return e.Stats().DTMFSent == 1 })
	_ = sink.WriteFrame(pcm)
	h := w.headers()
	var events int
	for i, x := range h {
		if x.SSRC != 0x1234 {
			t.Errorf("packet %d: ssrc %x", i, x.SSRC)
		}
		if i > 0 && x.SequenceNumber != h[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: sequence %d after %d", i, x.SequenceNumber, h[i-1].SequenceNumber)
		}
		if x.PayloadType == ptTE48 {
			events++
		}
	}
	if events != 2+3 || h[0].PayloadType != 111 || h[len(h)-1].PayloadType != 111 || !h[1].Marker {
		t.Errorf("%d event packets in %d; first %+v", events, len(h), h[1])
	}
}

func BenchmarkSendFrame(b *testing.B) {
	for _, rate := range []int{8000, 48000} {
		b.Run(fmt.Sprintf("%dk", rate/1000), func(b *testing.B) {
			e, _, pcm := sendFixture(b, rate)
			sink := e.AudioSink()
			b.ReportAllocs()
			for b.Loop() {
				_ = sink.WriteFrame(pcm)
			}
		})
	}
}

func BenchmarkReceiveFrame(b *testing.B) {
	for _, rate := range []int{8000, 48000} {
		b.Run(fmt.Sprintf("%dk", rate/1000), func(b *testing.B) {
			e := fixture(b, rate)
			e.SetAudioOutput(discardSink{rate: rate})
			fd := newFeeder(b, e)
			b.ReportAllocs()
			for b.Loop() {
				fd.step(false)
			}
		})
	}
}

// BenchmarkVideoRelay: one 1000-byte video packet from a browser relayed
// to the other leg (SRTP decrypt, payload type and SSRC rewritten,
// encrypt, sendto on loopback).
func BenchmarkVideoRelay(b *testing.B) {
	p := newRelayPair(b)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: 1, Timestamp: 3000, SSRC: 0xabc}, Payload: make([]byte, 1000)}
	plain, err := pkt.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	sp, err := p.enc.EncryptRTP(nil, plain, nil)
	if err != nil {
		b.Fatal(err)
	}
	// The reader decrypts in place: each round gets a fresh copy.
	buf := make([]byte, len(sp))
	copy(buf, sp)
	p.a.lite.handle(buf, p.from)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, sp)
		p.a.lite.handle(buf, p.from)
	}
	if st := p.b.VideoStats(); st.Sent == 0 {
		b.Fatalf("nothing relayed: %+v", st)
	}
}
