package mediatest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs"
	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/media/rtpep"
)

// Peer is the far end of an endpoint under test, on its transport.
type Peer interface {
	// WriteRTP sends one packet; the peer sets the version, SSRC and
	// sequence number (one space for audio and events).
	WriteRTP(h *rtp.Header, payload []byte) error
	// ReadRTP returns the next packet the endpoint sent, or an error
	// after d.
	ReadRTP(d time.Duration) (rtp.Packet, error)
}

// Call is an endpoint negotiated with its peer.
type Call struct {
	EP    media.Endpoint
	Peer  Peer
	Codec media.Codec // what both send
	PT    uint8       // the codec's payload type, both ways
	TEPT  uint8       // telephone-event at the codec's clock, both ways
}

// Setup makes a fresh call for one check.
type Setup func(t *testing.T) Call

// Run runs every check of the suite, each on a call of its own.
func Run(t *testing.T, setup Setup) {
	t.Run("audio from the peer", func(t *testing.T) { audioIn(t, setup(t)) })
	t.Run("audio to the peer", func(t *testing.T) { audioOut(t, setup(t)) })
	t.Run("dtmf from the peer", func(t *testing.T) { dtmfIn(t, setup(t)) })
	t.Run("dtmf to the peer", func(t *testing.T) { dtmfOut(t, setup(t)) })
	t.Run("latency bridged to a phone", func(t *testing.T) { latency(t, setup(t)) })
}

const (
	amp     = 8000.0 // a sine's RMS: -15.3 dBFS
	toneDB  = -15.3
	maxWait = 3 * time.Second
)

// coder encodes and decodes a call's codec at the PCM rate of its
// sink, as the peer would (Opus at 48 kHz whatever we run at).
type coder struct {
	enc      codecs.Encoder
	dec      codecs.Decoder
	rate     int    // PCM rate of the peer's frames
	ticks    uint32 // RTP clock per 20 ms
	maxFrame int
}

func newCoder(t *testing.T, c media.Codec) coder {
	t.Helper()
	if c == media.CodecOpus {
		enc, err := opus.NewEncoder(opus.Config{FEC: true})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := opus.NewDecoder(opus.Config{Channels: 2})
		if err != nil {
			t.Fatal(err)
		}
		return coder{enc: enc, dec: dec, rate: 48000, ticks: 960, maxFrame: 5760}
	}
	enc, err := g711.NewEncoder(c.String())
	if err != nil {
		t.Fatal(err)
	}
	dec, err := g711.NewDecoder(c.String())
	if err != nil {
		t.Fatal(err)
	}
	return coder{enc: enc, dec: dec, rate: 8000, ticks: 160, maxFrame: 1500}
}

// tone fills pcm with frame i of freq Hz at rate, silent before start.
func tone(pcm []int16, rate, i, start int, freq float64) {
	for j := range pcm {
		pcm[j] = 0
		if i >= start {
			pcm[j] = int16(amp * math.Sin(2*math.Pi*freq*float64((i-start)*len(pcm)+j)/float64(rate)))
		}
	}
}

// sendTone sends frames of freq Hz from the peer every 20 ms, silent
// before frame start, and returns when frame start went out.
func sendTone(t *testing.T, c Call, k coder, frames, start int, freq float64) time.Time {
	t.Helper()
	pcm := make([]int16, k.rate/50)
	buf := make([]byte, 1500)
	h := rtp.Header{PayloadType: c.PT, Marker: true, Timestamp: 7000}
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	var at time.Time
	for i := range frames {
		tone(pcm, k.rate, i, start, freq)
		n, err := k.enc.Encode(buf, pcm)
		if err != nil {
			t.Fatal(err)
		}
		if i == start {
			at = time.Now()
		}
		if err := c.Peer.WriteRTP(&h, buf[:n]); err != nil {
			t.Fatalf("peer send: %v", err)
		}
		h.Marker = false
		h.Timestamp += k.ticks
		<-tk.C
	}
	return at
}

// feed writes frames of freq Hz into sink every 20 ms, silent before
// frame start, and returns when frame start was written.
func feed(t *testing.T, sink media.Sink, frames, start int, freq float64) time.Time {
	t.Helper()
	rate := sink.Rate()
	pcm := make([]int16, rate/50)
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	var at time.Time
	for i := range frames {
		tone(pcm, rate, i, start, freq)
		if i == start {
			at = time.Now()
		}
		if err := sink.WriteFrame(pcm); err != nil {
			t.Fatalf("write frame: %v", err)
		}
		<-tk.C
	}
	return at
}

