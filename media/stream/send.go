package stream

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs"
	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
)

const (
	hdrSize = 12 // RTP header without CSRC or extension: what we send
	// gapForMarker is the pause in written frames after which the next
	// packet starts a new talkspurt (marker bit, timestamp jumps by the pause).
	gapForMarker = 3 * media.FrameDuration
)

// Send is what a stream sends with, from the negotiation.
type Send struct {
	Codec   media.Codec
	PT      uint8  // the codec's payload type for the peer
	TE      int    // the peer's telephone-event payload type, -1: none
	TEClock uint32 // telephone-event's clock rate
}

// sender is the send path: one SSRC whose sequence and timestamp space
// audio and telephone-event packets share.
type sender struct {
	mu sync.Mutex

	on    bool          // the direction lets us send and the peer can be reached
	send  Send          // Codec is CodecNone before negotiation
	takes atomic.Uint32 // send.Codec, read without the lock by Takes

	opus       *opus.Encoder // at opusRate, created on first use
	opusRate   int
	pcmu, pcma codecs.Encoder
	loss       int // the peer's last reported loss, percent, as the Opus encoder's FEC follows it
	lossQuiet  int // reports of no loss in a row since FEC came on

	hdr        rtp.Header
	ts         uint32        // timestamp of the next audio frame
	started    bool          // a frame was sent since the stream (re)started
	marker     bool          // the next audio packet starts a talkspurt
	last       time.Duration // when the clock was last advanced
	inEvent    bool          // a DTMF event is playing: audio is suppressed
	eventStart time.Duration

	// buf is the packet being built. room sizes it: a stream holds what
	// its payloads need (a G.711 stream 256 bytes), not MaxPacket.
	buf []byte
}

// sendBufMin is the smallest packet buffer: a 20 ms G.711 frame and its
// header fit.
const sendBufMin = 256

// room returns the packet buffer with room for the header and n payload
// bytes (hdrSize+n <= MaxPacket). The buffer grows, by doubling up to
// MaxPacket, the first time a larger packet is built, so a steady stream
// allocates nothing. t.mu is held.
func (t *sender) room(n int) []byte {
	if need := hdrSize + n; len(t.buf) < need {
		size := max(sendBufMin, 2*len(t.buf))
		for size < need {
			size *= 2
		}
		t.buf = make([]byte, min(size, MaxPacket))
	}
	return t.buf
}

func (t *sender) init() {
	t.on = true
	t.send.TE = -1
	t.pcmu, _ = g711.NewEncoder(g711.PCMU) // the names are valid
	t.pcma, _ = g711.NewEncoder(g711.PCMA)
	t.hdr.Version = 2
	t.hdr.SSRC = rand.Uint32()
	t.hdr.SequenceNumber = uint16(rand.Uint32())
	t.ts = rand.Uint32()
}

// SetSend installs the codec and payload types we send with. The
// timestamp and sequence spaces go on: a codec change starts a talkspurt.
func (s *Stream) SetSend(snd Send) {
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if snd.Codec != t.send.Codec {
		t.started = false
	}
	t.send = snd
	t.takes.Store(uint32(snd.Codec))
}

// SendCodec returns the codec we send, CodecNone before negotiation.
func (s *Stream) SendCodec() media.Codec { return media.Codec(s.tx.takes.Load()) }

// SendInfo returns what we send with.
func (s *Stream) SendInfo() Send {
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	return s.tx.send
}

// SetSending tells whether the direction lets us send and the peer can be
// reached; frames written meanwhile are dropped. Resuming starts a talkspurt.
func (s *Stream) SetSending(on bool) {
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if on && !t.on {
		t.started = false
	}
	t.on = on
}

// SetSSRC sets our SSRC (pion chooses it for a WebRTC track).
func (s *Stream) SetSSRC(ssrc uint32) {
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	s.tx.hdr.SSRC = ssrc
}

// SSRC returns our SSRC.
func (s *Stream) SSRC() uint32 {
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	return s.tx.hdr.SSRC
}

// AudioSink returns the sink whose frames are encoded with the send codec
// and sent; it also takes payloads already in that codec.
func (s *Stream) AudioSink() media.Sink { return (*audioSink)(s) }

// audioSink is the Stream seen as its send sink.
type audioSink Stream

var (
	_ media.Sink        = (*audioSink)(nil)
	_ media.PayloadSink = (*audioSink)(nil)
)

// Rate is 8000 for G.711, the stream's rate for Opus and before negotiation.
func (a *audioSink) Rate() int {
	s := (*Stream)(a)
	if s.SendCodec().G711() {
		return 8000
	}
	return int(s.rate.Load())
}

// String describes the send pipeline, e.g. "Opus(encode,8k) -> SRTP(pt=111)".
func (a *audioSink) String() string {
	s := (*Stream)(a)
	snd := s.SendInfo()
	switch snd.Codec {
	case media.CodecNone:
		return s.name + "(unnegotiated)"
	case media.CodecOpus:
		return fmt.Sprintf("Opus(encode,%dk) -> %s(pt=%d)", s.rate.Load()/1000, s.name, snd.PT)
	}
	return fmt.Sprintf("%s(encode) -> %s(pt=%d)", snd.Codec, s.name, snd.PT)
}

