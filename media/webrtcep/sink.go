package webrtcep

import (
	"fmt"
	"strings"
	"time"

	"github.com/softswitch/softswitch/media"
)

// audioSink is the Endpoint seen as its send sink.
type audioSink Endpoint

var (
	_ media.Sink        = (*audioSink)(nil)
	_ media.PayloadSink = (*audioSink)(nil)
)

// Rate is the endpoint's rate for Opus (and before negotiation), 8000
// for G.711.
func (s *audioSink) Rate() int {
	e := (*Endpoint)(s)
	e.tx.mu.Lock()
	k := e.tx.ch.kind
	e.tx.mu.Unlock()
	if k == kindNone {
		return int(e.rate.Load())
	}
	return e.pcmRate(k)
}

// String describes the send pipeline, e.g. "Opus(encode,8k) -> SRTP".
func (s *audioSink) String() string {
	e := (*Endpoint)(s)
	e.tx.mu.Lock()
	defer e.tx.mu.Unlock()
	switch e.tx.ch.kind {
	case kindNone:
		return "SRTP(unnegotiated)"
	case kindOpus:
		return fmt.Sprintf("Opus(encode,%dk) -> SRTP(pt=%d)", e.tx.opusRate/1000, e.tx.ch.pt)
	}
	return fmt.Sprintf("%s(encode) -> SRTP(pt=%d)", e.tx.ch.kind, e.tx.ch.pt)
}

// WriteFrame encodes one 20 ms frame and sends it. Frames written before
// the transport is up, on hold or during a DTMF event are dropped.
func (s *audioSink) WriteFrame(pcm []int16) error {
	e := (*Endpoint)(s)
	now := e.since()
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok, err := e.sendable(now); !ok {
		return err
	}
	var n int
	var err error
	switch t.ch.kind {
	case kindOpus:
		if len(pcm) != t.opusRate/50 {
			return fmt.Errorf("webrtc write frame: %d samples at %d Hz: %w", len(pcm), t.opusRate, ErrFrameSize)
		}
		n, err = t.opus.Encode(t.buf[:], pcm)
	case kindPCMU, kindPCMA:
		if len(pcm) != g711Rate/50 {
			return fmt.Errorf("webrtc write frame: %d samples at %d Hz: %w", len(pcm), g711Rate, ErrFrameSize)
		}
		enc := t.pcmu
		if t.ch.kind == kindPCMA {
			enc = t.pcma
		}
		n, err = enc.Encode(t.buf[:], pcm)
	}
	if err != nil {
		return fmt.Errorf("webrtc write frame: %w", err)
	}
	if err := t.sendAudio(n, t.frameTicks()); err != nil {
		e.stats.sendErrors.Add(1)
		return nil // the transport drops while not connected; not the caller's problem
	}
	e.stats.packetsSent.Add(1)
	return nil
}

// WritePayload sends a payload already encoded with codec when that is
// the negotiated codec; otherwise it returns false.
func (s *audioSink) WritePayload(codec string, payload []byte) (bool, error) {
	e := (*Endpoint)(s)
	now := e.since()
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ch.kind == kindNone || !strings.EqualFold(codec, t.ch.kind.String()) || len(payload) > len(t.buf) {
		return false, nil
	}
	if ok, err := e.sendable(now); !ok {
		return true, err
	}
	ticks := uint32(len(payload)) // G.711: one byte per sample
	if t.ch.kind == kindOpus {
		ticks = opusTicks(payload)
	}
	n := copy(t.buf[:], payload)
	if err := t.sendAudio(n, ticks); err != nil {
		e.stats.sendErrors.Add(1)
		return true, nil
	}
	e.stats.packetsSent.Add(1)
	return true, nil
}

// sendable advances the clock and reports whether an audio frame may be
// sent now; when not, the frame is counted as dropped. e.tx.mu is held.
func (e *Endpoint) sendable(now time.Duration) (bool, error) {
	t := &e.tx
	switch {
	case e.closed.Load():
		return false, fmt.Errorf("webrtc write frame: %w", ErrClosed)
	case !t.on || t.w == nil || t.ch.kind == kindNone:
		e.stats.framesDropped.Add(1)
		return false, nil
	case t.inEvent:
		t.last = now
		e.stats.framesDropped.Add(1)
		return false, nil
	}
	t.advance(now)
	return true, nil
}

// opusTicks returns the duration of an Opus packet in 48 kHz ticks from
// its TOC byte (RFC 6716 §3.1), 960 (20 ms) when it cannot tell.
func opusTicks(p []byte) uint32 {
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