// expectTone checks pcm (after its first quarter) is freq Hz at the
// suite's level.
func expectTone(t *testing.T, what string, pcm []int16, rate int, freq float64) {
	t.Helper()
	if len(pcm) < rate/2 {
		t.Fatalf("%s: %d samples, want at least 0.5 s", what, len(pcm))
	}
	pcm = pcm[len(pcm)/4:]
	f := audiotest.DominantFrequency(pcm, rate, 100, 3500, 5)
	db := audiotest.RMSdBFS(pcm)
	t.Logf("%s: %.0f Hz at %.1f dBFS", what, f, db)
	if math.Abs(f-freq) > 15 || math.Abs(db-toneDB) > 3 {
		t.Errorf("%s: %.0f Hz at %.1f dBFS, want %.0f Hz at %.1f", what, f, db, freq, toneDB)
	}
}

func audioIn(t *testing.T, c Call) {
	k := newCoder(t, c.Codec)
	rate := c.EP.AudioSink().Rate()
	rec := audiotest.NewRecorder(rate)
	c.EP.SetAudioOutput(rec)
	sendTone(t, c, k, 50, 0, 1000)
	waitFor(t, "audio at the endpoint", func() bool { return rec.Frames() >= 45 })
	expectTone(t, "peer -> endpoint", rec.PCM(), rate, 1000)
}