// WriteFrame encodes one 20 ms frame and sends it. Frames written while
// we may not send (no codec or peer yet, hold, a DTMF event) are dropped.
func (a *audioSink) WriteFrame(pcm []int16) error {
	s := (*Stream)(a)
	now := s.since()
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok, err := s.sendable(now); !ok {
		return err
	}
	var enc codecs.Encoder
	rate := 8000
	switch t.send.Codec {
	case media.CodecOpus:
		rate = int(s.rate.Load())
		if t.opus == nil || t.opusRate != rate {
			e, err := opus.NewEncoder(opus.Config{Rate: rate})
			if err == nil {
				err = e.SetLoss(t.loss)
			}
			if err != nil {
				return fmt.Errorf("write frame: opus encoder: %w", err)
			}
			t.opus, t.opusRate = e, rate
		}
		enc = t.opus
	case media.CodecPCMU:
		enc = t.pcmu
	default:
		enc = t.pcma
	}
	if len(pcm) != rate/50 {
		return fmt.Errorf("write frame: %d samples at %d Hz: %w", len(pcm), rate, ErrFrameSize)
	}
	most := len(pcm) // G.711: a byte per sample
	if t.send.Codec == media.CodecOpus {
		most = MaxPacket - hdrSize
	}
	n, err := enc.Encode(t.room(most)[hdrSize:], pcm)
	if err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	s.sendAudio(n, t.send.Codec.Clock()/50)
	return nil
}

// Takes reports whether WritePayload takes codec c: it is the send codec.
func (a *audioSink) Takes(c media.Codec) bool {
	return c != media.CodecNone && media.Codec(a.tx.takes.Load()) == c
}

// WritePayload sends a payload already encoded with the send codec (a
// relay); it returns false for another codec.
func (a *audioSink) WritePayload(c media.Codec, payload []byte) (bool, error) {
	s := (*Stream)(a)
	if !a.Takes(c) || len(payload) > MaxPacket-hdrSize {
		return false, nil
	}
	now := s.since()
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.send.Codec != c {
		return false, nil
	}
	if ok, err := s.sendable(now); !ok {
		return true, err
	}
	ticks := uint32(len(payload)) // G.711: one byte per sample
	if c == media.CodecOpus {
		ticks = OpusTicks(payload)
	}
	n := copy(t.room(len(payload))[hdrSize:], payload)
	s.sendAudio(n, ticks)
	return true, nil
}

// sendable advances the clock and reports whether an audio frame may be
// sent now; when not, the frame is counted as dropped. t.mu is held.
func (s *Stream) sendable(now time.Duration) (bool, error) {
	t := &s.tx
	switch {
	case s.closed.Load():
		return false, fmt.Errorf("write frame: %w", s.errClosed)
	case !t.on || t.send.Codec == media.CodecNone:
		s.stats.framesDropped.Add(1)
		return false, nil
	case t.inEvent:
		t.last = now
		s.stats.framesDropped.Add(1)
		return false, nil
	}
	t.advance(now)
	return true, nil
}

// advance moves the timestamp clock to now: after a pause in the stream
// it jumps by the pause and marks a new talkspurt. t.mu is held.
func (t *sender) advance(now time.Duration) {
	step := t.send.Codec.Clock() / 50
	if gap := now - t.last; t.last > 0 && gap >= gapForMarker {
		frames := (gap + media.FrameDuration/2) / media.FrameDuration
		t.ts += uint32(frames-1) * step
		t.marker = true
	}
	if !t.started {
		t.started, t.marker = true, true
	}
	t.last = now
}

// sendAudio sends the n payload bytes in t.buf as the next audio packet,
// covering ticks of the RTP clock. t.mu is held.
func (s *Stream) sendAudio(n int, ticks uint32) {
	t := &s.tx
	ts, marker := t.ts, t.marker
	t.ts += ticks
	t.marker = false
	s.sendPacket(t.send.PT, ts, marker, n)
}

// sendPacket sends the n payload bytes in t.buf (sized by room) with this
// header. A
// transport that cannot send yet (no DTLS, no address) counts an error:
// that is not the writer's problem. t.mu is held.
func (s *Stream) sendPacket(pt uint8, ts uint32, marker bool, n int) {
	t := &s.tx
	t.hdr.PayloadType, t.hdr.Timestamp, t.hdr.Marker = pt, ts, marker
	if _, err := t.hdr.MarshalTo(t.buf[:hdrSize]); err != nil {
		s.stats.sendErrors.Add(1)
		return
	}
	err := s.tr.SendRTP(&t.hdr, t.buf[:hdrSize+n], t.buf[hdrSize:hdrSize+n])
	t.hdr.SequenceNumber++
	if err != nil {
		s.stats.sendErrors.Add(1)
		return
	}
	s.stats.packetsSent.Add(1)
	s.stats.octetsSent.Add(uint64(n))
	s.firstOut.Mark()
}

// OpusTicks returns the duration of an Opus packet in 48 kHz ticks from
// its TOC byte (RFC 6716 §3.1), 960 (20 ms) when it cannot tell.
func OpusTicks(p []byte) uint32 {
	if len(p) == 0 {
		return 960
	}
	toc := p[0]
	cfg := toc >> 3
	var frame uint32 // 48 kHz ticks per frame
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]uint32{480, 960, 1920, 2880}[cfg&3]
	case cfg < 16: // Hybrid: 10, 20 ms
		frame = [2]uint32{480, 960}[cfg&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]uint32{120, 240, 480, 960}[cfg&3]
	}
	switch toc & 3 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	}
	if len(p) < 2 {
		return 960
	}
	return uint32(p[1]&0x3f) * frame
}