func audioOut(t *testing.T, c Call) {
	k := newCoder(t, c.Codec)
	done := make(chan time.Time, 1)
	go func() { done <- feed(t, c.EP.AudioSink(), 50, 0, 440) }()
	var pcm []int16
	buf := make([]int16, k.maxFrame)
	var last *rtp.Header
	for len(pcm) < 45*k.rate/50 {
		p, err := c.Peer.ReadRTP(maxWait)
		if err != nil {
			t.Fatalf("after %d samples: %v", len(pcm), err)
		}
		if p.PayloadType != c.PT {
			continue
		}
		// One stream: the next sequence number, 20 ms later in RTP time
		// (or, after the writer paused 60 ms or more, a new talkspurt: the
		// marker, and the timestamp moved on by whole frames).
		if last != nil {
			d := p.Timestamp - last.Timestamp
			if p.SequenceNumber != last.SequenceNumber+1 || p.SSRC != last.SSRC ||
				(d != k.ticks && (!p.Marker || d%k.ticks != 0 || int32(d) < 0)) {
				t.Errorf("packet seq %d ts %d ssrc %x marker %v after seq %d ts %d ssrc %x", p.SequenceNumber, p.Timestamp,
					p.SSRC, p.Marker, last.SequenceNumber, last.Timestamp, last.SSRC)
			}
		}
		h := p.Header
		last = &h
		n, err := k.dec.Decode(buf, p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		pcm = append(pcm, buf[:n]...)
	}
	<-done
	expectTone(t, "endpoint -> peer", pcm, k.rate, 440)
}

func dtmfIn(t *testing.T, c Call) {
	h := rtp.Header{PayloadType: c.TEPT, Timestamp: 123456, Marker: true}
	var pl [4]byte
	clock := c.Codec.Clock()
	step := uint16(clock / 20) // 50 ms
	for d := step; d <= 2*step; d += step {
		media.DTMFEvent{Event: 5, Volume: 10, Duration: d}.Marshal(pl[:])
		if err := c.Peer.WriteRTP(&h, pl[:]); err != nil {
			t.Fatal(err)
		}
		h.Marker = false
		time.Sleep(50 * time.Millisecond)
	}
	for range 3 {
		media.DTMFEvent{Event: 5, End: true, Volume: 10, Duration: 2 * step}.Marshal(pl[:])
		if err := c.Peer.WriteRTP(&h, pl[:]); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-c.EP.Events():
		if ev.Kind != media.EventDTMF || ev.Digit != '5' || ev.Duration != 100*time.Millisecond {
			t.Fatalf("event %+v, want digit 5 for 100 ms", ev)
		}
	case <-time.After(maxWait):
		t.Fatal("no digit")
	}
}

func dtmfOut(t *testing.T, c Call) {
	// Audio first, so the event's packets must share its SSRC and sequence.
	feed(t, c.EP.AudioSink(), 3, 0, 440)
	if err := c.EP.SendDTMF('7', 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var ssrc uint32
	var seq uint16
	var events, ends int
	for ends < 3 {
		p, err := c.Peer.ReadRTP(maxWait)
		if err != nil {
			t.Fatalf("after %d events: %v", events, err)
		}
		if ssrc != 0 && (p.SSRC != ssrc || p.SequenceNumber != seq+1) {
			t.Errorf("packet ssrc %x seq %d after ssrc %x seq %d", p.SSRC, p.SequenceNumber, ssrc, seq)
		}
		ssrc, seq = p.SSRC, p.SequenceNumber
		if p.PayloadType != c.TEPT {
			continue
		}
		ev, err := media.ParseDTMF(p.Payload)
		if err != nil || ev.Event != 7 {
			t.Fatalf("event %+v, %v", ev, err)
		}
		if events == 0 && !p.Marker {
			t.Error("the event's first packet has no marker")
		}
		events++
		if ev.End {
			ends++
		}
	}
	if events != 5 { // 60 ms: updates at 0 and 50 ms, then three ends
		t.Errorf("%d event packets, want 5", events)
	}
}

// latency bridges the endpoint to a phone leg (rtpep, PCMU) as b2bua
// links legs, and measures how long a tone's onset takes from the
// sender's packet to the first loud packet at the receiver, per
// direction: the media path's added latency plus two loopback hops. The
// bound is generous for a loaded CI machine; BENCHMARKS.md carries the
// figures under load.
func latency(t *testing.T, c Call) {
	phone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	p, err := rtpep.New(rtpep.Config{IP: "127.0.0.1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n",
		phone.LocalAddr().(*net.UDPAddr).Port)
	if _, err := p.Answer(context.Background(), []byte(offer)); err != nil {
		t.Fatal(err)
	}
	if c.EP.AudioSink().Rate() != 8000 {
		if err := c.EP.SetRate(8000); err != nil {
			t.Fatal(err)
		}
	}
	c.EP.SetAudioOutput(media.NewGate(p.AudioSink()))
	p.SetAudioOutput(media.NewGate(c.EP.AudioSink()))
	phoneSide := Peer(&udpPeer{conn: phone, dst: p.LocalAddr(), ssrc: 0x5eed})

	k, pc := newCoder(t, c.Codec), newCoder(t, media.CodecPCMU)
	heard := firstLoud(phoneSide, pc, 0)
	sent := sendTone(t, c, k, 60, 50, 1000)
	toPhone := wait(t, heard, sent)

	heard = firstLoud(c.Peer, k, c.PT)
	sent = sendTone(t, Call{Peer: phoneSide, PT: 0}, pc, 60, 50, 1000)
	toPeer := wait(t, heard, sent)
	t.Logf("added latency, onset to onset: endpoint's peer -> phone %v, phone -> endpoint's peer %v (%s)",
		toPhone, toPeer, c.EP)
	for _, d := range []time.Duration{toPhone, toPeer} {
		if d < 0 || d > 40*time.Millisecond {
			t.Errorf("latency %v, want under 40 ms (on arrival, no playout clock)", d)
		}
	}
}

// firstLoud reads packets of pt from peer, as they arrive, until one
// decodes above -30 dBFS, and sends when it arrived (zero when none came).
func firstLoud(peer Peer, k coder, pt uint8) <-chan time.Time {
	at := make(chan time.Time, 1)
	go func() {
		defer close(at)
		buf := make([]int16, k.maxFrame)
		for {
			p, err := peer.ReadRTP(2 * maxWait)
			if err != nil {
				return
			}
			now := time.Now()
			if p.PayloadType != pt {
				continue
			}
			if n, err := k.dec.Decode(buf, p.Payload); err == nil && audiotest.RMSdBFS(buf[:n]) > -30 {
				at <- now
				return
			}
		}
	}()
	return at
}

// wait returns how long after sent the loud packet arrived.
func wait(t *testing.T, heard <-chan time.Time, sent time.Time) time.Duration {
	t.Helper()
	at, ok := <-heard
	if !ok {
		t.Fatal("the tone never arrived")
	}
	return at.Sub(sent)
}

// udpPeer is a phone: a UDP socket sending to an rtpep endpoint.
type udpPeer struct {
	conn *net.UDPConn
	dst  *net.UDPAddr
	ssrc uint32
	seq  uint16
	buf  [1500]byte
}

// NewUDPPeer is a phone's socket sending to dst.
func NewUDPPeer(conn *net.UDPConn, dst *net.UDPAddr) Peer {
	return &udpPeer{conn: conn, dst: dst, ssrc: 0x9e5}
}

func (u *udpPeer) WriteRTP(h *rtp.Header, payload []byte) error {
	h.Version, h.SSRC, h.SequenceNumber = 2, u.ssrc, u.seq
	u.seq++
	n, err := h.MarshalTo(u.buf[:])
	if err != nil {
		return err
	}
	n += copy(u.buf[n:], payload)
	_, err = u.conn.WriteToUDP(u.buf[:n], u.dst)
	return err
}

func (u *udpPeer) ReadRTP(d time.Duration) (rtp.Packet, error) {
	var p rtp.Packet
	buf := make([]byte, 1500)
	deadline := time.Now().Add(d)
	for {
		if err := u.conn.SetReadDeadline(deadline); err != nil {
			return p, err
		}
		n, err := u.conn.Read(buf)
		if err != nil {
			return p, err
		}
		if p.Unmarshal(buf[:n]) == nil {
			return p, nil
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(maxWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ErrTimeout is what a Peer's ReadRTP may return when nothing came in time.
var ErrTimeout = errors.New("mediatest: no packet in time")
